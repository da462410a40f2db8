"""Smoke test of a basalt server with boto3.

Reads the endpoint from BASALT_ENDPOINT and the credential from the usual
AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY variables. Exits non-zero on the
first failed check.
"""

import hashlib
import os
import sys

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.client import Config
from botocore.exceptions import ClientError


def check(cond, what):
    if not cond:
        print("FAILED: " + what, file=sys.stderr)
        sys.exit(1)


def main():
    s3 = boto3.client(
        "s3",
        endpoint_url=os.environ["BASALT_ENDPOINT"],
        region_name="us-east-1",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                      retries={"max_attempts": 1}),
    )
    bucket = "boto-bucket"
    s3.create_bucket(Bucket=bucket)
    check(any(b["Name"] == bucket for b in s3.list_buckets()["Buckets"]), "bucket listed")

    body = b"hello from boto3\n" * 1000
    s3.put_object(Bucket=bucket, Key="greeting.txt", Body=body,
                  ContentType="text/plain", Metadata={"lang": "en"})
    head = s3.head_object(Bucket=bucket, Key="greeting.txt")
    check(head["ContentLength"] == len(body), "head length")
    check(head["Metadata"] == {"lang": "en"}, "user metadata: %r" % head["Metadata"])
    got = s3.get_object(Bucket=bucket, Key="greeting.txt")["Body"].read()
    check(got == body, "get returns the bytes put")
    part = s3.get_object(Bucket=bucket, Key="greeting.txt", Range="bytes=0-4")["Body"].read()
    check(part == b"hello", "range get")

    # 20 MiB through the transfer manager: multipart with 8 MiB parts.
    big = hashlib.sha256(b"seed").digest() * (20 * 1024 * 1024 // 32)
    with open("big.bin", "wb") as f:
        f.write(big)
    cfg = TransferConfig(multipart_threshold=8 * 1024 * 1024, multipart_chunksize=8 * 1024 * 1024)
    s3.upload_file("big.bin", bucket, "big.bin", Config=cfg)
    s3.download_file(bucket, "big.bin", "big.back", Config=cfg)
    with open("big.back", "rb") as f:
        check(f.read() == big, "multipart object downloaded intact")
    etag = s3.head_object(Bucket=bucket, Key="big.bin")["ETag"]
    check(etag.strip('"').endswith("-3"), "multipart ETag " + etag)

    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    check(sorted(keys) == ["big.bin", "greeting.txt"], "list: %r" % keys)

    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "greeting.txt"}, ExpiresIn=60)
    import urllib.request
    with urllib.request.urlopen(url) as resp:
        check(resp.read() == body, "presigned GET")

    try:
        s3.get_object(Bucket=bucket, Key="missing")
        check(False, "get of a missing key fails")
    except ClientError as e:
        check(e.response["Error"]["Code"] == "NoSuchKey", "NoSuchKey, got " + e.response["Error"]["Code"])

    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys]})
    check(s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0, "bucket empty after delete_objects")
    s3.delete_bucket(Bucket=bucket)
    print("boto3 smoke: ok")


if __name__ == "__main__":
    main()
