#!/bin/sh
# Runs the standard set (scripts/bench.sh) against Basalt, then against the
# reference server on the same machine, and prints the two summaries and
# Basalt's throughput as a multiple of the reference's, workload by
# workload. The machine is the same for both, so the ratios carry over
# where absolute figures do not.
set -eu

cd "$(dirname "$0")/.."
BENCH_TARGET=basalt BENCH_OUT=bin/bench sh scripts/bench.sh | tee bin/bench-basalt.txt
BENCH_TARGET=reference BENCH_OUT=bin/bench-reference sh scripts/bench.sh | tee bin/bench-reference.txt

echo
echo "basalt / reference (ops/s; for list-2000 one op is a page of 1000 objects)"
printf '%12s %12s %12s %8s\n' workload reference basalt ratio
for name in put-1MiB get-1MiB put-4KiB get-4KiB list-2000 mixed-1MiB; do
	a=$(awk -v w="$name" '$1 == w { print $3 }' bin/bench-reference.txt)
	b=$(awk -v w="$name" '$1 == w { print $3 }' bin/bench-basalt.txt)
	if [ -n "$a" ] && [ -n "$b" ]; then
		awk -v w="$name" -v a="$a" -v b="$b" 'BEGIN { printf "%12s %12s %12s %7.2fx\n", w, a, b, (a > 0 ? b / a : 0) }'
	fi
done
a=$(sed -n 's/^server peak RSS (VmHWM): \([0-9]*\) kB/\1/p' bin/bench-reference.txt)
b=$(sed -n 's/^server peak RSS (VmHWM): \([0-9]*\) kB/\1/p' bin/bench-basalt.txt)
if [ -n "$a" ] && [ -n "$b" ]; then
	awk -v a="$a" -v b="$b" 'BEGIN { printf "%12s %9d MB %9d MB %7.2fx\n", "peak RSS", a / 1000, b / 1000, b / a }'
fi
