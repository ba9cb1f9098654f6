#!/bin/sh
# The module's manual pages are clean under mandoc -Tlint (warnings and
# worse; STYLE notes about pages not installed on this host do not count).
# @needs mandoc
set -eu
command -v mandoc >/dev/null 2>&1 || { echo "mandoc not installed"; exit 77; }
src=${top_srcdir:-.}
mandoc -Tlint -Wwarning "$src/man/pam_totp.8" "$src/man/pam_totp.conf.5"
echo "ok: man/pam_totp.8 man/pam_totp.conf.5 lint clean"
