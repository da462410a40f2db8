#!/bin/sh
# Runs the standard benchmark set against a fresh server and prints one
# summary table, then the server's peak memory.
#
# BENCH_TARGET chooses the server:
#   basalt     (default) bin/basalt server, built from this tree
#   reference  the leading Go erasure-coded S3 server (MinIO, at the
#              version below, built from the Go module proxy into
#              bin/reference once), on 4 directories at 2 data + 2 parity:
#              the same disks, redundancy and client as Basalt's run, so
#              the two tables compare on this machine
#
# The server runs on a free 127.0.0.1 port with its data in a temporary
# folder, both removed on exit (also on Ctrl-C or failure). The set, all at
# concurrency 8 (BENCH_CONCURRENCY) for BENCH_DURATION each (default 30s,
# after a 2s warm-up):
#
#   put-1MiB   PUT of 1 MiB objects
#   get-1MiB   GET of 1 MiB objects (64 prepared)
#   put-4KiB   PUT of 4 KiB objects
#   get-4KiB   GET of 4 KiB objects (1000 prepared)
#   list-2000  LIST of 2,000 objects in pages of 1000
#   mixed-1MiB 45% get, 30% stat, 15% put, 10% delete on 1 MiB objects
#
# Each run removes its objects afterwards. Reports are kept in
# BENCH_OUT (default bin/bench, or bin/bench-reference), as JSON and HTML
# per workload. `make bench-compare` runs both and prints the ratios.
set -eu

cd "$(dirname "$0")/.."
target=${BENCH_TARGET:-basalt}
duration=${BENCH_DURATION:-30s}
concurrency=${BENCH_CONCURRENCY:-8}
reference_version=v0.0.0-20260212201848-7aac2a2c5b7c
case "$target" in
basalt) out=${BENCH_OUT:-bin/bench} ;;
reference) out=${BENCH_OUT:-bin/bench-reference} ;;
*) echo "bench: BENCH_TARGET is basalt or reference, not '$target'" >&2; exit 2 ;;
esac

echo "bench: building bin/basalt"
go build -o bin/basalt ./cmd/basalt
if [ "$target" = reference ] && ! go version -m bin/reference/minio 2>/dev/null | grep -q "$reference_version"; then
	echo "bench: building the reference server (github.com/minio/minio@$reference_version) into bin/reference"
	GOBIN="$PWD/bin/reference" GOFLAGS= go install "github.com/minio/minio@$reference_version"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/basalt-bench.XXXXXX")
server_pid=""
cleanup() {
	if [ -n "$server_pid" ]; then
		kill -TERM "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bench="bin/basalt bench"

access=benchroot
secret=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
log="$work/server.log"
addr=""
if [ "$target" = basalt ]; then
	BASALT_ROOT_USER=$access BASALT_ROOT_PASSWORD=$secret \
		bin/basalt server --data "$work/data" --address 127.0.0.1:0 >"$work/server.out" 2>"$log" &
	server_pid=$!
	health=/health/ready
else
	# A free port: bind port 0, note it, let it go.
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	addr=127.0.0.1:$port
	# MINIO_CI_CD lets it use directories on the root disk.
	MINIO_ROOT_USER=$access MINIO_ROOT_PASSWORD=$secret MINIO_STORAGE_CLASS_STANDARD=EC:2 MINIO_CI_CD=1 \
		bin/reference/minio server --quiet --address "$addr" --console-address 127.0.0.1:0 \
		"$work/d1" "$work/d2" "$work/d3" "$work/d4" >"$work/server.out" 2>"$log" &
	server_pid=$!
	health=/minio/health/ready
fi

# Basalt's ready line names the port the server took; then wait for the
# health check to answer.
tries=0
until [ -n "$addr" ] && curl -sf "http://$addr$health" >/dev/null 2>&1; do
	if ! kill -0 "$server_pid" 2>/dev/null; then
		echo "bench: server exited:" >&2
		cat "$log" "$work/server.out" >&2
		exit 1
	fi
	[ -n "$addr" ] || addr=$(sed -n 's/.*msg="basalt server ready" address=\([^ ]*\).*/\1/p' "$log" | head -n 1)
	tries=$((tries + 1))
	if [ "$tries" -gt 300 ]; then
		echo "bench: server not ready after 60s" >&2
		cat "$log" "$work/server.out" >&2
		exit 1
	fi
	sleep 0.2
done
case "$addr" in
127.0.0.1:*) ;;
*) echo "bench: refusing to run against '$addr'" >&2; exit 1 ;;
esac
echo "bench: server pid $server_pid on $addr; $duration per workload, concurrency $concurrency"

mkdir -p "$out"
rm -f "$out"/*.json "$out"/*.html
failed=""
run() {
	name=$1
	shift
	echo "bench: $name"
	# The JSON file is the proof that the run completed: the fallback
	# binary cannot report failure through its exit status.
	AWS_ACCESS_KEY_ID=$access AWS_SECRET_ACCESS_KEY=$secret \
		$bench s3 "$@" --endpoint "$addr" --bucket basalt-bench --label "$name" \
		--concurrency "$concurrency" --duration "$duration" --cleanup \
		--json "$out/$name.json" --html "$out/$name.html" >"$work/$name.txt" || true
	if [ -f "$out/$name.json" ]; then
		sed 's/^/  /' "$work/$name.txt"
	else
		echo "bench: $name failed" >&2
		failed="$failed $name"
	fi
}

run put-1MiB put --size 1MiB
run get-1MiB get --size 1MiB --objects 64
run put-4KiB put --size 4KiB
run get-4KiB get --size 4KiB --objects 1000
run list-2000 list --size 4KiB --objects 2000 --list-page 1000
run mixed-1MiB mixed --size 1MiB --objects 200 --mix get=45,stat=30,put=15,delete=10

rss=$(sed -n 's/^VmHWM:[[:space:]]*//p' "/proc/$server_pid/status" 2>/dev/null || true)

echo
echo "basalt bench: standard set against $target, $duration each, concurrency $concurrency, server on $addr"
set --
for name in put-1MiB get-1MiB put-4KiB get-4KiB list-2000 mixed-1MiB; do
	[ -f "$out/$name.json" ] && set -- "$@" "$out/$name.json"
done
if [ $# -gt 0 ]; then
	$bench summary "$@"
fi
echo "server peak RSS (VmHWM): ${rss:-unknown}"
echo "reports: $out/*.json, $out/*.html"

if [ -n "$failed" ]; then
	echo "bench: failed:$failed" >&2
	exit 1
fi
