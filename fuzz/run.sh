#!/bin/sh
# Runs each libFuzzer target for FUZZ_SECONDS (default 60) from its seed
# corpus and prints one line per target: executions and crashes.
#   fuzz/run.sh SEED_DIR TARGET...      (make fuzz calls it so)
# FUZZ_JOBS targets (default: one per CPU) run at once.  New inputs go to
# fuzz/work/<target>/ in the build folder (the seeds in the source tree
# stay as committed); anything that crashed, leaked or hung goes to
# fuzz/crashes/<target>/, and the exit status is then 1.
set -u

seeds=$1
shift
secs=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# One target: its summary line in fuzz/<name>.summary, and on failure the
# end of its log after it.
run_one() {
	t=$1
	name=$(basename "$t")
	work=fuzz/work/$name
	crashes=fuzz/crashes/$name
	log=fuzz/$name.log
	out=fuzz/$name.summary
	mkdir -p "$work" "$crashes"
	"$t" -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$crashes/" "$work" "$seeds/$name" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	found=$(find "$crashes" -type f | wc -l)
	units=$(find "$work" -type f | wc -l)
	printf '%s: %s executions in %ss, %s crashes, %s new corpus inputs\n' \
		"$name" "${execs:-?}" "$secs" "$found" "$units" >"$out"
	if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ]; then
		{
			echo "---- $name failed (exit $rc); the end of $log:"
			tail -n 40 "$log"
			ls "$crashes"
		} >>"$out"
	fi
}

mkdir -p fuzz
running=0
for t in "$@"; do
	run_one "$t" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait
		running=0
	fi
done
wait

status=0
for t in "$@"; do
	out=fuzz/$(basename "$t").summary
	cat "$out"
	grep -q '^---- ' "$out" && status=1
done
exit $status
