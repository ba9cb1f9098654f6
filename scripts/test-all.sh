#!/bin/bash
# The whole test suite, from a clean checkout on Debian 12:
#   sudo ./scripts/test-all.sh
# Installs the packages (scripts/deps.sh), then runs these stages, two or
# three at a time where they share nothing (the machine has 2 CPUs; the
# stages that install into the system run one after the other):
#   werror    build with -Werror, `make check`, then the PAM-stack tests
#             under valgrind
#   asan      build with ASan and UBSan, `make check` again
#   fuzz      each libFuzzer target for FUZZ_SECONDS (60) with clang
#   distcheck `make distcheck` (the suite once more, from the tarball)
#   e2e       as root: installs into the system, drives real clients
#             (tests/e2e/run.sh), undoes it all
#   deb       as root, after e2e: builds the Debian packages, lintian,
#             installs them with apt, pam-auth-update, logs in through
#             common-auth, purges them (tests/deb/run.sh)
# Each stage's output is printed whole when it ends, in this order, with
# how long it took; the run ends with `summary: N passed, N failed, N
# skipped`.  Tests that need root say so and are skipped without it.
# @needs autoreconf make gcc clang valgrind flock
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)
logs=$top/_logs
rm -rf "$logs"
mkdir -p "$logs"

step() { printf '\n==== %s\n' "$*"; }

# Every test's own output (cmocka's result lines among it) goes to the log.
show_logs() {
	local dir=$1 f
	for f in "$dir"/tests/*.log; do
		[ -f "$f" ] || continue
		case "$f" in */test-suite.log) continue ;; esac
		printf -- '---- %s\n' "${f#"$dir"/}"
		cat "$f"
	done
}

# counts DIR: one build's "passed failed skipped", from automake's .trs files.
counts() {
	local dir=$1 p f s
	p=$(cat "$dir"/tests/*.trs 2>/dev/null | grep -c '^:test-result: PASS' || true)
	f=$(cat "$dir"/tests/*.trs 2>/dev/null | grep -cE '^:test-result: (FAIL|ERROR|XPASS)' || true)
	s=$(cat "$dir"/tests/*.trs 2>/dev/null | grep -c '^:test-result: SKIP' || true)
	echo "$p $f $s"
}

# Builds in a directory of its own and runs `make check` there; prints
# the tests' logs and leaves the counts in $logs/NAME.counts.
build_and_check() {
	local name=$1 dir=$2
	shift 2
	rm -rf "$dir"
	mkdir -p "$dir"
	(cd "$dir" && "$top/configure" -q "$@" && make -s -j"$jobs")
	local rc=0
	(cd "$dir" && make -s -j"$jobs" check) || rc=$?
	show_logs "$dir"
	counts "$dir" >"$logs/$name.counts"
	return $rc
}

stage_werror() {
	build_and_check werror "$top/_build" --enable-werror || return 1
	echo "-- valgrind over the PAM-stack tests (the build without sanitizers)"
	if (cd "$top/_build" && make -s valgrind-check >valgrind-check.out 2>&1); then
		grep 'ERROR SUMMARY' "$top/_build/tests/test_pam.valgrind.log"
		echo "1 0 0" >"$logs/valgrind.counts"
	else
		cat "$top/_build/valgrind-check.out"
		echo "valgrind: errors or leaks (see above)"
		echo "0 1 0" >"$logs/valgrind.counts"
		return 1
	fi
}

stage_asan() {
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		build_and_check asan "$top/_build-san" --enable-werror --enable-sanitizers
}

# clang's coverage, ASan and UBSan on lib/ too; each target's executions
# and crashes are printed; a crash fails the run.  One result per target:
# passed when it ran its time with no crash.
stage_fuzz() {
	local rc=0 out=$top/_build-fuzz/fuzz-summary.log
	rm -rf "$top/_build-fuzz"
	mkdir -p "$top/_build-fuzz"
	(cd "$top/_build-fuzz" && "$top/configure" -q CC=clang --enable-fuzzing --enable-werror &&
		make -s -j"$jobs" fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-60}") >"$out" 2>&1 || rc=1
	cat "$out"
	echo "$(grep -c ' executions in .*, 0 crashes,' "$out" || true) \
$(grep -cE ' executions in .*, [1-9][0-9]* crashes,' "$out" || true) 0" >"$logs/fuzz.counts"
	return $rc
}

# Its own copy of the werror build's tree: distcheck builds and tests the
# tarball in a folder of its own.
stage_distcheck() {
	local dir=$top/_build-dist
	rm -rf "$dir"
	mkdir -p "$dir"
	(cd "$dir" && "$top/configure" -q && make -s distcheck >distcheck.log 2>&1) &&
		{ echo "distcheck: passed"; echo "1 0 0" >"$logs/distcheck.counts"; } || {
		tail -n 40 "$dir/distcheck.log"
		echo "distcheck: FAILED"
		echo "0 1 0" >"$logs/distcheck.counts"
		return 1
	}
}

# Installs into the system paths, drives pamtester, oathtool, pyotp,
# zbarimg, sshd and su, and undoes it all; its own build, in _build-e2e.
# One at a time on a machine (flock): two trees tested at once would
# install over each other.
stage_e2e() {
	local out=$logs/e2e.out p f s rc=0
	if [ "$(id -u)" -ne 0 ]; then
		echo "not root: the end-to-end tests are skipped (they need root)"
		echo "0 0 1" >"$logs/e2e.counts"
		return 0
	fi
	E2E_TIMEOUT=900 flock /tmp/pam_totp-system.lock "$top/tests/e2e/run.sh" >"$out" 2>&1 || rc=1
	cat "$out"
	p=$(sed -n 's/^e2e: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$out" | tail -n 1)
	f=$(sed -n 's/^e2e: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$out" | tail -n 1)
	s=$(sed -n 's/^# e2e: \([0-9]*\) skipped$/\1/p' "$out" | tail -n 1)
	if [ -z "$p" ]; then
		echo "e2e: no summary line"
		f=1 rc=1
	fi
	echo "${p:-0} ${f:-0} ${s:-0}" >"$logs/e2e.counts"
	return $rc
}

# Builds the .debs from a clean copy of HEAD (nocheck: make check ran in
# the other stages), installs them with apt, logs in through common-auth,
# purges them and checks common-auth is as it was.  After e2e (both
# install into the system), under the same lock.
stage_deb() {
	local out=$logs/deb.out p f rc=0
	if [ "$(id -u)" -ne 0 ]; then
		echo "not root: the Debian package tests are skipped (they need root)"
		echo "0 0 1" >"$logs/deb.counts"
		return 0
	fi
	flock /tmp/pam_totp-system.lock "$top/tests/deb/run.sh" >"$out" 2>&1 || rc=1
	cat "$out"
	p=$(sed -n 's/^deb: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$out" | tail -n 1)
	f=$(sed -n 's/^deb: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$out" | tail -n 1)
	if [ -z "$p" ]; then
		echo "deb: no summary line"
		f=1 rc=1
	fi
	echo "${p:-0} ${f:-0} 0" >"$logs/deb.counts"
	return $rc
}

# start NAME...: runs stage_NAME (several: one after the other) in the
# background, each one's output to its log.
start() {
	{
		local n t0
		for n in "$@"; do
			t0=$SECONDS
			"stage_$n" >"$logs/$n.log" 2>&1 && echo 0 >"$logs/$n.rc" || echo 1 >"$logs/$n.rc"
			echo "$((SECONDS - t0))" >"$logs/$n.secs"
		done
	} &
}

# finish NAME...: waits for the stages and prints each one's output.
finish() {
	local n
	wait
	for n in "$@"; do
		step "$n ($(cat "$logs/$n.secs") s)"
		cat "$logs/$n.log"
		[ "$(cat "$logs/$n.rc")" = 0 ] || { echo "stage $n failed"; status=1; }
	done
}

status=0
step "dependencies"
if [ "$(id -u)" -eq 0 ]; then
	"$top/scripts/deps.sh" all
else
	echo "not root: assuming the packages of scripts/deps.sh are installed"
fi

step "autoreconf"
autoreconf -fi >/dev/null 2>&1 || autoreconf -fi

start werror
start asan
finish werror asan

start fuzz
start distcheck
start e2e deb
finish fuzz distcheck e2e deb

passed=0 failed=0 skipped=0
for c in "$logs"/*.counts; do
	read -r p f s <"$c"
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
done
step "results"
[ "$status" -eq 0 ] || echo "some tests failed: see the logs above"
[ "$status" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1
echo "summary: $passed passed, $failed failed, $skipped skipped"
exit $status
