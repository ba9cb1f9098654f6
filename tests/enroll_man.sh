#!/bin/sh
# man/totp-enroll.1 is clean under mandoc -Tlint.  Only the "referenced
# manual not found" style notes are let through: pam_totp(8) and
# pam_totp.conf(5) are this package's own, found once it is installed.
. "${top_srcdir:-.}/tests/enroll_lib.sh"
need mandoc
page=$SRC/man/totp-enroll.1
msgs=$(mandoc -Tlint "$page" 2>&1 | grep -v 'referenced manual not found: Xr pam_totp' |
	grep -v 'outdated mandoc.db') || true
expect_eq "$msgs" "" "mandoc -Tlint has nothing to say"
for s in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" EXAMPLES; do
	if grep -q "^\.Sh $s\$" "$page"; then ok "section $s"; else not_ok "no $s"; fi
done
finish
