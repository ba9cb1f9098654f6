#!/bin/bash
# Scenario 1: pamtester and oathtool.  A new user, as themselves (su, not
# root), registers with `totp-enroll --json` in their own user store;
# oathtool computes the code from the returned secret and `totp-enroll
# verify` confirms it; pamtester logs in through a PAM service holding
# pam_totp with the next code.  The same code again, an older one and a
# wrong one are refused; the syslog lines appear, naming user and service,
# and hold no code or secret.
# ok and not_ok always succeed, so "test && ok || not_ok" is safe.
# shellcheck disable=SC2015
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
need pamtester oathtool useradd su

U=pame2e1_$$
SVC=pam_totp_e2e_s1_$$
install_conf
make_user "$U"
pam_service "$SVC" "auth required pam_totp.so
account required pam_permit.so"
syslog_setup && ok "syslog: module lines can be read ($LOGSRC)" || not_ok "syslog: no working syslog (see $T)"
pos=$(syslog_pos)

settle
enroll "$U" -- --json
[ "$RC" -eq 0 ] && ok "the user registers: totp-enroll --json" || bail "totp-enroll --json: exit $RC: $OUT $ERR"
S=$(jget 'j["secret"]')
case $(jget 'j["uri"]') in
"otpauth://totp/"*"secret=$S"*) ok "the URI holds the secret" ;;
*) not_ok "URI: $(jget 'j["uri"]')" ;;
esac
DB=$T/home/$U/.config/totp/default.db
expect_eq "$(stat -c '%U %a' "$DB" 2>&1)" "$U 600" "the user store is the user's, 0600"

C0=$(code "$S" 0)
login "$SVC" "$U" "$C0" && not_ok "pamtester passed a pending registration" ||
	ok "a pending registration logs nobody in"

enroll "$U" -- verify "$C0"
expect_eq "$RC" 0 "totp-enroll verify with oathtool's code"
enroll "$U" -- status --json
expect_eq "$(jget 'j["state"]')" ready "status: ready"

C1=$(code "$S" 1)
login "$SVC" "$U" "$C1" && ok "pamtester logs in with a fresh code" ||
	not_ok "pamtester refused a fresh code: $(cat "$T/pamtester.out")"
login "$SVC" "$U" "$C1" && not_ok "the same code was accepted twice" || ok "the same code again fails (replay)"
login "$SVC" "$U" "$C0" && not_ok "an older step was accepted" || ok "the verify code (an older step) fails"
W=$(wrong_code "$S")
login "$SVC" "$U" "$W" && not_ok "a wrong code was accepted" || ok "a wrong code fails"
grep -q 'Authentication failure' "$T/pamtester.out" && ok "pamtester reports an authentication failure" ||
	not_ok "pamtester said: $(cat "$T/pamtester.out")"

# The log: who and where, never a code or the secret.
line="pam_totp\\($SVC:auth\\): accepted a code of generator default; user=$U realm=default service=$SVC"
if wait_log "$pos" "$line"; then ok "syslog: the accepted login, with user and service"; else
	not_ok "syslog: no line like '$line'"
fi
wait_log "$pos" "pam_totp\\($SVC:auth\\): refused: wrong code.*user=$U" &&
	ok "syslog: the refused logins" || not_ok "syslog: no refusal logged"
ours=$(syslog_since "$pos" | grep "pam_totp($SVC" | sed 's/.*pam_totp(//')
leaked=""
for x in "$C0" "$C1" "$W" "$S"; do
	printf '%s\n' "$ours" | grep -qF "$x" && leaked="$leaked $x"
done
[ -n "$ours" ] && [ -z "$leaked" ] && ok "syslog: no code and no secret in the module's lines" ||
	not_ok "syslog: leaked [$leaked] in: $ours"

enroll "$U" -- remove
expect_eq "$RC" 0 "the user removes the generator"
enroll "$U" -- status --json
expect_eq "$RC/$(jget 'j["code"]')" "67/5" "status after remove: not found"
finish
