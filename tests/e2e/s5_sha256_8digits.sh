#!/bin/bash
# Scenario 5: an 8-digit SHA256 realm.  The realm e2e-sha256 of
# /etc/security/pam_totp.conf says `digits = 8` and `algorithm = sha256`;
# a user enrolls in it (their own store), and the codes of
# `oathtool --totp=sha256 -d 8` verify and log in through a PAM service
# with `pam_totp.so realm=e2e-sha256`.  Refused: the same code again, a
# wrong 8-digit code, the SHA1 code of the same secret, and the 6-digit
# tail of the right code.
# ok and not_ok always succeed, so "test && ok || not_ok" is safe.
# shellcheck disable=SC2015
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
need oathtool pamtester useradd

U=pame2e5_$$
SVC=pam_totp_e2e_s5_$$
REALM=e2e-sha256
SHA256=(--totp=sha256 -d 8)
install_conf
make_user "$U"
pam_service "$SVC" "auth required pam_totp.so realm=$REALM
account required pam_permit.so"

settle
enroll "$U" -- --realm "$REALM" --json
expect_eq "$RC" 0 "the user registers in realm $REALM"
S=$(jget 'j["secret"]')
URI=$(jget 'j["uri"]')
case $URI in
*"algorithm=SHA256"*"digits=8"*) ok "the URI says SHA256 and 8 digits" ;;
*) not_ok "URI: $URI" ;;
esac
n=$(printf '%s' "$S" | wc -c)
[ "$n" -ge 51 ] && ok "the secret is 32 bytes or more (SHA256's length): $n base32 characters" ||
	not_ok "secret of $n base32 characters"
[ -f "$T/home/$U/.config/totp/$REALM.db" ] && ok "the realm's own database: ~/.config/totp/$REALM.db" ||
	not_ok "no ~/.config/totp/$REALM.db"
if "$PY" -c 'import pyotp' 2>/dev/null; then
	now=$(date +%s)
	expect_eq "$("$PY" -c 'import pyotp, sys; print(pyotp.parse_uri(sys.argv[1]).at(int(sys.argv[2])))' "$URI" "$now")" \
		"$(oathtool "${SHA256[@]}" -N "@$now" -b "$S")" "pyotp agrees with oathtool on SHA256, 8 digits"
fi

C0=$(code "$S" 0 "${SHA256[@]}")
expect_eq "${#C0}" 8 "oathtool --totp=sha256 -d 8 gives 8 digits"
enroll "$U" -- --realm "$REALM" verify "$(code "$S" 0)"
[ "$RC" -ne 0 ] && ok "verify refuses the SHA1 6-digit code" || not_ok "verify took a SHA1 code"
enroll "$U" -- --realm "$REALM" verify "$C0"
expect_eq "$RC" 0 "verify with oathtool's SHA256 8-digit code"

C1=$(code "$S" 1 "${SHA256[@]}")
login "$SVC" "$U" "$(code "$S" 1 --totp -d 8)" && not_ok "the SHA1 code of the same secret logged in" ||
	ok "the SHA1 8-digit code of the same secret fails"
login "$SVC" "$U" "${C1:2}" && not_ok "the 6-digit tail of the code logged in" || ok "the 6-digit tail of the code fails"
login "$SVC" "$U" "$C1" && ok "pamtester logs in with the SHA256 8-digit code" ||
	not_ok "the SHA256 8-digit code was refused: $(cat "$T/pamtester.out")"
login "$SVC" "$U" "$C1" && not_ok "the same code was accepted twice" || ok "the same code again fails (replay)"
login "$SVC" "$U" "$(wrong_code "$S" "${SHA256[@]}")" && not_ok "a wrong code logged in" || ok "a wrong 8-digit code fails"
enroll "$U" -- --realm "$REALM" status --json
expect_eq "$(jget 'j["algorithm"]')/$(jget 'j["digits"]')/$(jget 'j["failures"]')" "SHA256/8/2" \
	"status: sha256, 8 digits, the two failures since the login"
finish
