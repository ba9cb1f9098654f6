#!/bin/bash
# The ldap realm (issue 14) through real PAM stacks, against the real
# slapd providers of tests/ldap/fixture.sh (otp overlay, docs/ldap.md's
# ACLs, multi-provider replication, a stalled server):
#   - tests/ldap_try: the built module in a libpam stack read from a temp
#     folder (pam_start_confdir), its log lines caught;
#   - pamtester: a service file /etc/pam.d/pam_totp_ldap_test_* loading
#     the built module by its path, removed at exit.
# Scenarios: a hand-made OATH-LDAP token logs in (read and bind); a code
# used by pam_totp fails in an LDAP bind through slapo-otp and the other
# way round; 8 logins with one code from 8 processes: exactly one passes,
# every round; a stalled, refusing or down directory fails closed
# (PAM_AUTHINFO_UNAVAIL and a log line); with two providers the second
# answers when the first is killed.
# No assertion depends on machine speed: times are reported, and only a
# generous guard (LDAPT_GUARD seconds) catches a hang.
# Skipped (77) when not root or without slapd; says so.
# shellcheck disable=SC2015
need() { for c in "$@"; do command -v "$c" >/dev/null 2>&1 || { echo "# skipped: $c not installed"; exit 77; }; done; }
need /usr/sbin/slapd /usr/sbin/slaptest ldapadd ldapmodify ldapsearch ldapwhoami openssl pamtester timeout
need /usr/bin/python3
# shellcheck source=tests/ldap/fixture.sh
. "${top_srcdir:-.}/tests/ldap/fixture.sh"

B=$(cd "${top_builddir:-.}" && pwd)
MOD=$B/.libs/pam_totp.so
TRY=$B/tests/ldap_try
[ -f "$MOD" ] || { echo "not ok - $MOD is not built"; exit 1; }
GUARD=${LDAPT_GUARD:-120}
export LDAPT_PIN=$MOD
# An ASan build's module in pamtester (not built with ASan): its runtime
# is preloaded, leaks of pamtester itself are not ours.
PT_ENV=()
asan=$(ldd "$MOD" | sed -n 's/.*libasan[^ ]* => \([^ ]*\).*/\1/p')
[ -z "$asan" ] || PT_ENV=("LD_PRELOAD=$asan" ASAN_OPTIONS=detect_leaks=0)
SVC=pam_totp_ldap_test_$$
ldap_cleanup_all() { rm -f "/etc/pam.d/$SVC"; ldap_cleanup; }
trap ldap_cleanup_all EXIT

ldap_fixture_up || { echo "not ok - the slapd fixture did not start"; exit 1; }

FAILS=0 N=0
ok() { N=$((N + 1)); echo "ok $N - $*"; }
not_ok() { N=$((N + 1)); FAILS=$((FAILS + 1)); echo "not ok $N - $*"; }
expect() { # expect GOT WANT NAME
	if [ "$1" = "$2" ]; then ok "$3"; else not_ok "$3: got '$1', want '$2'"; fi
}

ADMIN=(-x -D "cn=admin,dc=example,dc=org" -w secret)
KEY_HEX=3132333435363738393031323334353637383930 # "12345678901234567890"
# code STEP_OFFSET [PERIOD DIGITS]: the TOTP code of now + offset steps
code() {
	/usr/bin/python3 - "$1" "${2:-30}" "${3:-6}" "$KEY_HEX" <<'PY'
import hmac, hashlib, struct, sys, time
off, period, digits, key = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), bytes.fromhex(sys.argv[4])
step = int(time.time()) // period + off
h = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
o = h[-1] & 15
v = (struct.unpack(">I", h[o:o + 4])[0] & 0x7fffffff) % 10 ** digits
print(str(v).zfill(digits))
PY
}
now_ms() { date +%s%3N; }

# Hand-made tokens (ldapadd, the OATH-LDAP layout) for alice, bob, dave.
for u in alice bob dave; do
	cat <<LDIF
dn: cn=$u,ou=tokens,dc=example,dc=org
changetype: add
objectClass: device
objectClass: oathTOTPToken
cn: $u
oathSecret:: MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=
oathTOTPParams: cn=totp-sha1-6,ou=params,dc=example,dc=org

dn: uid=$u,ou=people,dc=example,dc=org
changetype: modify
add: objectClass
objectClass: oathTOTPUser
-
add: oathTOTPToken
oathTOTPToken: cn=$u,ou=tokens,dc=example,dc=org

LDIF
done >"$LT/tokens.ldif"
# data.ldif's racer token exists unlinked: link it (the race below).
cat >>"$LT/tokens.ldif" <<LDIF
dn: uid=racer,ou=people,dc=example,dc=org
changetype: modify
add: objectClass
objectClass: oathTOTPUser
-
add: oathTOTPToken
oathTOTPToken: cn=racer,ou=tokens,dc=example,dc=org

LDIF
ldapmodify "${ADMIN[@]}" -H "$LDAPT_URI1" -f "$LT/tokens.ldif" >"$LT/tokens.log" 2>&1 &&
	ok "hand-made tokens for alice, bob, dave (ldapmodify as the admin)" ||
	{ not_ok "ldapadd of hand-made tokens: $(cat "$LT/tokens.log")"; exit 1; }

REFUSE_PORT=$(free_port)
realm() { # realm NAME URIS CHECK [extra lines]
	cat <<CONF
[$1]
store = ldap
ldap_uri = $2
ldap_base = ou=people,dc=example,dc=org
ldap_tokens = ou=tokens,dc=example,dc=org
ldap_params = cn=totp-sha1-6,ou=params,dc=example,dc=org
ldap_binddn = cn=host1,ou=hosts,dc=example,dc=org
ldap_bindpw_file = $LDAPT_PW_FILE
ldap_timeout = ${LDAPT_TIMEOUT:-1000}
ldap_check = $3
max_failures = 100
${4:-}
CONF
}
{
	realm read "$LDAPT_URI1" read
	realm bind "$LDAPT_URI1" bind
	realm fo "$LDAPT_URI1 $LDAPT_URI2" read
	realm fobind "$LDAPT_URI1 $LDAPT_URI2" bind
	realm stall "$LDAPT_STALL" read
	realm stallbind "$LDAPT_STALL" bind
	realm refuse "ldap://127.0.0.1:$REFUSE_PORT" read
	realm ldapi "$LDAPT_LDAPI1" read
} >"$LT/pam_totp.conf"
# ldapi:// realms bind with SASL EXTERNAL: no binddn there.
sed -i '/^\[ldapi\]/,/^max_failures/{/^ldap_binddn/d;/^ldap_bindpw_file/d}' "$LT/pam_totp.conf"
chmod 644 "$LT/pam_totp.conf"
mkdir -p "$LT/pam.d"
for r in read bind fo fobind stall stallbind refuse ldapi; do
	printf 'auth required %s conf=%s realm=%s\n' "$MOD" "$LT/pam_totp.conf" "$r" >"$LT/pam.d/$r"
done

# try REALM USER ANSWER...: one login through the built module; sets OUT
# (ldap_try's answer: outcome and milliseconds) and LOG (its log lines).
try() {
	local r=$1
	shift
	OUT=$(timeout "$GUARD" "$TRY" "$LT/pam.d" "$r" "$@" 2>"$LT/try.err")
	LOG=$(cat "$LT/try.err")
}
outcome() { echo "${OUT%% *}"; }
ms() { echo "${OUT##* }"; }
lastlog() { printf '%s\n' "$LOG" | tail -1; }

# ---- read: a hand-made token logs in; the code once only ----------------
C0=$(code 0)
try read carol "$C0"
expect "$(outcome)" success "read: carol's hand-made token (data.ldif, ldapadd) logs in through pam_totp"
printf '%s\n' "$LOG" | grep -q 'accepted; user=carol realm=read' && ok "read: log line 'accepted'" ||
	not_ok "read: no 'accepted' log line: $LOG"
printf '%s\n' "$LOG" | grep -qF "$C0" && not_ok "a code in the log: $LOG" || ok "no code in the log"
try read carol "$C0"
expect "$(outcome)" wrong-code "read: the same code again is refused (replay)"
step=$(ldapsearch "${ADMIN[@]}" -LLL -H "$LDAPT_URI1" -b cn=carol,ou=tokens,dc=example,dc=org -s base oathTOTPLastTimeStep |
	sed -n 's/^oathTOTPLastTimeStep: //p')
[ "${step:-0}" -gt 0 ] && ok "read: oathTOTPLastTimeStep holds the step accepted ($step)" ||
	not_ok "read: oathTOTPLastTimeStep is '$step'"

# ---- interop: pam_totp's code fails in an LDAP bind (slapo-otp) ---------
ldapwhoami -x -H "$LDAPT_URI1" -D uid=carol,ou=people,dc=example,dc=org -w "pw-carol$C0" >/dev/null 2>&1 &&
	not_ok "slapo-otp accepted a code pam_totp had used" ||
	ok "interop: a code used in a pam_totp login then fails in ldapwhoami (slapo-otp)"
# ... and the other way round: slapo-otp's code then fails in pam_totp.
C1=$(code 1)
ldapwhoami -x -H "$LDAPT_URI1" -D uid=carol,ou=people,dc=example,dc=org -w "pw-carol$C1" >"$LT/who" 2>&1 &&
	ok "interop: carol binds with password+code through slapo-otp (ldapwhoami)" ||
	not_ok "ldapwhoami with password+next code: $(cat "$LT/who")"
try read carol "$C1"
expect "$(outcome)" wrong-code "interop: the code slapo-otp accepted then fails in pam_totp (read)"

# ---- bind: pam_totp binds as the user with password+code ----------------
try bind alice pw-alice "$C0"
expect "$(outcome)" success "bind: alice logs in (password asked, then the code; slapo-otp checks)"
printf '%s\n' "$LOG" | grep -q 'accepted (ldap bind); user=alice' && ok "bind: log line" ||
	not_ok "bind: log: $LOG"
printf '%s\n' "$LOG" | grep -qF -e "$C0" -e pw-alice && not_ok "password or code in the log: $LOG" ||
	ok "bind: neither password nor code in the log"
try bind alice pw-alice "$C0"
expect "$(outcome)" wrong-code "bind: the same code again is refused (slapo-otp's last step)"
try read alice "$C0"
expect "$(outcome)" wrong-code "bind then read: the code slapo-otp took through pam_totp fails in read"
try bind alice wrong-pw "$C1"
expect "$(outcome)" wrong-code "bind: a wrong password with the right code is refused"
try bind nobody pw "$C0"
expect "$(outcome)" wrong-code "bind: a user the directory does not know is refused"

# ---- pamtester, both modes ----------------------------------------------
printf 'auth required %s conf=%s realm=read\naccount required pam_permit.so\n' \
	"$MOD" "$LT/pam_totp.conf" >"/etc/pam.d/$SVC"
printf '%s\n' "$C0" | env "${PT_ENV[@]}" timeout "$GUARD" pamtester -v "$SVC" bob authenticate >"$LT/pt" 2>&1 &&
	ok "pamtester, read: bob's hand-made token" || not_ok "pamtester read: $(cat "$LT/pt")"
printf '%s\n' "$C0" | env "${PT_ENV[@]}" timeout "$GUARD" pamtester -v "$SVC" bob authenticate >"$LT/pt" 2>&1 &&
	not_ok "pamtester, read: a replay passed" || ok "pamtester, read: the replay fails"
printf 'auth required %s conf=%s realm=bind\naccount required pam_permit.so\n' \
	"$MOD" "$LT/pam_totp.conf" >"/etc/pam.d/$SVC"
printf 'pw-dave\n%s\n' "$C0" | env "${PT_ENV[@]}" timeout "$GUARD" pamtester -v "$SVC" dave authenticate >"$LT/pt" 2>&1 &&
	ok "pamtester, bind: dave with password and code" || not_ok "pamtester bind: $(cat "$LT/pt")"
printf 'pw-dave\n%s\n' "$C0" | env "${PT_ENV[@]}" timeout "$GUARD" pamtester -v "$SVC" dave authenticate >"$LT/pt" 2>&1 &&
	not_ok "pamtester, bind: a replay passed" || ok "pamtester, bind: the replay fails"
rm -f "/etc/pam.d/$SVC"

# ---- ldapi:// with SASL EXTERNAL as the host ------------------------------
try ldapi bob "$C1"
expect "$(outcome)" success "read over ldapi:// (SASL EXTERNAL as root, mapped to cn=host1)"

# ---- the race: 8 processes, one code, one connection each ---------------
ROUNDS=${LDAPT_ROUNDS:-20}
bad_rounds=0 winners=""
for round in $(seq 1 "$ROUNDS"); do
	# a fresh start: the admin sets the last step back (not a login)
	printf 'dn: cn=racer,ou=tokens,dc=example,dc=org\nchangetype: modify\nreplace: oathTOTPLastTimeStep\noathTOTPLastTimeStep: 0\n-\nreplace: oathFailureCount\noathFailureCount: 0\n' |
		ldapmodify "${ADMIN[@]}" -H "$LDAPT_URI1" >/dev/null 2>&1 || not_ok "race: reset"
	C=$(code 0)
	at=$(($(now_ms) + 400))
	pids=""
	for i in 1 2 3 4 5 6 7 8; do
		timeout "$GUARD" "$TRY" -a "$at" "$LT/pam.d" read racer "$C" >"$LT/race.$i" 2>"$LT/race.$i.err" &
		pids="$pids $!"
	done
	# shellcheck disable=SC2086
	wait $pids # not the fixture's stalled server
	w=$(cat "$LT"/race.[1-8] | grep -c '^success')
	other=$(cat "$LT"/race.[1-8] | grep -vc -e '^success' -e '^wrong-code')
	winners="$winners$w"
	[ "$w" -eq 1 ] && [ "$other" -eq 0 ] || {
		bad_rounds=$((bad_rounds + 1))
		echo "# round $round: $(cat "$LT"/race.[1-8] | tr '\n' ' ') $(cat "$LT"/race.*.err | grep -v accepted | head -3)"
	}
done
echo "# race: winners per round: $winners"
expect "$bad_rounds" 0 "race: 8 logins with one code from 8 processes, exactly one passes, in each of $ROUNDS rounds"

# ---- a stalled, refusing directory fails closed ---------------------------
try stall bob "$(code 0)"
expect "$(outcome)" unavailable "stalled server (accepts, never answers): PAM_AUTHINFO_UNAVAIL"
echo "# stalled: the login failed after $(ms) ms (ldap_timeout 1000 ms)"
printf '%s\n' "$LOG" | grep -q 'cannot check the code: .*user=bob realm=stall' && ok "stalled: a log line" ||
	not_ok "stalled: log: $LOG"
try stallbind bob pw-bob "$(code 0)"
expect "$(outcome)" unavailable "stalled server, bind mode: PAM_AUTHINFO_UNAVAIL ($(ms) ms)"
try refuse bob "$(code 0)"
expect "$(outcome)" unavailable "refused connection: PAM_AUTHINFO_UNAVAIL ($(ms) ms)"
printf '%s\n' "$LOG" | grep -q 'cannot check the code' && ok "refused: a log line" || not_ok "refused: log: $LOG"

# ---- failover: the first provider killed, the second answers ------------
ldap_kill 1
try read dave "$(code 1)"
expect "$(outcome)" unavailable "provider 1 down, realm with it alone: PAM_AUTHINFO_UNAVAIL ($(ms) ms)"
try fo dave "$(code 1)"
expect "$(outcome)" success "failover: provider 1 killed, provider 2 answers (read)"
echo "# failover (read): the login took $(ms) ms with provider 1 dead"
try fobind alice pw-alice "$(code 1)"
expect "$(outcome)" success "failover: provider 1 killed, provider 2 answers (bind)"
echo "# failover (bind): the login took $(ms) ms"

echo "1..$N"
[ "$FAILS" -eq 0 ]
