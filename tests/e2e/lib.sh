# Shared by the end-to-end scripts (tests/e2e/*.sh): sourced, not run.
#
# The scripts drive the installed pam_totp.so and totp-enroll (run.sh
# installs them) with programs nobody here wrote.  Each makes its own temp
# folder ($T) and undoes what it does at exit, newest first: register an
# undo step with at_exit.  Results are TAP-like lines, "ok - ..." and
# "not ok - ...", which run.sh counts.
# shellcheck shell=bash
# Variables set here are used by the scripts that source this file.
# shellcheck disable=SC2034
set -u

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$E2E_DIR/../.." && pwd)
PY=/usr/bin/python3 # @needs /usr/bin/python3 logger rsyslogd timeout
ENROLL=${E2E_ENROLL:-/usr/bin/totp-enroll}
PAMDIR=${E2E_PAMDIR:-$(pkg-config --variable=libdir pam 2>/dev/null)/security}
CONF=/etc/security/pam_totp.conf
export LC_ALL=C.UTF-8

FAILS=0
PASSES=0
ok() { PASSES=$((PASSES + 1)); echo "ok - $*"; }
not_ok() { FAILS=$((FAILS + 1)); echo "not ok - $*"; }
finish() {
	echo "# $(basename "$0"): $PASSES passed, $FAILS failed"
	[ "$FAILS" -eq 0 ]
	exit
}
skip_all() {
	echo "# $(basename "$0"): skipped: $*"
	exit 77
}
bail() {
	not_ok "$*"
	finish
}
check() { # check NAME COMMAND...: ok when the command succeeds
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}
expect_eq() { # expect_eq GOT WANT NAME
	if [ "$1" = "$2" ]; then ok "$3"; else not_ok "$3: got '$1', want '$2'"; fi
}

[ "$(id -u)" -eq 0 ] || skip_all "needs root (installs into the system, adds users and PAM services)"
need() { for c in "$@"; do command -v "$c" >/dev/null 2>&1 || skip_all "$c not installed (scripts/deps.sh)"; done; }
need_py() { "$PY" -c "import $1" 2>/dev/null || skip_all "python3 module $1 missing (scripts/deps.sh)"; }
if [ ! -x "$ENROLL" ] || [ ! -f "$PAMDIR/pam_totp.so" ]; then
	skip_all "pam_totp is not installed; run tests/e2e/run.sh, which installs it"
fi

T=$(mktemp -d /tmp/pam_totp_e2e.XXXXXX)
chmod 755 "$T"
# CLEANUP is shell code, run with eval.
# shellcheck disable=SC2089,SC2090
CLEANUP="rm -rf '$T'"
at_exit() { CLEANUP="$1; $CLEANUP"; }
# shellcheck disable=SC2090
trap 'eval "$CLEANUP"' EXIT
trap 'exit 130' INT TERM HUP

# ---- users -----------------------------------------------------------------
# make_user NAME: a throwaway user with a home in $T and /bin/sh, removed
# at exit.
make_user() {
	mkdir -p "$T/home"
	chmod 755 "$T/home"
	useradd -m -d "$T/home/$1" -s /bin/sh "$1" >/dev/null 2>&1 || bail "useradd $1"
	at_exit "userdel -r '$1' >/dev/null 2>&1 || userdel '$1' 2>/dev/null"
}

# as USER CMD...: runs CMD as USER through su (not root any more).
as() {
	local who=$1 cmd
	shift
	printf -v cmd '%q ' "$@"
	su -s /bin/sh "$who" -c "$cmd"
}

# enroll [AS_USER] -- ARGS...: totp-enroll as AS_USER (su) or as root,
# stdout in $OUT, stderr in $ERR, exit status in $RC.
enroll() {
	local who=$1
	shift 2
	if [ -n "$who" ]; then
		as "$who" "$ENROLL" "$@" </dev/null >"$T/out" 2>"$T/err"
	else
		"$ENROLL" "$@" </dev/null >"$T/out" 2>"$T/err"
	fi
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}

# jget EXPR: a Python expression over the JSON object in $OUT (as j).
jget() {
	printf '%s' "$OUT" | "$PY" -c '
import json, sys
j = json.loads(sys.stdin.read())
v = eval(sys.argv[1])
print(v if not isinstance(v, (dict, list)) else json.dumps(v))' "$1" 2>/dev/null
}

# ---- codes -------------------------------------------------------------------
# code SECRET OFFSET [OATHTOOL OPTIONS]: oathtool's code for the time step
# OFFSET steps from now (30 s steps); the options default to --totp
# (SHA1, 6 digits), else give them all ("--totp=sha256 -d 8").  The module
# accepts a step within its window (1) that is newer than the last one
# accepted, so after a `verify` with step 0, step +1 is a fresh login
# code, at once: no sleeping.
code() {
	local s=$1 off=$2
	shift 2
	[ $# -gt 0 ] || set -- --totp
	oathtool "$@" -N "@$(($(date +%s) + off * 30))" -b "$s"
}

# wrong_code SECRET [OATHTOOL OPTIONS]: a code of the right length that is
# none of the codes within two steps of now.
wrong_code() {
	local s=$1 n c d
	shift
	[ $# -gt 0 ] || set -- --totp
	n=$(code "$s" 0 "$@" | tr -d '\n' | wc -c)
	for d in 0 1 2 3 4 5 6 7 8 9; do
		c=$(printf "%${n}s" "" | tr ' ' "$d")
		if ! oathtool "$@" -w 2 -b "$s" "$c" >/dev/null 2>&1; then
			echo "$c"
			return
		fi
	done
}

# Waits, when the 30 s step is about to end, for the next one, so that a
# code for "now" is still "now" when it is checked.
settle() {
	local s=$(($(date +%s) % 30))
	if [ "$s" -gt 24 ]; then sleep $((31 - s)); fi
}

# ---- PAM ---------------------------------------------------------------------
# pam_service NAME TEXT: a new /etc/pam.d/NAME, removed at exit.  Names
# start with pam_totp_e2e_, so nothing of the system's is touched.
pam_service() {
	case $1 in pam_totp_e2e_*) ;; *) bail "refusing to write /etc/pam.d/$1" ;; esac
	[ ! -e "/etc/pam.d/$1" ] || bail "/etc/pam.d/$1 exists already"
	at_exit "rm -f '/etc/pam.d/$1'"
	printf '%s\n' "$2" >"/etc/pam.d/$1"
}

# login SERVICE USER CODE: pamtester authenticates USER, answering CODE.
login() {
	printf '%s\n' "$3" | pamtester -v "$1" "$2" authenticate >"$T/pamtester.out" 2>&1
}

# ---- configuration -------------------------------------------------------------
# install_conf: puts the e2e realms in /etc/security/pam_totp.conf, keeping
# any file that was there to put it back at exit.
install_conf() {
	if [ -e "$CONF" ] || [ -L "$CONF" ]; then
		cp -a "$CONF" "$T/pam_totp.conf.saved" || bail "cannot save $CONF"
		at_exit "cp -a '$T/pam_totp.conf.saved' '$CONF'"
	else
		mkdir -p "$(dirname "$CONF")"
		at_exit "rm -f '$CONF'"
	fi
	cat >"$CONF" <<'CONF'
# pam_totp end-to-end tests (tests/e2e): put here for the test, and
# removed (or the previous file put back) when it ends.
[e2e-sys]
store = system
[e2e-sha256]
digits = 8
algorithm = sha256
CONF
	chown root:root "$CONF"
	chmod 644 "$CONF"
}

# ---- syslog --------------------------------------------------------------------
# syslog_setup: makes the module's pam_syslog lines readable with
# syslog_since.  If a syslog daemon answers on /dev/log, its authpriv file
# (or the journal) is read; else rsyslogd runs for this script, on
# /dev/log, writing authpriv to $T/auth.log, and stops at exit.
LOGSRC=""
devlog_alive() {
	"$PY" -c 'import socket
socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).connect("/dev/log")' 2>/dev/null
}
syslog_setup() {
	local mark="pam_totp_e2e_mark_$$_$RANDOM" f
	if devlog_alive; then
		logger -u /dev/log -p authpriv.notice -t pam_totp_e2e "$mark"
		for _ in $(seq 120); do
			for f in /var/log/auth.log /var/log/secure /var/log/messages /var/log/syslog; do
				if [ -f "$f" ] && grep -qF "$mark" "$f"; then
					LOGSRC=$f
					return 0
				fi
			done
			if command -v journalctl >/dev/null &&
				journalctl -q --no-pager -t pam_totp_e2e 2>/dev/null | grep -qF "$mark"; then
				LOGSRC=journal
				return 0
			fi
			sleep 0.5
		done
		return 1
	fi
	if [ -e /dev/log ] || [ -L /dev/log ]; then
		# A socket nobody listens on: set it aside while ours runs.
		mv /dev/log "$T/dev-log.saved" || return 1
		at_exit "mv '$T/dev-log.saved' /dev/log"
	fi
	LOGSRC=$T/auth.log
	: >"$LOGSRC"
	if command -v rsyslogd >/dev/null; then
		mkdir -p "$T/rsyslog"
		cat >"$T/rsyslog.conf" <<RS
global(workDirectory="$T/rsyslog")
module(load="imuxsock" SysSock.Name="/dev/log")
authpriv.*;auth.* action(type="omfile" file="$LOGSRC")
RS
		rsyslogd -n -f "$T/rsyslog.conf" -i "$T/rsyslogd.pid" >"$T/rsyslogd.err" 2>&1 &
	else
		"$PY" "$E2E_DIR/syslog_sink.py" /dev/log "$LOGSRC" &
	fi
	local pid=$!
	at_exit "kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f /dev/log"
	for _ in $(seq 600); do
		[ -S /dev/log ] && break
		sleep 0.1
	done
	[ -S /dev/log ] || return 1
	logger -u /dev/log -p authpriv.notice -t pam_totp_e2e "$mark"
	for _ in $(seq 600); do
		grep -qF "$mark" "$LOGSRC" && return 0
		sleep 0.1
	done
	return 1
}

# syslog_pos: a position to read from later.
syslog_pos() {
	if [ "$LOGSRC" = journal ]; then date +%s; else stat -c %s "$LOGSRC"; fi
}

# syslog_since POS: what was logged after POS.
syslog_since() {
	if [ "$LOGSRC" = journal ]; then
		journalctl -q --no-pager -o short --since "@$1" 2>/dev/null
	else
		tail -c +"$(($1 + 1))" "$LOGSRC"
	fi
}

# wait_log POS PATTERN: waits for an extended regex to be logged (up to
# 60 s: a guard against a hang, not a speed check).
wait_log() {
	for _ in $(seq 600); do
		syslog_since "$1" | grep -qE "$2" && return 0
		sleep 0.1
	done
	return 1
}
