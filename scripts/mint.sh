#!/bin/sh
# Runs minio-go's own functional test suite (functional_tests.go, build tag
# "mint") against a fresh bin/basalt server, and prints its PASS/FAIL/NA
# counts. The suite is taken from the minio-go version in go.mod and built
# in a module of its own. The copy loses its "//go:build mint" line instead
# of being built with -tags mint: with the tag, the file would also join the
# minio-go package it imports (same folder in the module cache), and that
# package would no longer build. It only ever runs with SERVER_ENDPOINT set
# to the local server: without it the suite would go to a public server.
#
# Output: the suite's JSON log in bin/mint.log, the server's in
# bin/mint-server.log. Exit status 1 when any test FAILs.
set -eu

cd "$(dirname "$0")/.."
root=$(pwd)
[ -x bin/basalt ] || { echo "mint: bin/basalt missing: run make build" >&2; exit 1; }

module=github.com/minio/minio-go/v7
version=$(go list -m -f '{{.Version}}' "$module")
src="$(go env GOMODCACHE)/$module@$version/functional_tests.go"
if [ ! -f "$src" ]; then
	go mod download "$module@$version"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/basalt-mint.XXXXXX")
server_pid=""
cleanup() {
	if [ -n "$server_pid" ]; then
		kill -TERM "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

echo "mint: building minio-go $version functional tests"
mkdir "$work/suite"
grep -v '^//go:build mint$' "$src" >"$work/suite/functional_tests.go"
(
	cd "$work/suite"
	export GOWORK=off GOFLAGS=-mod=mod
	go mod init mint >/dev/null 2>&1
	go get "$module@$version" >/dev/null 2>&1
	go mod tidy >/dev/null 2>&1
	go build -o "$work/mint" .
)

access=mintroot
secret=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
log="$work/server.log"
# The suite runs over HTTPS (a self-signed certificate, which it is told
# to accept), so that its SSE-C tests run too; MINT_TLS=0 runs it over HTTP.
tls_args=""
https=0
if [ "${MINT_TLS:-1}" = 1 ]; then
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1 -keyout "$work/key.pem" -out "$work/cert.pem" >/dev/null 2>&1
	tls_args="--tls-cert $work/cert.pem --tls-key $work/key.pem"
	https=1
fi
# shellcheck disable=SC2086 # word splitting of the TLS arguments is wanted
BASALT_ROOT_USER=$access BASALT_ROOT_PASSWORD=$secret \
	bin/basalt server --data "$work/data" --address 127.0.0.1:0 $tls_args >"$work/server.out" 2>"$log" &
server_pid=$!

# Wait for the ready line, which names the port the server took.
endpoint=""
tries=0
while [ -z "$endpoint" ]; do
	if ! kill -0 "$server_pid" 2>/dev/null; then
		echo "mint: server exited:" >&2
		cat "$log" >&2
		exit 1
	fi
	endpoint=$(sed -n 's/.*msg="basalt server ready" address=\([^ ]*\).*/\1/p' "$log" | head -n 1)
	tries=$((tries + 1))
	if [ "$tries" -gt 300 ]; then
		echo "mint: server not ready after 60s" >&2
		exit 1
	fi
	[ -n "$endpoint" ] || sleep 0.2
done
case "$endpoint" in
127.0.0.1:*) ;;
*) echo "mint: refusing to run against '$endpoint'" >&2; exit 1 ;;
esac

echo "mint: running the suite against $endpoint (MINT_MODE=full, HTTPS=$https)"
mkdir -p bin
set +e
(
	cd "$work"
	SERVER_ENDPOINT="$endpoint" ACCESS_KEY="$access" SECRET_KEY="$secret" \
		ENABLE_HTTPS=$https SKIP_CERT_VALIDATION=1 ENABLE_KMS=0 MINT_MODE=full RUN_ON_FAIL=1 \
		timeout 40m ./mint >"$root/bin/mint.log" 2>"$root/bin/mint.stderr"
)
status=$?
set -e
cp "$log" bin/mint-server.log

# Tests that check MinIO's own behaviour where it differs from AWS's, and
# fail against a server that follows AWS (each with the reason):
#   testGetObjectACLContext: expects a non-AWS server to ignore the object
#     ACL "public-read-write" and report "private"; Basalt applies ACLs.
#   testListMultipartUpload: expects uploads of the key equal to key-marker
#     to be listed; AWS lists only keys after key-marker when no
#     upload-id-marker is given, and so does Basalt.
known='testGetObjectACLContext|testListMultipartUpload'

pass=$(grep -c '"status":"PASS"' bin/mint.log || true)
fail=$(grep '"status":"FAIL"' bin/mint.log | grep -Evc "minio-go: ($known)\"" || true)
expected=$(grep '"status":"FAIL"' bin/mint.log | grep -Ec "minio-go: ($known)\"" || true)
na=$(grep -c '"status":"NA"' bin/mint.log || true)
echo "mint: suite exit status $status"
if [ "$fail" -gt 0 ]; then
	echo "mint: failed tests:"
	grep '"status":"FAIL"' bin/mint.log | grep -Ev "minio-go: ($known)\"" |
		sed -n 's/.*"name":"\([^"]*\)".*"function":"\([^"]*\)".*/  \1  \2/p' | sort | uniq
fi
if [ "$expected" -gt 0 ]; then
	echo "mint: expected failures (MinIO-only behaviour, see scripts/mint.sh):"
	grep '"status":"FAIL"' bin/mint.log | grep -E "minio-go: ($known)\"" |
		sed -n 's/.*"name":"\([^"]*\)".*/  \1/p' | sort | uniq -c
fi
echo "mint: PASS $pass  FAIL $fail  NA $na  expected FAIL $expected  (log: bin/mint.log)"
[ "$fail" -eq 0 ]
