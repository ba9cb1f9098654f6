#!/bin/sh
# pam_totp.so lives in other people's processes: it must export the PAM
# entry points and nothing else (no lib/ symbol can clash with theirs).
# @needs nm
set -eu
so="${top_builddir:-.}/.libs/pam_totp.so"
if [ ! -f "$so" ]; then
	echo "missing $so: build the module first" >&2
	exit 99
fi
all=$(nm -D --defined-only "$so" | awk 'NF == 3 { print $3 }')
echo "exported: $(echo $all)"
others=$(printf '%s\n' "$all" | grep -v '^pam_sm_' || true)
if [ -n "$others" ]; then
	echo "exports more than pam_sm_*: $others" >&2
	exit 1
fi
printf '%s\n' "$all" | grep -qx pam_sm_authenticate
printf '%s\n' "$all" | grep -qx pam_sm_setcred
echo "ok: only pam_sm_* exported"
