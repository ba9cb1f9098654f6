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
# every round; failures and lockout in read mode (max_failures wrong
# codes give PAM_MAXTRIES and a log line, the right code is refused until
# the lockout ends, a right code before clears oathFailureCount); 6 wrong
# codes at once from 6 processes are all counted (oathFailureCount 6, each
# round); HOTP in read mode (the counter's code, oathHOTPCounter recorded
# as slapo-otp does: the counter used, not the next; replay refused; the
# look-ahead) and with slapo-otp both ways; a stalled, refusing or down
# directory fails closed
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
# wrong_code: 6 digits that are no TOTP code of the key within 3 steps of now
wrong_code() {
	/usr/bin/python3 - "$KEY_HEX" <<'PY'
import hmac, hashlib, struct, sys, time
key = bytes.fromhex(sys.argv[1])
def c(n):
    h = hmac.new(key, struct.pack(">Q", n), hashlib.sha1).digest()
    o = h[-1] & 15
    return str((struct.unpack(">I", h[o:o + 4])[0] & 0x7fffffff) % 10 ** 6).zfill(6)
now = int(time.time()) // 30
near = {c(s) for s in range(now - 3, now + 4)}
print(next(x for x in ("000000", "111111", "222222", "333333") if x not in near))
PY
}
# hotp COUNTER: the key's HOTP code (RFC 4226) for COUNTER
hotp() {
	/usr/bin/python3 - "$1" "$KEY_HEX" <<'PY'
import hmac, hashlib, struct, sys
h = hmac.new(bytes.fromhex(sys.argv[2]), struct.pack(">Q", int(sys.argv[1])), hashlib.sha1).digest()
o = h[-1] & 15
print(str((struct.unpack(">I", h[o:o + 4])[0] & 0x7fffffff) % 10 ** 6).zfill(6))
PY
}
# attr DN ATTR: the attribute's value as the admin reads it ("" if absent)
attr() {
	ldapsearch "${ADMIN[@]}" -LLL -H "$LDAPT_URI1" -b "$1" -s base "$2" | sed -n "s/^$2: //p"
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
# Users for failures and lockout (TOTP: locky, failer) and HOTP (hotpy,
# hotpz), their tokens, and an HOTP params entry (look-ahead 2).
{
	cat <<LDIF
dn: cn=hotp-sha1-6,ou=params,dc=example,dc=org
changetype: add
objectClass: device
objectClass: oathHOTPParams
cn: hotp-sha1-6
oathOTPLength: 6
oathHMACAlgorithm: 1.2.840.113549.2.7
oathHOTPLookAhead: 2

LDIF
	for u in locky failer hotpy hotpz; do
		case $u in
		hotp*) T=HOTP P=hotp-sha1-6 ;;
		*) T=TOTP P=totp-sha1-6 ;;
		esac
		cat <<LDIF
dn: uid=$u,ou=people,dc=example,dc=org
changetype: add
objectClass: inetOrgPerson
objectClass: oath${T}User
uid: $u
cn: $u
sn: $u
userPassword: pw-$u
oath${T}Token: cn=$u,ou=tokens,dc=example,dc=org

dn: cn=$u,ou=tokens,dc=example,dc=org
changetype: add
objectClass: device
objectClass: oath${T}Token
cn: $u
oathSecret:: MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=
oath${T}Params: cn=$P,ou=params,dc=example,dc=org

LDIF
	done
} >>"$LT/tokens.ldif"
ldapmodify "${ADMIN[@]}" -H "$LDAPT_URI1" -f "$LT/tokens.ldif" >"$LT/tokens.log" 2>&1 &&
	ok "hand-made tokens for alice, bob, dave, locky, failer, hotpy, hotpz (ldapmodify as the admin)" ||
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
max_failures = ${MAXF:-100}
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
	MAXF=3 realm lock "$LDAPT_URI1" read "lockout = 600"
} >"$LT/pam_totp.conf"
# ldapi:// realms bind with SASL EXTERNAL: no binddn there.
sed -i '/^\[ldapi\]/,/^max_failures/{/^ldap_binddn/d;/^ldap_bindpw_file/d}' "$LT/pam_totp.conf"
chmod 644 "$LT/pam_totp.conf"
mkdir -p "$LT/pam.d"
for r in read bind fo fobind stall stallbind refuse ldapi lock; do
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
printf '%s\n' "$LOG" | grep -q 'accepted a code of generator default; user=carol realm=read' && ok "read: log line 'accepted'" ||
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
# bob's and dave's tokens have not used a code yet: one made now, kept for
# each replay (made again, it would be fresh whenever a step ended)
CP=$(code 0)
printf '%s\n' "$CP" | env "${PT_ENV[@]}" timeout "$GUARD" pamtester -v "$SVC" bob authenticate >"$LT/pt" 2>&1 &&
	ok "pamtester, read: bob's hand-made token" || not_ok "pamtester read: $(cat "$LT/pt")"
printf '%s\n' "$CP" | env "${PT_ENV[@]}" timeout "$GUARD" pamtester -v "$SVC" bob authenticate >"$LT/pt" 2>&1 &&
	not_ok "pamtester, read: a replay passed" || ok "pamtester, read: the replay fails"
printf 'auth required %s conf=%s realm=bind\naccount required pam_permit.so\n' \
	"$MOD" "$LT/pam_totp.conf" >"/etc/pam.d/$SVC"
printf 'pw-dave\n%s\n' "$CP" | env "${PT_ENV[@]}" timeout "$GUARD" pamtester -v "$SVC" dave authenticate >"$LT/pt" 2>&1 &&
	ok "pamtester, bind: dave with password and code" || not_ok "pamtester bind: $(cat "$LT/pt")"
printf 'pw-dave\n%s\n' "$CP" | env "${PT_ENV[@]}" timeout "$GUARD" pamtester -v "$SVC" dave authenticate >"$LT/pt" 2>&1 &&
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

# ---- read: failures and lockout (max_failures 3, lockout 600) ----------
LOCKY=cn=locky,ou=tokens,dc=example,dc=org
W=$(wrong_code)
try lock locky "$W"
expect "$(outcome)" wrong-code "lockout: a wrong code is refused"
printf '%s\n' "$LOG" | grep -q 'refused: wrong code, 1 consecutive failures' && ok "lockout: log line, 1 failure" ||
	not_ok "lockout: log: $LOG"
try lock locky "$W"
expect "$(attr $LOCKY oathFailureCount)" 2 "lockout: two wrong codes: oathFailureCount 2"
[ -n "$(attr $LOCKY oathLastFailure)" ] && ok "lockout: oathLastFailure recorded ($(attr $LOCKY oathLastFailure))" ||
	not_ok "lockout: no oathLastFailure"
try lock locky "$(code 0)"
expect "$(outcome)" success "lockout: the right code before max_failures passes"
expect "$(attr $LOCKY oathFailureCount)" 0 "lockout: a right code clears oathFailureCount"
try lock locky "$W"
try lock locky "$W"
expect "$(outcome)" wrong-code "lockout: failure 2 of 3 is a wrong code"
try lock locky "$W"
expect "$(outcome)" maxtries "lockout: the 3rd wrong code (max_failures 3) gives PAM_MAXTRIES"
printf '%s\n' "$LOG" | grep -q 'refused: wrong code, locked out for 600 seconds after 3 failures; user=locky realm=lock' &&
	ok "lockout: log line 'locked out for 600 seconds after 3 failures'" || not_ok "lockout: log: $LOG"
expect "$(attr $LOCKY oathFailureCount)" 3 "lockout: oathFailureCount 3"
try lock locky "$(code 1)"
expect "$(outcome)" maxtries "lockout: locked out, even the right code is refused (PAM_MAXTRIES)"
printf '%s\n' "$LOG" | grep -q 'refused: locked out for [0-9]* more seconds; user=locky' &&
	ok "lockout: log line 'refused: locked out'" || not_ok "lockout: log: $LOG"
try lock locky "$W"
expect "$(outcome)" maxtries "lockout: a wrong code while locked out: PAM_MAXTRIES"
expect "$(attr $LOCKY oathFailureCount)" 3 "lockout: refusals while locked out are not counted"
# The lockout ends 600 s after oathLastFailure: the admin moves that back
# (what 600 s of waiting would do), and the right code passes again.
printf 'dn: %s\nchangetype: modify\nreplace: oathLastFailure\noathLastFailure: 20200101000000Z\n' "$LOCKY" |
	ldapmodify "${ADMIN[@]}" -H "$LDAPT_URI1" >/dev/null 2>&1 || not_ok "lockout: moving oathLastFailure back"
try lock locky "$(code 1)"
expect "$(outcome)" success "lockout: once the lockout ended, the right code passes"
expect "$(attr $LOCKY oathFailureCount)" 0 "lockout: ... and oathFailureCount is 0 again"

# ---- read: concurrent wrong codes are all counted -----------------------
FAILER=cn=failer,ou=tokens,dc=example,dc=org
FROUNDS=${LDAPT_FAIL_ROUNDS:-10}
bad_rounds=0 counts=""
for round in $(seq 1 "$FROUNDS"); do
	# odd rounds: no oathFailureCount yet (the add path); even: 0 (delete+add)
	if [ $((round % 2)) -eq 1 ]; then
		printf 'dn: %s\nchangetype: modify\nreplace: oathFailureCount\n' "$FAILER"
	else
		printf 'dn: %s\nchangetype: modify\nreplace: oathFailureCount\noathFailureCount: 0\n' "$FAILER"
	fi | ldapmodify "${ADMIN[@]}" -H "$LDAPT_URI1" >/dev/null 2>&1 || not_ok "failures race: reset"
	W=$(wrong_code)
	at=$(($(now_ms) + 400))
	pids=""
	for i in 1 2 3 4 5 6; do
		timeout "$GUARD" "$TRY" -a "$at" "$LT/pam.d" read failer "$W" >"$LT/fail.$i" 2>"$LT/fail.$i.err" &
		pids="$pids $!"
	done
	# shellcheck disable=SC2086
	wait $pids
	wrong=$(cat "$LT"/fail.[1-6] | grep -c '^wrong-code')
	n=$(attr $FAILER oathFailureCount)
	counts="$counts ${n:-none}"
	[ "$wrong" -eq 6 ] && [ "${n:-0}" = 6 ] || {
		bad_rounds=$((bad_rounds + 1))
		echo "# round $round: count ${n:-none}: $(cat "$LT"/fail.[1-6] | tr '\n' ' ') $(cat "$LT"/fail.*.err | head -3)"
	}
done
echo "# failures race: oathFailureCount after each round:$counts"
expect "$bad_rounds" 0 "failures race: 6 wrong codes at once from 6 processes: all refused, oathFailureCount 6, in each of $FROUNDS rounds"

# ---- read: HOTP, and interop with slapo-otp ------------------------------
# What slapo-otp stores: hotpz has never been used; a bind with counter 0's
# code passes and oathHOTPCounter then holds the counter used (0), not the
# next one (1).  pam_totp reads and writes it so.
HOTPZ=cn=hotpz,ou=tokens,dc=example,dc=org HOTPY=cn=hotpy,ou=tokens,dc=example,dc=org
whoami_hotp() { # whoami_hotp USER CODE: slapo-otp's check in a bind
	ldapwhoami -x -H "$LDAPT_URI1" -D "uid=$1,ou=people,dc=example,dc=org" -w "pw-$1$2" >"$LT/who" 2>&1
}
whoami_hotp hotpz "$(hotp 0)" && ok "hotp: slapo-otp: a fresh token binds with counter 0's code" ||
	not_ok "hotp: slapo-otp refused counter 0: $(cat "$LT/who")"
expect "$(attr $HOTPZ oathHOTPCounter)" 0 "hotp: slapo-otp stores the counter it accepted (0 after code 0: the last used, not the next)"
try read hotpz "$(hotp 0)"
expect "$(outcome)" wrong-code "hotp: the code slapo-otp accepted (counter 0) then fails in pam_totp"
try read hotpz "$(hotp 1)"
expect "$(outcome)" success "hotp: pam_totp takes the next counter after slapo-otp's (1)"
expect "$(attr $HOTPZ oathHOTPCounter)" 1 "hotp: pam_totp stores it the same way (oathHOTPCounter 1)"

try read hotpy "$(hotp 0)"
expect "$(outcome)" success "hotp: a hand-made HOTP token (oathHOTPToken, oathHOTPParams) logs in through pam_totp with counter 0's code"
expect "$(attr $HOTPY oathHOTPCounter)" 0 "hotp: oathHOTPCounter records the counter used (0)"
try read hotpy "$(hotp 0)"
expect "$(outcome)" wrong-code "hotp: the same code again is refused"
whoami_hotp hotpy "$(hotp 0)" && not_ok "hotp: slapo-otp accepted a code pam_totp had used" ||
	ok "hotp: a code used by pam_totp then fails in ldapwhoami (slapo-otp)"
whoami_hotp hotpy "$(hotp 1)" && ok "hotp: slapo-otp takes the next counter (1)" ||
	not_ok "hotp: slapo-otp refused counter 1: $(cat "$LT/who")"
expect "$(attr $HOTPY oathHOTPCounter)" 1 "hotp: slapo-otp recorded counter 1"
try read hotpy "$(hotp 1)"
expect "$(outcome)" wrong-code "hotp: the code slapo-otp accepted then fails in pam_totp"
try read hotpy "$(hotp 4)"
expect "$(outcome)" success "hotp: a code within the look-ahead (counter 4, next 2, look-ahead 2) is accepted"
expect "$(attr $HOTPY oathHOTPCounter)" 4 "hotp: oathHOTPCounter moves to the counter used (4)"
try read hotpy "$(hotp 3)"
expect "$(outcome)" wrong-code "hotp: a skipped counter (3) is refused afterwards"
whoami_hotp hotpy "$(hotp 3)" && not_ok "hotp: slapo-otp accepted a counter behind pam_totp's" ||
	ok "hotp: ... and in slapo-otp"
try read hotpy "$(hotp 8)"
expect "$(outcome)" wrong-code "hotp: a code past the look-ahead (counter 8, next 5) is refused"
expect "$(attr $HOTPY oathHOTPCounter)" 4 "hotp: a refused code leaves oathHOTPCounter (4)"
whoami_hotp hotpy "$(hotp 7)" && ok "hotp: slapo-otp accepts within its look-ahead (counter 7, next 5)" ||
	not_ok "hotp: slapo-otp refused counter 7: $(cat "$LT/who")"
try read hotpy "$(hotp 7)"
expect "$(outcome)" wrong-code "hotp: ... and that code then fails in pam_totp"
try read hotpy "$(hotp 8)"
expect "$(outcome)" success "hotp: pam_totp takes the counter after slapo-otp's (8)"

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
