#!/bin/bash
# totp-enroll in a `store = ldap` realm (issue 14), against the real slapd
# of tests/ldap/fixture.sh (otp overlay, docs/ldap.md's ACLs), with the
# built module in a libpam stack (tests/ldap_try) and slapo-otp binds
# (ldapwhoami) on the other side:
#   - register as the user (LDAP password on stdin): the token entry is
#     made, not linked (pending): pam_totp and slapo-otp both refuse it;
#   - verify with a wrong code: gRPC 3, still pending; with oathtool's
#     code: linked;
#   - the token totp-enroll made logs in through slapo-otp (ldapwhoami
#     password+code), that code then fails in pam_totp; a fresh code logs
#     in through pam_totp (read), and then fails in slapo-otp;
#   - register when ready: 6; another user without root: 7; a wrong LDAP
#     password: 7; once linked, the user binds with password+code (as
#     slapo-otp wants: status/remove of a ready token cost a code); remove: unlinked and deleted, pam_totp then refuses
#     ("no ready generator"), status 5;
#   - root with the administrative identity registers, verifies and
#     removes for a user; without one configured, root is told so;
#   - --password-fd; the --json shapes.
# Outcomes only; LDAPT_GUARD seconds is a hang guard, not a timing check.
# Skipped (77) when not root or without slapd (the fixture says so).
# shellcheck disable=SC2015
need() { for c in "$@"; do command -v "$c" >/dev/null 2>&1 || { echo "# skipped: $c not installed"; exit 77; }; done; }
need /usr/sbin/slapd /usr/sbin/slaptest ldapadd ldapmodify ldapsearch ldapwhoami openssl timeout
need oathtool runuser useradd userdel flock /usr/bin/python3
# shellcheck source=tests/ldap/fixture.sh
. "${top_srcdir:-.}/tests/ldap/fixture.sh"

B=$(cd "${top_builddir:-.}" && pwd)
MOD=$B/.libs/pam_totp.so
TRY=$B/tests/ldap_try
TE=$B/enroll/totp-enroll
[ -f "$MOD" ] && [ -x "$TE" ] || { echo "not ok - $MOD or $TE is not built"; exit 1; }
GUARD=${LDAPT_GUARD:-120}
export LDAPT_PIN=$MOD

# Local accounts named as the directory's users (totp-enroll looks the
# caller and target up): made here, removed at exit.
E1=ten$$ E2=tem$$ E3=tea$$
USERS=""
CONF_DIR=$(mktemp -d /tmp/ldap_enroll.XXXXXX)
chmod 755 "$CONF_DIR"
cleanup_all() {
	for u in $USERS; do flock /tmp/pam_totp-system.lock userdel "$u" 2>/dev/null; done
	rm -rf "$CONF_DIR"
	ldap_cleanup
}
trap cleanup_all EXIT

ldap_fixture_up || { echo "not ok - the slapd fixture did not start"; exit 1; }

FAILS=0 N=0
ok() { N=$((N + 1)); echo "ok $N - $*"; }
not_ok() { N=$((N + 1)); FAILS=$((FAILS + 1)); echo "not ok $N - $*"; }
expect() { # expect GOT WANT NAME
	if [ "$1" = "$2" ]; then ok "$3"; else not_ok "$3: got '$1', want '$2'"; fi
}

for u in $E1 $E2 $E3; do
	flock /tmp/pam_totp-system.lock useradd -M -d /nonexistent -s /usr/sbin/nologin "$u" ||
		{ echo "# skipped: useradd $u failed"; exit 77; }
	USERS="$USERS $u"
	printf 'dn: uid=%s,ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: %s\ncn: %s\nsn: %s\nuserPassword: pw-%s\n\n' \
		"$u" "$u" "$u" "$u" "$u"
done >"$LT/users.ldif"
# A params entry with a window of 6 steps: the scenarios below use the
# steps now, +1 ... +5 one after the other without waiting.
cat >>"$LT/users.ldif" <<'LDIF'
dn: cn=totp-sha1-6-w6,ou=params,dc=example,dc=org
objectClass: device
objectClass: oathTOTPParams
cn: totp-sha1-6-w6
oathOTPLength: 6
oathHMACAlgorithm: 1.2.840.113549.2.7
oathTOTPTimeStepPeriod: 30
oathTOTPTimeStepWindow: 6
LDIF
ADMIN=(-x -D "cn=admin,dc=example,dc=org" -w secret)
ldapadd "${ADMIN[@]}" -H "$LDAPT_URI1" -f "$LT/users.ldif" >"$LT/users.log" 2>&1 &&
	ok "directory users $E1 $E2 $E3 and a params entry (ldapadd as the admin)" ||
	{ not_ok "ldapadd: $(cat "$LT/users.log")"; exit 1; }

# The administrative identity's password: root-owned, 0600.
printf 'secret\n' >"$LT/adminpw"
chmod 600 "$LT/adminpw"

realm() { # realm NAME [extra lines]
	cat <<CONF
[$1]
store = ldap
ldap_uri = $LDAPT_URI1
ldap_base = ou=people,dc=example,dc=org
ldap_tokens = ou=tokens,dc=example,dc=org
ldap_params = cn=totp-sha1-6-w6,ou=params,dc=example,dc=org
ldap_binddn = cn=host1,ou=hosts,dc=example,dc=org
ldap_bindpw_file = $LDAPT_PW_FILE
ldap_timeout = ${LDAPT_TIMEOUT:-2000}
ldap_check = read
max_failures = 100
${2:-}
CONF
}
{
	realm fleet "ldap_admin_binddn = cn=admin,dc=example,dc=org
ldap_admin_bindpw_file = $LT/adminpw"
	realm noadmin
} >"$CONF_DIR/pam_totp.conf"
chmod 644 "$CONF_DIR/pam_totp.conf"
mkdir -p "$LT/pam.d"
printf 'auth required %s conf=%s realm=fleet\n' "$MOD" "$CONF_DIR/pam_totp.conf" >"$LT/pam.d/fleet"

# te USER PASSWORD ARGS...: totp-enroll run by USER (root: ""), the
# password on stdin; sets OUT, RC.
te() {
	local who=$1 pw=$2
	shift 2
	if [ -n "$who" ]; then
		OUT=$(printf '%s\n' "$pw" | timeout "$GUARD" runuser -u "$who" -- "$TE" --conf "$CONF_DIR/pam_totp.conf" -r fleet "$@" 2>"$LT/te.err")
	else
		OUT=$(printf '%s\n' "$pw" | timeout "$GUARD" "$TE" --conf "$CONF_DIR/pam_totp.conf" "$@" 2>"$LT/te.err")
	fi
	RC=$?
}
# j EXPR: a value of the JSON answer in OUT (python expression on `d`)
j() { printf '%s' "$OUT" | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)" 2>/dev/null; }
try() { # try USER CODE: one pam_totp login (read mode); OUT2, LOG
	OUT2=$(timeout "$GUARD" "$TRY" "$LT/pam.d" fleet "$1" "$2" 2>"$LT/try.err")
	OUT2=${OUT2%% *}
	LOG=$(cat "$LT/try.err")
}
who_ok() { # who_ok USER PASSWORD+CODE: an LDAP simple bind through slapo-otp
	ldapwhoami -x -H "$LDAPT_URI1" -D "uid=$1,ou=people,dc=example,dc=org" -w "$2" >/dev/null 2>&1
}
linked_to() { # the user's oathTOTPToken, as the admin sees it
	ldapsearch "${ADMIN[@]}" -LLL -H "$LDAPT_URI1" -b "uid=$1,ou=people,dc=example,dc=org" -s base oathTOTPToken |
		sed -n 's/^oathTOTPToken: //p'
}
token_there() {
	ldapsearch "${ADMIN[@]}" -LLL -H "$LDAPT_URI1" -b "cn=$1,ou=tokens,dc=example,dc=org" -s base dn 2>/dev/null | grep -c '^dn:'
}
otp() { # otp SECRET OFFSET: oathtool's code for now + OFFSET steps
	oathtool --totp -b -N "@$(($(date +%s) + 30 * $2))" "$1"
}

# ---- register as the user: pending -------------------------------------
te "$E1" "pw-$E1" register --json
expect "$RC" 0 "register as $E1 (LDAP password on stdin): exit 0"
S1=$(j 'd["secret"]')
expect "$(j 'd["details"]["resourceOwner"]')" fleet "register --json: details.resourceOwner is the realm"
expect "$(j 'd["details"]["sequence"]')" 0 "register --json: details.sequence is 0 (no step used yet)"
expect "$(j 'sorted(d.keys())')" "['details', 'emergencyCodes', 'secret', 'uri']" "register --json: the shape of other realms"
expect "$(j 'd["uri"].startswith("otpauth://totp/") and "digits=6" in d["uri"] and "period=30" in d["uri"]')" True \
	"register --json: the URI carries the params entry's parameters"
expect "$(j 'd["emergencyCodes"]')" "[]" "register --json: no emergency codes (the schema has no place for them)"
expect "$(token_there "$E1")" 1 "register: the token entry cn=$E1,ou=tokens exists"
expect "$(linked_to "$E1")" "" "register: the user entry does not link it (pending)"
ldapsearch -x -LLL -H "$LDAPT_URI1" -D "uid=$E1,ou=people,dc=example,dc=org" -w "pw-$E1" \
	-b "cn=$E1,ou=tokens,dc=example,dc=org" -s base oathSecret | grep -q '^oathSecret' &&
	not_ok "the owner can read the secret back" || ok "the owner cannot read oathSecret back (ACL)"
C0=$(otp "$S1" 0)
try "$E1" "$C0"
expect "$OUT2" wrong-code "pending: pam_totp refuses the right code"
printf '%s\n' "$LOG" | grep -q 'no ready generator' && ok "pending: pam_totp logs 'no ready generator'" ||
	not_ok "pending: log: $LOG"
who_ok "$E1" "pw-$E1$C0" && not_ok "pending: slapo-otp accepted password+code" ||
	ok "pending: ldapwhoami with password+code is refused (slapo-otp)"
te "$E1" "pw-$E1" status --json
expect "$(j 'd["state"]')" pending "status --json as $E1: pending"

# ---- verify: a wrong code, then oathtool's ---------------------------------
W=$(printf '%06d' $(((10#$C0 + 1) % 1000000)))
te "$E1" "pw-$E1" verify "$W" --json
expect "$(j 'd["code"]')" 3 "verify with a wrong code: gRPC 3"
expect "$(linked_to "$E1")" "" "after a wrong code: still not linked (pending)"
te "$E1" "pw-$E1" verify "$C0" --json
expect "$RC" 0 "verify with oathtool's code: exit 0"
expect "$(linked_to "$E1")" "cn=$E1,ou=tokens,dc=example,dc=org" "verify: the user entry links the token"
ldapsearch "${ADMIN[@]}" -LLL -H "$LDAPT_URI1" -b "uid=$E1,ou=people,dc=example,dc=org" -s base objectClass |
	grep -q '^objectClass: oathTOTPUser' && ok "verify: objectClass oathTOTPUser added" || not_ok "verify: no oathTOTPUser"
step=$(j 'd["details"]["sequence"]')
[ "${step:-0}" -gt 0 ] && ok "verify --json: details.sequence is the step the code used ($step)" ||
	not_ok "verify --json: sequence '$step'"

# ---- interop: the totp-enroll token in slapo-otp and pam_totp -----------
C1=$(otp "$S1" 1)
who_ok "$E1" "pw-$E1$C1" && ok "interop: the token totp-enroll made logs in through slapo-otp (ldapwhoami password+code)" ||
	not_ok "interop: ldapwhoami with password+code refused"
try "$E1" "$C1"
expect "$OUT2" wrong-code "interop: the code slapo-otp took then fails in pam_totp (replay across both)"
C2=$(otp "$S1" 2)
try "$E1" "$C2"
expect "$OUT2" success "a fresh code logs in through pam_totp (read)"
who_ok "$E1" "pw-$E1$C2" && not_ok "slapo-otp accepted the code pam_totp used" ||
	ok "interop: the code pam_totp took then fails in slapo-otp"
printf '%s\n' "$LOG" | grep -qF -e "$C2" -e "pw-$E1" && not_ok "a code or password in the log" || ok "no code or password in the log"

# ---- refusals -------------------------------------------------------------
te "$E1" "pw-$E1" register --json
expect "$(j 'd["code"]')" 6 "register when a ready token exists: gRPC 6"
te "$E1" "pw-$E1" status --json
expect "$(j 'd["code"]')" 7 "status of a ready token with the password alone: gRPC 7 (slapo-otp wants password+code)"
te "$E1" "pw-$E1$(otp "$S1" 3)" status --json
expect "$(j 'd["state"]')/$(j 'd["details"]["resourceOwner"]')" ready/fleet "status --json as $E1 (password+code): ready"
te "$E2" "pw-$E2" --user "$E1" status --json
expect "$(j 'd["code"]')" 7 "another user without root: gRPC 7"
te "$E1" "not-the-password" status --json
expect "$(j 'd["code"]')" 7 "a wrong LDAP password: gRPC 7"
te "$E2" "pw-$E2" status --json
expect "$(j 'd["code"]')" 5 "status with no token: gRPC 5"
te "$E2" "pw-$E2" verify 123456 --json
expect "$(j 'd["code"]')" 5 "verify with no token: gRPC 5"
te "$E2" "pw-$E2" remove --json
expect "$(j 'd["code"]')" 5 "remove with no token: gRPC 5"
printf 'pw-%s%s\n' "$E1" "$(otp "$S1" 4)" >"$LT/pwfd"
chmod 644 "$LT/pwfd"
OUT=$(timeout "$GUARD" runuser -u "$E1" -- "$TE" --conf "$CONF_DIR/pam_totp.conf" -r fleet --password-fd 3 status --json 3<"$LT/pwfd" </dev/null 2>"$LT/te.err")
expect "$(j 'd["state"]')" ready "--password-fd 3: the password from descriptor 3"

# ---- remove ---------------------------------------------------------------
te "$E1" "pw-$E1$(otp "$S1" 5)" remove --json
expect "$RC" 0 "remove as $E1 (password+code): exit 0"
expect "$(j 'sorted(d.keys())')/$(j 'd["details"]["resourceOwner"]')" "['details']/fleet" "remove --json: details only"
expect "$(linked_to "$E1")" "" "remove: unlinked"
expect "$(token_there "$E1")" 0 "remove: the token entry is deleted"
try "$E1" "$(otp "$S1" 6)"
expect "$OUT2" wrong-code "after remove: pam_totp refuses"
printf '%s\n' "$LOG" | grep -q 'no ready generator' && ok "after remove: pam_totp logs 'no ready generator' (not enrolled)" ||
	not_ok "after remove: log: $LOG"
te "$E1" "pw-$E1" status --json
expect "$(j 'd["code"]')" 5 "after remove: status gRPC 5"

# ---- root, with the administrative identity ---------------------------------
te "" "" --user "$E3" -r fleet register --json
expect "$RC" 0 "root registers for $E3 with the administrative identity"
S3=$(j 'd["secret"]')
expect "$(linked_to "$E3")/$(token_there "$E3")" "/1" "root's register: token made, pending"
te "" "" --user "$E3" -r fleet verify "$(printf '%06d' $(((10#$(otp "$S3" 0) + 1) % 1000000)))" --json
expect "$(j 'd["code"]')" 3 "root's verify with a wrong code: gRPC 3"
# the code verify takes, kept: made again for the login, it would be the
# next step's (a fresh code) whenever a step ends in between
C30=$(otp "$S3" 0)
te "" "" --user "$E3" -r fleet verify "$C30" --json
expect "$RC" 0 "root's verify with the right code (read with the administrative identity)"
expect "$(linked_to "$E3")" "cn=$E3,ou=tokens,dc=example,dc=org" "root's verify: linked"
try "$E3" "$C30"
expect "$OUT2" wrong-code "root's verify used its code up: pam_totp refuses it"
C31=$(otp "$S3" 1)
who_ok "$E3" "pw-$E3$C31" && ok "the root-enrolled token logs in through slapo-otp" || not_ok "slapo-otp refused $E3's token"
te "" "" --user "$E3" -r fleet status --json
expect "$(j 'd["state"]')/$(j 'd["user"]')" "ready/$E3" "root's status for $E3: ready"
te "" "" --user "$E3" -r noadmin status --json
expect "$(j '"ldap_admin_binddn" in d["message"]')" True "root in a realm without an administrative identity is told to set ldap_admin_binddn"
te "" "" --user "$E3" -r fleet remove --json
expect "$RC/$(linked_to "$E3")/$(token_there "$E3")" "0//0" "root removes $E3's token: unlinked and deleted"

echo "1..$N"
[ "$FAILS" -eq 0 ]
