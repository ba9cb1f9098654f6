# Shared by the tests/enroll_*.sh scripts: sourced, not run.
# Each script makes its own temp folder ($T), removed at exit with anything
# else registered through at_exit (users made with useradd).
set -u

: "${top_builddir:=.}"
: "${top_srcdir:=.}"
ENROLL=$(cd "$top_builddir" && pwd)/enroll/totp-enroll
SRC=$(cd "$top_srcdir" && pwd)
PY=/usr/bin/python3 # @needs /usr/bin/python3 runuser
export LC_ALL=C.UTF-8

T=$(mktemp -d /tmp/enroll_test.XXXXXX)
chmod 755 "$T"
CLEANUP="rm -rf '$T'"
at_exit() { CLEANUP="$1; $CLEANUP"; }
trap 'eval "$CLEANUP"' EXIT
trap 'exit 130' INT TERM

FAILS=0
PASSES=0
ok() { PASSES=$((PASSES + 1)); echo "ok - $*"; }
not_ok() { FAILS=$((FAILS + 1)); echo "not ok - $*"; }
finish() {
	echo "# $PASSES passed, $FAILS failed"
	[ "$FAILS" -eq 0 ] || exit 1
	exit 0
}
skip_all() { echo "# skipped: $*"; exit 77; }

need() { for c in "$@"; do command -v "$c" >/dev/null 2>&1 || skip_all "$c not installed"; done; }

# run [AS_USER] -- ARGS...: runs totp-enroll (as AS_USER when given and we
# are root), stdout in $OUT, stderr in $ERR, exit code in $RC.
run() {
	local who=""
	if [ "$1" != "--" ]; then who=$1; fi
	shift 2
	if [ -n "$who" ]; then
		runuser -u "$who" -- "$ENROLL" "$@" >"$T/out" 2>"$T/err"
	else
		"$ENROLL" "$@" >"$T/out" 2>"$T/err"
	fi
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}

# jget EXPR: evaluates a Python expression over the JSON in $OUT (as j);
# fails the test if $OUT is not exactly one JSON object.
jget() {
	printf '%s' "$OUT" | "$PY" -c '
import json, sys
j = json.loads(sys.stdin.read())
assert isinstance(j, dict)
v = eval(sys.argv[1])
print(v if not isinstance(v, (dict, list)) else json.dumps(v))' "$1"
}

# expect_rc WANT NAME
expect_rc() {
	if [ "$RC" -eq "$1" ]; then ok "$2: exit $1"; else
		not_ok "$2: exit $RC, want $1 (stdout: $OUT) (stderr: $ERR)"
	fi
}

# expect_eq GOT WANT NAME
expect_eq() {
	if [ "$1" = "$2" ]; then ok "$3"; else not_ok "$3: got '$1', want '$2'"; fi
}

# expect_json_error GRPC REASON NAME: a JSON error object and nothing else.
expect_json_error() {
	expect_eq "$(jget 'j["code"]')" "$1" "$3: gRPC code"
	expect_eq "$(jget 'j["details"][0]["reason"]')" "$2" "$3: reason"
	expect_eq "$(jget 'sorted(j.keys())')" '["code", "details", "message"]' "$3: error shape"
	expect_eq "$ERR" "" "$3: nothing on stderr"
}

# A code for the secret now, from oathtool (TOTP, 6 digits, 30 s, SHA1).
totp_now() { oathtool --totp -b "$1"; }

# A code that is not the right one now (nor in the window around it).
wrong_code() {
	local s=$1 c
	for c in 000000 111111 222222 333333 444444 555555; do
		if ! oathtool --totp -b -w 2 "$s" "$c" >/dev/null 2>&1; then
			echo "$c"
			return
		fi
	done
}

# Waits until a fresh 30-second step has at least 5 seconds left, so a
# code computed now is still the current one when totp-enroll checks it.
settle() {
	local s
	s=$(( $(date +%s) % 30 ))
	if [ "$s" -gt 25 ]; then sleep $((31 - s)); fi
}

# make_user NAME [HOME]: a throwaway user, removed at exit.
make_user() {
	local name=$1 home=${2:-}
	if [ -n "$home" ]; then
		useradd -M -d "$home" -s /usr/sbin/nologin "$name" || return 1
		mkdir -p "$home" && chown "$name:" "$home" && chmod 700 "$home"
	else
		useradd -M -d /nonexistent -s /usr/sbin/nologin "$name" || return 1
	fi
	at_exit "userdel '$name' 2>/dev/null"
}
