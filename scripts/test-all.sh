#!/bin/bash
# The whole test suite, from a clean checkout on Debian 12:
#   sudo ./scripts/test-all.sh
# Installs the packages, builds with -Werror and runs `make check`, then
# builds again with ASan and UBSan and runs the unit tests again, then
# runs each libFuzzer target for FUZZ_SECONDS (60) with clang, then, as
# root, the end-to-end tests (tests/e2e/run.sh: installs into the system,
# drives real clients, undoes it all).  Tests that need root say so and
# are skipped when not run as root.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)

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

# Adds one build's results from automake's .trs files to the totals.
count_results() {
	local dir=$1
	passed=$((passed + $(cat "$dir"/tests/*.trs 2>/dev/null | grep -c '^:test-result: PASS' || true)))
	failed=$((failed + $(cat "$dir"/tests/*.trs 2>/dev/null | grep -cE '^:test-result: (FAIL|ERROR|XPASS)' || true)))
	skipped=$((skipped + $(cat "$dir"/tests/*.trs 2>/dev/null | grep -c '^:test-result: SKIP' || true)))
}

# Builds in a directory of its own and runs `make check` there.
build_and_check() {
	local dir=$1
	shift
	rm -rf "$dir"
	mkdir -p "$dir"
	(cd "$dir" && "$top/configure" -q "$@" && make -s -j"$jobs")
	local rc=0
	(cd "$dir" && make -s -j"$jobs" check) || rc=$?
	show_logs "$dir"
	count_results "$dir"
	return $rc
}

passed=0 failed=0 skipped=0
status=0

step "dependencies"
if [ "$(id -u)" -eq 0 ]; then
	"$top/scripts/deps.sh" all
else
	echo "not root: assuming the packages of scripts/deps.sh are installed"
fi

step "autoreconf"
autoreconf -fi >/dev/null 2>&1 || autoreconf -fi

step "build with -Werror, make check"
build_and_check "$top/_build" --enable-werror || status=1

step "valgrind over the PAM-stack tests (the build without sanitizers)"
if command -v valgrind >/dev/null 2>&1; then
	if (cd "$top/_build" && make -s valgrind-check >valgrind-check.out 2>&1); then
		grep 'ERROR SUMMARY' "$top/_build/tests/test_pam.valgrind.log"
		passed=$((passed + 1))
	else
		cat "$top/_build/valgrind-check.out"
		echo "valgrind: errors or leaks (see above)"
		failed=$((failed + 1))
		status=1
	fi
else
	echo "valgrind not installed: skipped"
	skipped=$((skipped + 1))
fi

step "build with ASan and UBSan, make check"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	build_and_check "$top/_build-san" --enable-werror --enable-sanitizers || status=1

step "fuzzing: each libFuzzer target for ${FUZZ_SECONDS:-60} s"
# clang's coverage, ASan and UBSan on lib/ too; each target's executions
# and crashes are printed; a crash fails the run.
rm -rf "$top/_build-fuzz"
mkdir -p "$top/_build-fuzz"
(cd "$top/_build-fuzz" && "$top/configure" -q CC=clang --enable-fuzzing --enable-werror &&
	make -s -j"$jobs" fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-60}") \
	>"$top/_build-fuzz/fuzz-summary.log" 2>&1 || status=1
cat "$top/_build-fuzz/fuzz-summary.log"
# one result per target: passed when it ran its time with no crash
passed=$((passed + $(grep -c ' executions in .*, 0 crashes,' "$top/_build-fuzz/fuzz-summary.log" || true)))
failed=$((failed + $(grep -cE ' executions in .*, [1-9][0-9]* crashes,' "$top/_build-fuzz/fuzz-summary.log" || true)))

step "end to end, with real clients (tests/e2e, as root)"
# Installs into the system paths, drives pamtester, oathtool, pyotp,
# zbarimg, sshd and su, and undoes it all; its own build, in _build-e2e.
if [ "$(id -u)" -eq 0 ]; then
	e2e_out=$top/_build/e2e.out
	E2E_TIMEOUT=240 "$top/tests/e2e/run.sh" | tee "$e2e_out" || status=1
	e2e_p=$(sed -n 's/^e2e: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$e2e_out" | tail -n 1)
	e2e_f=$(sed -n 's/^e2e: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$e2e_out" | tail -n 1)
	e2e_s=$(sed -n 's/^# e2e: \([0-9]*\) skipped$/\1/p' "$e2e_out" | tail -n 1)
	if [ -z "$e2e_p" ]; then
		echo "e2e: no summary line"
		e2e_f=1
		status=1
	fi
	passed=$((passed + ${e2e_p:-0}))
	failed=$((failed + ${e2e_f:-0}))
	skipped=$((skipped + ${e2e_s:-0}))
else
	echo "not root: the end-to-end tests are skipped (they need root)"
	skipped=$((skipped + 1))
fi

step "Debian packages: build, lintian, apt install, pam-auth-update, purge (tests/deb, as root)"
# Builds the .debs from a clean copy of HEAD (nocheck: make check ran
# above), installs them with apt, logs in through common-auth, purges them
# and checks common-auth is as it was.
if [ "$(id -u)" -eq 0 ]; then
	deb_out=$top/_build/deb.out
	"$top/tests/deb/run.sh" | tee "$deb_out" || status=1
	deb_p=$(sed -n 's/^deb: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$deb_out" | tail -n 1)
	deb_f=$(sed -n 's/^deb: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$deb_out" | tail -n 1)
	if [ -z "$deb_p" ]; then
		echo "deb: no summary line"
		deb_f=1
		status=1
	fi
	passed=$((passed + ${deb_p:-0}))
	failed=$((failed + ${deb_f:-0}))
else
	echo "not root: the Debian package tests are skipped (they need root)"
	skipped=$((skipped + 1))
fi

step "make distcheck"
(cd "$top/_build" && make -s distcheck >distcheck.log 2>&1) && echo "distcheck: passed" || {
	tail -n 40 "$top/_build/distcheck.log"
	echo "distcheck: FAILED"
	status=1
}

step "results"
[ "$status" -eq 0 ] || echo "some tests failed: see the logs above"
echo "summary: $passed passed, $failed failed, $skipped skipped"
exit $status
