#!/bin/bash
# End-to-end tests, with real clients: pamtester, oathtool, pyotp, zbarimg,
# OpenSSH.  Run as root from the top of a source tree:
#
#     sudo tests/e2e/run.sh
#
# Builds in _build-e2e for the real system paths (prefix /usr, sysconfdir
# /etc, localstatedir /var; the module goes to the system's PAM module
# folder), checks a `make install DESTDIR=...` for packagers, runs
# `make install`, then every scenario script, and `make uninstall` at the
# end (unless pam_totp was installed there before, then it stays).  Each
# scenario undoes its own users, PAM services, daemons and files.  Not
# part of `make check`: it changes the system.
#
# Prints one TAP-like line per check and ends with
#     e2e: N passed, N failed
# ok and not_ok always succeed, so "test && ok || not_ok" is safe.
# shellcheck disable=SC2015
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
e2e=$top/tests/e2e
if [ "$(id -u)" -ne 0 ]; then
	echo "e2e: skipped: needs root (it installs pam_totp and adds users and PAM services)"
	echo "e2e: 0 passed, 0 failed"
	exit 77
fi

SCENARIOS=${E2E_SCENARIOS:-"s1_pamtester_oathtool.sh s2_sshd.sh s3_qr_pyotp.sh s4_system_store_su.sh s5_sha256_8digits.sh s6_rollout.sh s7_ldap_sshd.sh"}
LIMIT=${E2E_TIMEOUT:-900} # seconds per scenario: a hang guard, not a speed check
build=$top/_build-e2e
jobs=$(nproc 2>/dev/null || echo 2)
passed=0 failed=0 skipped=0

ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }

T=$(mktemp -d /tmp/pam_totp_e2e_run.XXXXXX)
# CLEANUP is shell code, run with eval.
# shellcheck disable=SC2089,SC2090
CLEANUP="rm -rf '$T'"
# shellcheck disable=SC2090
trap 'eval "$CLEANUP"' EXIT
trap 'exit 130' INT TERM HUP

summary() {
	[ "$skipped" -eq 0 ] || echo "# e2e: $skipped skipped"
	echo "e2e: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

# ---- build, and the packagers' install ------------------------------------
echo "# e2e: building in $build"
[ -x "$top/configure" ] || (cd "$top" && autoreconf -fi >/dev/null 2>&1)
rm -rf "$build"
mkdir -p "$build"
if (cd "$build" && "$top/configure" -q --prefix=/usr --sysconfdir=/etc --localstatedir=/var &&
	make -s -j"$jobs") >"$T/build.log" 2>&1; then
	ok "build for prefix /usr, sysconfdir /etc, localstatedir /var"
else
	tail -n 30 "$T/build.log"
	not_ok "build for the system paths"
	summary
fi
pamdir=$(sed -n 's/^PAMDIR = //p' "$build/Makefile")

dest=$T/destdir
if (cd "$build" && make -s install DESTDIR="$dest") >"$T/destdir.log" 2>&1; then
	ok "make install DESTDIR=..."
else
	tail -n 20 "$T/destdir.log"
	not_ok "make install DESTDIR=..."
fi
for f in /usr/bin/totp-enroll "$pamdir/pam_totp.so" /usr/share/man/man1/totp-enroll.1 \
	/usr/share/man/man8/pam_totp.8 /usr/share/man/man5/pam_totp.conf.5; do
	[ -f "$dest$f" ] && ok "DESTDIR: $f" || not_ok "DESTDIR: $f missing"
done
[ -x "$dest/usr/bin/totp-enroll" ] && ok "DESTDIR: totp-enroll is executable" || not_ok "DESTDIR: totp-enroll not executable"
left=$(find "$dest" -name '*.la')
[ -z "$left" ] && ok "DESTDIR: no libtool .la files" || not_ok "DESTDIR: left $left"
suid=$(find "$dest" -perm /6000)
[ -z "$suid" ] && ok "DESTDIR: no setuid or setgid bit" || not_ok "DESTDIR: setuid/setgid: $suid"
outside=$(cd "$dest" && find . -type f | grep -vE "^\./(usr/|etc/|var/|${pamdir#/})" || true)
[ -z "$outside" ] && ok "DESTDIR: every file under /usr, /etc, /var or the PAM folder" ||
	not_ok "DESTDIR: files elsewhere: $outside"
rm -rf "$dest"

# ---- the real install ---------------------------------------------------------
preinstalled=no
[ -e /usr/bin/totp-enroll ] || [ -e "$pamdir/pam_totp.so" ] && preinstalled=yes
if (cd "$build" && make -s install) >"$T/install.log" 2>&1; then
	ok "make install into the system"
else
	tail -n 20 "$T/install.log"
	not_ok "make install into the system"
	summary
fi
if [ "$preinstalled" = no ]; then
	CLEANUP="(cd '$build' && make -s uninstall >/dev/null 2>&1); $CLEANUP"
else
	echo "# e2e: pam_totp was installed before: this build's install stays"
fi
[ -f "$pamdir/pam_totp.so" ] && ok "pam_totp.so is in the PAM module folder ($pamdir)" ||
	not_ok "no $pamdir/pam_totp.so"
[ "$(stat -c '%a' /usr/bin/totp-enroll 2>/dev/null)" = 755 ] && ok "totp-enroll installed 0755 (no setuid)" ||
	not_ok "totp-enroll: mode $(stat -c '%a' /usr/bin/totp-enroll 2>&1)"

# ---- the scenarios -------------------------------------------------------------
export E2E_PAMDIR=$pamdir
for s in $SCENARIOS; do
	echo "# ---- $s"
	rc=0
	timeout -k 10 "$LIMIT" bash "$e2e/$s" >"$T/out" 2>&1 || rc=$?
	cat "$T/out"
	passed=$((passed + $(grep -c '^ok - ' "$T/out")))
	failed=$((failed + $(grep -c '^not ok - ' "$T/out")))
	case $rc in
	0) ;;
	77) skipped=$((skipped + 1)) ;;
	124 | 137) not_ok "$s: timed out after $LIMIT s" ;;
	*) grep -q '^not ok - ' "$T/out" || not_ok "$s: exited $rc" ;;
	esac
done
summary
