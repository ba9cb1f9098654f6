#!/bin/bash
# Scenario 3: the QR code and a second implementation.  The QR code that
# `totp-enroll` prints on the terminal (UTF-8 half blocks, and ANSI
# colours), painted into an image by tests/qr_image.py as a terminal
# would, decodes with zbarimg to exactly the URI printed below it.
# python3-pyotp parses that URI and gives the same codes as oathtool; its
# codes then verify the registration and log in through pamtester.  A
# removed generator no longer logs in, even with a code that would be
# fresh.
# ok and not_ok always succeed, so "test && ok || not_ok" is safe.
# shellcheck disable=SC2015
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
need zbarimg oathtool pamtester useradd
need_py pyotp
QRIMG=$TOP/tests/qr_image.py
[ -f "$QRIMG" ] || skip_all "tests/qr_image.py (from the enroll branch) is missing"

U=pame2e3_$$
SVC=pam_totp_e2e_s3_$$
install_conf
make_user "$U"
pam_service "$SVC" "auth required pam_totp.so
account required pam_permit.so"

uri_of_text() { printf '%s\n' "$OUT" | sed -n 's/^  \(otpauth:\/\/.*\)$/\1/p'; }
# pyotp URI OFFSET: pyotp's code for the step OFFSET steps from now.
pyotp_code() {
	"$PY" -c 'import pyotp, sys, time
print(pyotp.parse_uri(sys.argv[1]).at(int(time.time()) + 30 * int(sys.argv[2])))' "$1" "$2"
}

for mode in utf8 ansi; do
	enroll "$U" -- register --qr=$mode
	expect_eq "$RC" 0 "totp-enroll register --qr=$mode (text)"
	URI=$(uri_of_text)
	case $URI in otpauth://totp/*) ;; *) not_ok "$mode: no URI printed"; continue ;; esac
	if printf '%s' "$OUT" | "$PY" "$QRIMG" "$T/$mode.pgm"; then
		expect_eq "$(zbarimg -q --raw "$T/$mode.pgm" 2>/dev/null)" "$URI" "$mode: zbarimg decodes the QR code to the printed URI"
	else
		not_ok "$mode: the terminal output did not make an image"
	fi
done
S=$(printf '%s' "$URI" | sed -n 's/.*[?&]secret=\([A-Z2-7]*\).*/\1/p')
grouped=$(printf '%s\n' "$OUT" | grep -E '^  ([A-Z2-7]{1,4} )+[A-Z2-7]{1,4}$' | tr -d ' ')
expect_eq "$grouped" "$S" "the secret typed by hand is the URI's"

# pyotp and oathtool agree, at fixed times (a step boundary cannot split them).
now=$(date +%s)
agree=$("$PY" -c 'import pyotp, sys
t = int(sys.argv[2])
print(" ".join(pyotp.parse_uri(sys.argv[1]).at(t + 30 * k) for k in range(-1, 3)))' "$URI" "$now")
oath=$(for k in -1 0 1 2; do oathtool --totp -N "@$((now + 30 * k))" -b "$S"; done | tr '\n' ' ' | sed 's/ $//')
expect_eq "$agree" "$oath" "pyotp.parse_uri gives oathtool's codes"
[ -n "$agree" ] || not_ok "pyotp gave no codes"

settle
enroll "$U" -- verify "$(pyotp_code "$URI" 0)"
expect_eq "$RC" 0 "pyotp's code verifies the registration"
enroll "$U" -- remove
expect_eq "$RC" 0 "the user removes the generator"
login "$SVC" "$U" "$(pyotp_code "$URI" 1)" && not_ok "a removed generator logged in" ||
	ok "a removed generator does not log in, even with a fresh code"

enroll "$U" -- register --json
expect_eq "$RC" 0 "registers again (--json)"
URI=$(jget 'j["uri"]')
enroll "$U" -- verify "$(pyotp_code "$URI" 0)"
expect_eq "$RC" 0 "pyotp's code verifies the new registration"
# one code for both logins: made again, it would be a fresh one whenever
# a step ended in between
C1=$(pyotp_code "$URI" 1)
login "$SVC" "$U" "$C1" && ok "pamtester logs in with pyotp's next code" ||
	not_ok "pyotp's next code was refused: $(cat "$T/pamtester.out")"
login "$SVC" "$U" "$C1" && not_ok "pyotp's code was accepted twice" ||
	ok "the same code again fails (replay)"
finish
