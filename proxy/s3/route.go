package s3

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Names of the S3 operations, as AWS names them; used for dispatch, logs
// and metrics.
const (
	apiListBuckets             = "ListBuckets"
	apiCreateBucket            = "CreateBucket"
	apiDeleteBucket            = "DeleteBucket"
	apiHeadBucket              = "HeadBucket"
	apiGetBucketLocation       = "GetBucketLocation"
	apiListObjects             = "ListObjects"
	apiListObjectsV2           = "ListObjectsV2"
	apiListObjectVersions      = "ListObjectVersions"
	apiListMultipartUploads    = "ListMultipartUploads"
	apiDeleteObjects           = "DeleteObjects"
	apiGetBucketVersioning     = "GetBucketVersioning"
	apiPutBucketVersioning     = "PutBucketVersioning"
	apiPutObjectLockConfig     = "PutObjectLockConfiguration"
	apiGetObjectAttributes     = "GetObjectAttributes"
	apiPutObjectRetention      = "PutObjectRetention"
	apiGetObjectRetention      = "GetObjectRetention"
	apiPutObjectLegalHold      = "PutObjectLegalHold"
	apiGetObjectLegalHold      = "GetObjectLegalHold"
	apiGetBucketPolicy         = "GetBucketPolicy"
	apiGetBucketTagging        = "GetBucketTagging"
	apiGetBucketCors           = "GetBucketCors"
	apiGetBucketLifecycle      = "GetBucketLifecycleConfiguration"
	apiGetBucketEncryption     = "GetBucketEncryption"
	apiPutBucketEncryption     = "PutBucketEncryption"
	apiDeleteBucketEncryption  = "DeleteBucketEncryption"
	apiGetObjectLockConfig     = "GetObjectLockConfiguration"
	apiGetBucketACL            = "GetBucketAcl"
	apiGetBucketWebsite        = "GetBucketWebsite"
	apiGetBucketReplication    = "GetBucketReplication"
	apiGetPublicAccessBlock    = "GetPublicAccessBlock"
	apiGetOwnershipControls    = "GetBucketOwnershipControls"
	apiGetBucketNotification   = "GetBucketNotificationConfiguration"
	apiGetBucketLogging        = "GetBucketLogging"
	apiGetBucketRequestPayment = "GetBucketRequestPayment"
	apiGetBucketAccelerate     = "GetBucketAccelerateConfiguration"
	apiDeleteBucketSubresource = "DeleteBucketConfiguration"
	apiPutObject               = "PutObject"
	apiGetObject               = "GetObject"
	apiHeadObject              = "HeadObject"
	apiDeleteObject            = "DeleteObject"
	apiCopyObject              = "CopyObject"
	apiGetObjectACL            = "GetObjectAcl"
	apiGetObjectTagging        = "GetObjectTagging"
	apiDeleteObjectTagging     = "DeleteObjectTagging"
	apiCreateMultipartUpload   = "CreateMultipartUpload"
	apiUploadPart              = "UploadPart"
	apiUploadPartCopy          = "UploadPartCopy"
	apiCompleteMultipartUpload = "CompleteMultipartUpload"
	apiAbortMultipartUpload    = "AbortMultipartUpload"
	apiListParts               = "ListParts"
	apiPostObject              = "PostObject"
	apiNotImplemented          = "NotImplemented"
	apiUnknown                 = "Unknown"
)

// subresources are the query parameters that select an S3 sub-resource or
// operation. Any of them that route does not handle is NotImplemented; other
// query parameters (such as the SDKs' x-id) are ignored.
var subresources = map[string]bool{
	"accelerate": true, "acl": true, "analytics": true, "attributes": true, "cors": true,
	"delete": true, "encryption": true, "intelligent-tiering": true, "inventory": true,
	"legal-hold": true, "lifecycle": true, "location": true, "logging": true, "metrics": true,
	"metadataTable": true, "notification": true, "object-lock": true, "ownershipControls": true,
	"policy": true, "policyStatus": true, "publicAccessBlock": true, "replication": true,
	"requestPayment": true, "restore": true, "retention": true, "select": true, "session": true,
	"tagging": true, "torrent": true, "uploadId": true, "uploads": true, "versioning": true,
	"versions": true, "website": true, "renameObject": true, "append": true,
}

// target is what a request addresses and which operation it asks for.
type target struct {
	Bucket string
	Key    string
	API    string
}

// hostBucket returns the bucket named by a virtual-host-style Host header
// ("b.example.com:8080" with domain "example.com" gives "b"), or "" for
// path-style addressing.
func hostBucket(host string, domains []string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, d := range domains {
		d = strings.ToLower(strings.TrimSuffix(d, "."))
		if d != "" && len(host) > len(d)+1 && strings.HasSuffix(host, "."+d) {
			return host[:len(host)-len(d)-1]
		}
	}
	return ""
}

// splitPath splits a request path into bucket and key. With a bucket from
// the Host header the whole path after the first "/" is the key. The key is
// kept byte for byte: "//", "..", a trailing "/" are all part of it.
func splitPath(path, vhostBucket string) (bucket, key string) {
	p := strings.TrimPrefix(path, "/")
	if vhostBucket != "" {
		return vhostBucket, p
	}
	bucket, key, _ = strings.Cut(p, "/")
	return bucket, key
}

// resolve finds the operation a request asks for.
func resolve(method, path, host string, query url.Values, header http.Header, domains []string) target {
	bucket, key := splitPath(path, hostBucket(host, domains))
	t := target{Bucket: bucket, Key: key}
	has := func(name string) bool { _, ok := query[name]; return ok }
	unknownSub := func(handled ...string) bool {
		for name := range query {
			if !subresources[name] {
				continue
			}
			found := false
			for _, h := range handled {
				if h == name {
					found = true
					break
				}
			}
			if !found {
				return true
			}
		}
		return false
	}
	switch {
	case method == http.MethodOptions:
		t.API = apiPreflight
	case bucket == "":
		t.API = apiListBuckets
		if method != http.MethodGet {
			t.API = apiUnknown
		}
	case key == "":
		t.API = resolveBucket(method, query)
		if t.API == apiNotImplemented {
			return t
		}
	default:
		t.API = resolveObject(method, query, header, has)
		switch t.API {
		case apiUploadPart, apiUploadPartCopy:
			if unknownSub("uploadId", "partNumber", "versionId") {
				t.API = apiNotImplemented
			}
		case apiGetObject, apiHeadObject, apiDeleteObject, apiPutObject, apiCopyObject:
			if unknownSub("versionId", "partNumber") {
				t.API = apiNotImplemented
			}
		}
	}
	return t
}

func resolveBucket(method string, query url.Values) string {
	// Exactly one handled subresource or none; more is NotImplemented.
	var sub string
	n := 0
	for name := range query {
		if subresources[name] {
			sub = name
			n++
		}
	}
	if n > 1 {
		return apiNotImplemented
	}
	if api := accessBucketAPI(method, sub); api != "" { // policy, ACL, public access block, ownership (access.go)
		return api
	}
	switch method {
	case http.MethodGet:
		switch sub {
		case "":
			if query.Get("list-type") == "2" {
				return apiListObjectsV2
			}
			return apiListObjects
		case "location":
			return apiGetBucketLocation
		case "uploads":
			return apiListMultipartUploads
		case "versions":
			return apiListObjectVersions
		case "versioning":
			return apiGetBucketVersioning
		case "policy":
			return apiGetBucketPolicy
		case "tagging":
			return apiGetBucketTagging
		case "cors":
			return apiGetBucketCors
		case "lifecycle":
			return apiGetBucketLifecycle
		case "encryption":
			return apiGetBucketEncryption
		case "object-lock":
			return apiGetObjectLockConfig
		case "acl":
			return apiGetBucketACL
		case "website":
			return apiGetBucketWebsite
		case "replication":
			return apiGetBucketReplication
		case "publicAccessBlock":
			return apiGetPublicAccessBlock
		case "ownershipControls":
			return apiGetOwnershipControls
		case "notification":
			return apiGetBucketNotification
		case "logging":
			return apiGetBucketLogging
		case "requestPayment":
			return apiGetBucketRequestPayment
		case "accelerate":
			return apiGetBucketAccelerate
		}
	case http.MethodHead:
		if sub == "" {
			return apiHeadBucket
		}
	case http.MethodPut:
		if sub == "" {
			return apiCreateBucket
		}
		if sub == "versioning" {
			return apiPutBucketVersioning
		}
		if sub == "object-lock" {
			return apiPutObjectLockConfig
		}
		if sub == "encryption" {
			return apiPutBucketEncryption
		}
		if api := configAPI(method, sub); api != "" {
			return api
		}
	case http.MethodDelete:
		if api := configAPI(method, sub); api != "" {
			return api
		}
		switch sub {
		case "":
			return apiDeleteBucket
		case "encryption":
			return apiDeleteBucketEncryption
		case "policy", "website",
			"replication", "publicAccessBlock", "ownershipControls":
			return apiDeleteBucketSubresource
		}
	case http.MethodPost:
		switch sub {
		case "delete":
			return apiDeleteObjects
		case "":
			return apiPostObject
		}
	default:
		return apiUnknown
	}
	return apiNotImplemented
}

func resolveObject(method string, query url.Values, header http.Header, has func(string) bool) string {
	if api := accessObjectAPI(method, has); api != "" { // PutObjectAcl (access.go)
		return api
	}
	copySource := header.Get("X-Amz-Copy-Source") != ""
	switch method {
	case http.MethodPut:
		switch {
		case has("uploadId") || has("partNumber"):
			if copySource {
				return apiUploadPartCopy
			}
			return apiUploadPart
		case has("tagging"):
			return apiPutObjectTagging
		case has("retention"):
			return apiPutObjectRetention
		case has("legal-hold"):
			return apiPutObjectLegalHold
		case has("acl"):
			return apiNotImplemented
		case copySource:
			return apiCopyObject
		}
		return apiPutObject
	case http.MethodGet:
		switch {
		case has("uploadId"):
			return apiListParts
		case has("acl"):
			return apiGetObjectACL
		case has("tagging"):
			return apiGetObjectTagging
		case has("attributes"):
			return apiGetObjectAttributes
		case has("retention"):
			return apiGetObjectRetention
		case has("legal-hold"):
			return apiGetObjectLegalHold
		}
		return apiGetObject
	case http.MethodHead:
		return apiHeadObject
	case http.MethodDelete:
		switch {
		case has("uploadId"):
			return apiAbortMultipartUpload
		case has("tagging"):
			return apiDeleteObjectTagging
		}
		return apiDeleteObject
	case http.MethodPost:
		switch {
		case has("uploads"):
			return apiCreateMultipartUpload
		case has("uploadId"):
			return apiCompleteMultipartUpload
		}
		return apiNotImplemented
	}
	return apiUnknown
}
