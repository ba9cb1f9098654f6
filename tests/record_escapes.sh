#!/bin/sh
# Issue 18, finding 5: what a user can put in their own record never
# reaches root's terminal as control bytes.  A login through lib/login.c
# (tests/login_try, as the user, on the user's own store) with a remote
# host and a service full of terminal escapes (a title change, a screen
# clear, a carriage return that forges a "locked until never" line), then
# `totp-enroll --user NAME status` and `export`, text and JSON, as root:
# no byte of their output is a control character but the newline.  As a
# non-root user, the same on the caller's own store.
# shellcheck disable=SC3043
. "${top_srcdir:-.}/tests/enroll_lib.sh"
need oathtool od
TRY=$(cd "$top_builddir" && pwd)/tests/login_try

if [ "$(id -u)" -eq 0 ]; then
	need runuser useradd
	U=tesc$$
	make_user "$U" "$T/home/$U" || skip_all "useradd failed"
	AS=$U
	DB=$T/home/$U/.config/totp/default.db
	: >"$T/conf"
	WHO="--user $U"
else
	U=$(id -un)
	AS=""
	DB=$T/s$(getent passwd "$U" | cut -d: -f6)/default.db
	printf 'store = %s/s%%h/%%r.db\n' "$T" >"$T/conf"
	WHO=""
fi
chmod 644 "$T/conf"
UID_U=$(id -u "$U")
as_user() { if [ -n "$AS" ]; then runuser -u "$AS" -- "$@"; else "$@"; fi; }
# shellcheck disable=SC2086
e() { run "${AS:-}" -- --conf "$T/conf" "$@"; }
# shellcheck disable=SC2086
r() { run "" -- --conf "$T/conf" $WHO "$@"; }

e register --json
expect_rc 0 "register"
S=$(jget 'j["secret"]')
settle
e verify "$(totp_now "$S")" --json
expect_rc 0 "verify"

ESC=$(printf '\033')
BEL=$(printf '\007')
CR=$(printf '\r')
RHOST="${ESC}]0;owned${BEL}${ESC}[2J${CR}locked until    never"
SERVICE="ssh${ESC}[31md"
got=$(as_user "$TRY" "$UID_U" "$DB" "$U" "$(wrong_code "$S")" "$RHOST" "$SERVICE" 2>&1)
expect_eq "$got" wrong-code "a wrong code from a host named with escapes"

# no_controls NAME: $OUT (and $ERR) hold no control byte but the newline
no_controls() {
	if printf '%s%s' "$OUT" "$ERR" | tr -d '\n' | od -An -c | grep -Eq '\\[0-9]{3}|\\[abfrtv]'; then
		not_ok "$1: control bytes in the output"
		printf '%s%s' "$OUT" "$ERR" | od -c | head -20 | sed 's/^/# /'
	else
		ok "$1: no control bytes"
	fi
}

r status
expect_rc 0 "status"
no_controls "status"
r export
expect_rc 0 "export"
no_controls "export"
r export --json
expect_rc 0 "export --json"
no_controls "export --json"
case $OUT in *'\u001b'*) not_ok "export --json keeps the escape, escaped" ;; *) ok "export --json: no escape left in the record" ;; esac
finish
