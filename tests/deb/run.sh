#!/bin/bash
# The Debian packages, built and used as a sysadmin would.  As root (it
# installs packages and runs pam-auth-update), from the top of a git
# checkout:
#
#     sudo tests/deb/run.sh
#
# 1. builds libpam-totp and totp-enroll with dpkg-buildpackage -us -uc -b
#    from a clean copy of HEAD (git archive) in a temp folder, with
#    DEB_BUILD_OPTIONS=nocheck (make check runs in the other stages), and
#    checks the tree it was run from is left untouched;
# 2. runs lintian on the .changes and on the source package (.dsc, made
#    by dpkg-source -b from the same copy): an error or a warning fails;
# 3. checks the .debs (dpkg -c): the module in the multiarch PAM folder,
#    exporting pam_sm_* only, hardened; the conffile; the profile;
# 4. saves /etc/pam.d/common-auth, apt-get installs the two .debs, runs
#    pam-auth-update --enable pam_totp and shows the diff;
# 5. runs the autopkgtest (autopkgtest ... -- null: on this machine),
#    debian/tests/pam-login: an enrolled user logs in through common-auth
#    with pamtester and oathtool's code, a wrong code is refused, a user
#    with no generator gets in (nullok);
# 6. root enrolls a user into a system store, apt-get purges both packages:
#    common-auth must be byte for byte as before, no file of the packages
#    is left, and /var/lib/totp is kept (it holds a store); installed and
#    purged again without a store, /var/lib/totp goes too.
#
# Not part of `make check`: it changes the system.  At exit, even after a
# failure, it purges the packages, puts common-auth back and removes what
# it made.  One line per check, then
#     deb: N passed, N failed
# ok and not_ok always succeed, so "test && ok || not_ok" is safe.
# shellcheck disable=SC2015
# @needs git dpkg-buildpackage dpkg-architecture lintian autopkgtest apt-get
# @needs pam-auth-update pamtester oathtool /usr/bin/python3 nm readelf useradd
set -uo pipefail
export LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive

top=$(cd "$(dirname "$0")/../.." && pwd)
passed=0 failed=0
ok() {
	passed=$((passed + 1))
	echo "ok - $*"
}
not_ok() {
	failed=$((failed + 1))
	echo "not ok - $*"
}
summary() {
	echo "deb: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

if [ "$(id -u)" -ne 0 ]; then
	echo "# deb: skipped: needs root (it installs packages and runs pam-auth-update)"
	echo "deb: 0 passed, 0 failed"
	exit 77
fi
for c in git dpkg-buildpackage dpkg-architecture lintian autopkgtest apt-get pam-auth-update \
	pamtester oathtool python3 nm readelf useradd; do
	command -v "$c" >/dev/null 2>&1 || {
		not_ok "$c is not installed (scripts/deps.sh)"
		summary
	}
done

PKGS=(libpam-totp totp-enroll)
CA=/etc/pam.d/common-auth
VLT=/var/lib/totp
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
PAMDIR=/lib/$MA/security
# apt-get waits for the dpkg lock instead of failing at once.
apt() { apt-get -o DPkg::Lock::Timeout=300 -y -q "$@"; }
installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }
# on_disk PKG: dpkg has something of it (installed, half-installed, config files...)
on_disk() {
	local st
	st=$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != not-installed ]
}

T=$(mktemp -d /tmp/pam_totp_deb.XXXXXX)
chmod 755 "$T"
# CLEANUP is shell code, run with eval, newest step first.
# shellcheck disable=SC2089,SC2090
CLEANUP="rm -rf '$T'"
at_exit() { CLEANUP="$1; $CLEANUP"; }
# shellcheck disable=SC2090
trap 'eval "$CLEANUP"' EXIT
trap 'exit 130' INT TERM HUP

# ---- what is here before -------------------------------------------------------
for p in "${PKGS[@]}"; do
	if on_disk "$p"; then
		not_ok "$p is installed already: this test would purge it; remove it first"
		summary
	fi
done
for f in /usr/bin/totp-enroll "$PAMDIR/pam_totp.so" /etc/security/pam_totp.conf; do
	if [ -e "$f" ]; then
		not_ok "$f is here already (make install?): this test would remove it; take it away first"
		summary
	fi
done
cp -a "$CA" "$T/common-auth.before" || {
	not_ok "cannot save $CA"
	summary
}
# Whatever happens, common-auth ends as it was: the packages' purge should
# do it (checked below); this only repairs a run that failed half way.
at_exit "cmp -s '$T/common-auth.before' '$CA' || cp -a '$T/common-auth.before' '$CA'"
vlt_before=no
[ -e "$VLT" ] && vlt_before=yes
if [ "$vlt_before" = no ]; then
	# only what this test puts there (the realm sudo's store), then the folder if empty
	at_exit "rm -rf '$VLT'/sudo.d '$VLT'/sudo.db '$VLT'/sudo.db.lock; rmdir '$VLT' 2>/dev/null"
fi
# A run that stopped half way purges what it installed.
# shellcheck disable=SC2317 # called from CLEANUP
purge_left() {
	local p
	for p in "${PKGS[@]}"; do
		if on_disk "$p"; then
			apt purge "${PKGS[@]}" >/dev/null 2>&1
			return
		fi
	done
}
at_exit purge_left

# ---- 1. build from a clean copy of HEAD -----------------------------------------
src=$T/build/pam-totp
mkdir -p "$src"
status_before=$(git -C "$top" status --porcelain --ignored 2>&1)
if git -C "$top" archive --format=tar HEAD | tar -xf - -C "$src"; then
	ok "a clean copy of HEAD ($(git -C "$top" rev-parse --short HEAD)) in $src"
else
	not_ok "git archive HEAD"
	summary
fi
[ -z "$(git -C "$top" status --porcelain --untracked-files=no)" ] ||
	echo "# deb: the work tree has uncommitted changes: they are not in this build (HEAD is)"
# The source package too, from the same pristine copy, for lintian's
# source checks (debian/control, debian/copyright, debian/tests).
if (cd "$T/build" && dpkg-source -b pam-totp) >"$T/source.log" 2>&1; then
	ok "dpkg-source -b: the source package"
else
	cat "$T/source.log"
	not_ok "dpkg-source -b"
fi
t0=$(date +%s)
if (cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
	dpkg-buildpackage -us -uc -b -Pnocheck) >"$T/build.log" 2>&1; then
	ok "dpkg-buildpackage -us -uc -b ($(($(date +%s) - t0)) s)"
else
	tail -n 40 "$T/build.log"
	not_ok "dpkg-buildpackage -us -uc -b"
	summary
fi
grep -q '^ok: only pam_sm_\* exported' "$T/build.log" &&
	ok "the build checked the module's exports (tests/module_exports.sh)" ||
	not_ok "the build did not check the module's exports"
grep -q 'hardening=+all' "$src/debian/rules" && ok "debian/rules: DEB_BUILD_MAINT_OPTIONS = hardening=+all" ||
	not_ok "debian/rules: no hardening=+all"
[ "$(git -C "$top" status --porcelain --ignored 2>&1)" = "$status_before" ] &&
	ok "the checkout is untouched (the build ran in the copy)" || not_ok "the build changed the checkout"
ver=$(cd "$src" && dpkg-parsechangelog -S Version)
acver=$(sed -n 's/^AC_INIT(\[pam_totp\], \[\([^]]*\)\].*/\1/p' "$src/configure.ac")
[ "$ver" = "$acver" ] && ok "debian/changelog's version is configure.ac's ($ver)" ||
	not_ok "debian/changelog says $ver, configure.ac $acver"
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
changes=$T/build/pam-totp_${ver}_$arch.changes
deb_mod=$T/build/libpam-totp_${ver}_$arch.deb
deb_cli=$T/build/totp-enroll_${ver}_$arch.deb
for f in "$changes" "$deb_mod" "$deb_cli" "$T/build/pam-totp_$ver.dsc"; do
	[ -f "$f" ] || {
		not_ok "not built: $f"
		summary
	}
done

# ---- 2. lintian ---------------------------------------------------------------------
dsc=$T/build/pam-totp_$ver.dsc
echo "# ---- lintian -I $(basename "$changes") $(basename "$dsc")"
lintian -I "$changes" "$dsc" >"$T/lintian.out" 2>"$T/lintian.err"
lrc=$?
sed 's/^/# lintian: /' "$T/lintian.out"
grep -q . "$T/lintian.out" || echo "# lintian: (no tags)"
if grep -qE '^[EW]: ' "$T/lintian.out" || [ "$lrc" -gt 1 ]; then
	[ "$lrc" -le 1 ] || cat "$T/lintian.err"
	not_ok "lintian: errors or warnings (above)"
else
	ok "lintian: no errors and no warnings ($(grep -c '^I: ' "$T/lintian.out") info tags)"
fi

# ---- 3. what the .debs hold ---------------------------------------------------------
for d in "$deb_mod" "$deb_cli"; do
	echo "# ---- dpkg -c $(basename "$d")"
	dpkg -c "$d" | sed 's/^/# /'
done
dpkg -c "$deb_mod" | awk '{ print $6 }' | sed 's|^\./|/|' >"$T/mod.list"
dpkg -c "$deb_cli" | awk '{ print $6 }' | sed 's|^\./|/|' >"$T/cli.list"
for f in "$PAMDIR/pam_totp.so" /etc/security/pam_totp.conf /usr/share/pam-configs/pam_totp \
	/usr/share/man/man8/pam_totp.8.gz /usr/share/man/man5/pam_totp.conf.5.gz \
	/usr/share/doc/libpam-totp/README.Debian /usr/share/doc/libpam-totp/copyright; do
	grep -qx "$f" "$T/mod.list" && ok "libpam-totp: $f" || not_ok "libpam-totp: no $f"
done
for f in /usr/bin/totp-enroll /usr/share/man/man1/totp-enroll.1.gz; do
	grep -qx "$f" "$T/cli.list" && ok "totp-enroll: $f" || not_ok "totp-enroll: no $f"
done
grep -q '\.la$' "$T/mod.list" "$T/cli.list" && not_ok "a libtool .la file is packaged" || ok "no .la file"
suid=$({ dpkg -c "$deb_mod" && dpkg -c "$deb_cli"; } | grep -E '^[-d]..[sS]|^[-d].....[sS]')
[ -z "$suid" ] && ok "no setuid or setgid bit" || not_ok "setuid or setgid: $suid"
dpkg-deb --ctrl-tarfile "$deb_mod" | tar -xOf - ./conffiles >"$T/conffiles" 2>/dev/null
expect_conffiles="/etc/security/pam_totp.conf"
[ "$(cat "$T/conffiles")" = "$expect_conffiles" ] && ok "conffiles: $expect_conffiles" ||
	not_ok "conffiles: $(cat "$T/conffiles")"
[ "$(dpkg-deb -f "$deb_mod" Recommends)" = totp-enroll ] && ok "libpam-totp Recommends totp-enroll" ||
	not_ok "libpam-totp Recommends: $(dpkg-deb -f "$deb_mod" Recommends)"
mkdir -p "$T/x"
dpkg-deb -x "$deb_mod" "$T/x" && dpkg-deb -x "$deb_cli" "$T/x"
prof=$T/x/usr/share/pam-configs/pam_totp
grep -qx 'Default: no' "$prof" && grep -qx 'Auth-Type: Additional' "$prof" &&
	grep -qE '^[[:space:]]+required[[:space:]]+pam_totp\.so nullok$' "$prof" &&
	ok "the profile: Default: no, Auth-Type: Additional, required pam_totp.so nullok" ||
	not_ok "the profile: $(cat "$prof")"
so=$T/x$PAMDIR/pam_totp.so
exports=$(nm -D --defined-only "$so" | awk 'NF == 3 { print $3 }' | sort | tr '\n' ' ')
[ "$exports" = "pam_sm_authenticate pam_sm_setcred " ] &&
	ok "the packaged module exports only pam_sm_authenticate and pam_sm_setcred" ||
	not_ok "the packaged module exports: $exports"
# Hardening, from the ELF headers: full RELRO (GNU_RELRO and BIND_NOW),
# a PIE, the stack protector and _FORTIFY_SOURCE's checked functions.
# (Each tool's output is read whole first: grep -q would close the pipe
# early, and pipefail would count the writer's SIGPIPE as a failure.)
for b in "$so" "$T/x/usr/bin/totp-enroll"; do
	n=${b#"$T"/x}
	segs=$(readelf -lW "$b") dyn=$(readelf -dW "$b") syms=$(nm -D "$b")
	grep -q GNU_RELRO <<<"$segs" && grep -qE 'BIND_NOW|FLAGS.*NOW' <<<"$dyn" &&
		ok "$n: full RELRO (bindnow)" || not_ok "$n: not full RELRO"
	grep -q ' U __stack_chk_fail' <<<"$syms" && ok "$n: stack protector" || not_ok "$n: no stack protector"
	grep -qE ' U __[a-z_]+_chk(@|$)' <<<"$syms" && ok "$n: fortified functions" || not_ok "$n: no _chk functions"
done
hdr=$(readelf -hW "$T/x/usr/bin/totp-enroll")
grep -q 'DYN (' <<<"$hdr" && ok "/usr/bin/totp-enroll: PIE" || not_ok "/usr/bin/totp-enroll is not PIE"

# ---- 4. apt-get install, pam-auth-update --enable ---------------------------------------
cp "$deb_mod" "$deb_cli" "$T/"
if (cd "$T" && apt install "./$(basename "$deb_mod")" "./$(basename "$deb_cli")") >"$T/install.log" 2>&1; then
	ok "apt-get install ./libpam-totp_*.deb ./totp-enroll_*.deb"
else
	cat "$T/install.log"
	not_ok "apt-get install of the .debs"
	summary
fi
for p in "${PKGS[@]}"; do installed "$p" && ok "$p is installed" || not_ok "$p is not installed"; done
dpkg -L "${PKGS[@]}" | sort -u >"$T/installed.list"
[ -f "$PAMDIR/pam_totp.so" ] && ok "$PAMDIR/pam_totp.so is on disk" || not_ok "no $PAMDIR/pam_totp.so"
if [ "$vlt_before" = no ]; then
	expect=$(stat -c '%U:%G %a %F' "$VLT" 2>&1)
	[ "$expect" = "root:root 700 directory" ] && ok "$VLT made: root:root 0700" || not_ok "$VLT: $expect"
fi
cmp -s "$T/common-auth.before" "$CA" && ok "installing changes no login (Default: no): common-auth as before" ||
	not_ok "installing changed common-auth: $(diff "$T/common-auth.before" "$CA")"

if pam-auth-update --enable pam_totp >"$T/pau.log" 2>&1; then
	ok "pam-auth-update --enable pam_totp"
else
	cat "$T/pau.log"
	not_ok "pam-auth-update --enable pam_totp"
fi
echo "# ---- diff -u common-auth.before $CA"
diff -u "$T/common-auth.before" "$CA" | sed 's/^/# /'
added=$(diff "$T/common-auth.before" "$CA" | grep '^[<>]' | sed 's/[[:space:]]\+/ /g')
[ "$added" = "> auth required pam_totp.so nullok" ] &&
	ok "common-auth gains one line: auth required pam_totp.so nullok" ||
	not_ok "common-auth changed by: $added"
add_line=$(grep -n 'pam_totp\.so' "$CA" | cut -d: -f1)
permit_line=$(grep -n 'pam_permit\.so' "$CA" | head -n 1 | cut -d: -f1)
[ -n "$add_line" ] && [ -n "$permit_line" ] && [ "$add_line" -gt "$permit_line" ] &&
	ok "pam_totp comes after the password (in the Additional block)" ||
	not_ok "pam_totp's line is not after the Primary block"

# ---- 5. logins: the autopkgtest -----------------------------------------------------
# Run by autopkgtest itself on this machine (the null runner), so that
# debian/tests/control is read as the archive's CI would: it installs the
# tests' Depends (here, @ is the two .debs, already in), runs pam-login as
# root and says PASS or FAIL.
echo "# ---- autopkgtest -B libpam-totp_*.deb totp-enroll_*.deb pam-totp/ -- null"
(cd "$T/build" && timeout -k 10 600 autopkgtest -B "./$(basename "$deb_mod")" "./$(basename "$deb_cli")" \
	pam-totp/ -- null) >"$T/apt.out" 2>&1
arc=$?
grep -E '^(not )?ok - |^pam-login |^autopkgtest .*(test pam-login|summary)' "$T/apt.out" | sed 's/^/  /'
passed=$((passed + $(grep -c '^ok - ' "$T/apt.out")))
failed=$((failed + $(grep -c '^not ok - ' "$T/apt.out")))
if [ "$arc" -eq 0 ] && grep -qE '^pam-login +PASS' "$T/apt.out"; then
	ok "autopkgtest: pam-login PASS"
else
	tail -n 40 "$T/apt.out"
	not_ok "autopkgtest exited $arc"
fi
grep -q 'pam_totp\.so' "$CA" && ok "the test left the profile on (it was on before it ran)" ||
	not_ok "the autopkgtest turned the profile off"
for p in "${PKGS[@]}"; do installed "$p" || not_ok "$p is no longer installed after autopkgtest"; done

# An upgrade (here a reinstall: prerm upgrade, postinst configure) keeps
# the admin's choice: the profile stays on.
if (cd "$T" && apt install --reinstall "./$(basename "$deb_mod")") >"$T/reinstall.log" 2>&1; then
	grep -q 'pam_totp\.so' "$CA" && ok "a reinstall (upgrade path) keeps the profile on" ||
		not_ok "a reinstall turned the profile off"
else
	cat "$T/reinstall.log"
	not_ok "apt-get install --reinstall"
fi

# ---- 6. a system store, then purge ---------------------------------------------------
# A system store is the realm's shards, $VLT/sudo.d/NNN.db (and their locks).
store_files() { find "$VLT/sudo.d" -type f -name '*.db' 2>/dev/null | sort; }
store_sum() { store_files | xargs -r md5sum | md5sum | cut -c1-32; }
# Only in a /var/lib/totp this test made: stores that were here before are
# never touched.
if [ "$vlt_before" = no ]; then
	SU=totpdebsys$$
	useradd -M -s /usr/sbin/nologin "$SU" >/dev/null 2>&1 && at_exit "userdel '$SU' 2>/dev/null" ||
		not_ok "useradd $SU"
	if totp-enroll --realm sudo --user "$SU" --json </dev/null >"$T/sys.json" 2>&1 &&
		[ -n "$(store_files)" ]; then
		ok "root enrolls $SU into the system store $VLT/sudo.d/ (realm sudo of the shipped conffile)"
	else
		not_ok "system store: $(cat "$T/sys.json"); $VLT holds: $(ls -R "$VLT" 2>&1)"
	fi
	sum_store=$(store_sum)
else
	echo "# deb: $VLT was here before: its stores are left alone (no system-store check)"
fi

if apt purge "${PKGS[@]}" >"$T/purge.log" 2>&1; then
	ok "apt-get purge -y ${PKGS[*]}"
else
	cat "$T/purge.log"
	not_ok "apt-get purge"
fi
for p in "${PKGS[@]}"; do
	on_disk "$p" && not_ok "$p is still known to dpkg: $(dpkg-query -W -f='${db:Status-Status}' "$p")" ||
		ok "$p is gone from dpkg (purged, not just removed)"
done
echo "# ---- the purge check"
if cmp "$T/common-auth.before" "$CA"; then
	echo "# cmp common-auth.before $CA: identical ($(md5sum <"$CA" | cut -c1-32))"
	ok "common-auth is byte for byte what it was before"
else
	diff -u "$T/common-auth.before" "$CA" | sed 's/^/# /'
	not_ok "common-auth differs after the purge"
fi
grep -l 'pam_totp' /var/lib/pam/* >"$T/pamstate" 2>/dev/null
[ ! -s "$T/pamstate" ] && ok "pam-auth-update's state (/var/lib/pam) no longer names pam_totp" ||
	not_ok "pam_totp is still in $(cat "$T/pamstate")"
left=""
while read -r f; do
	case $f in /var/lib/totp | /var/lib/totp/*) continue ;; esac
	[ -e "$f" ] && [ ! -d "$f" ] && left="$left $f"
done <"$T/installed.list"
for f in /etc/security/pam_totp.conf /usr/share/doc/libpam-totp /usr/share/doc/totp-enroll \
	/var/lib/dpkg/info/libpam-totp[.:]* /var/lib/dpkg/info/totp-enroll[.:]*; do
	[ -e "$f" ] && left="$left $f"
done
echo "# files of the packages (dpkg -L, $(wc -l <"$T/installed.list") paths) still on disk outside $VLT:${left:- none}"
[ -z "$left" ] && ok "no file of the packages is left outside $VLT" || not_ok "left after purge:$left"
echo "# $VLT after the purge: $(ls -ld "$VLT" 2>&1); holds: $(cd "$VLT" 2>/dev/null && echo *)"
if [ "$vlt_before" = no ]; then
	[ -n "$(store_files)" ] && [ "$(store_sum)" = "$sum_store" ] &&
		ok "purge keeps $VLT and the system store in it, unchanged" || not_ok "purge touched $VLT"
else
	[ -d "$VLT" ] && ok "purge keeps $VLT, which was here before" || not_ok "purge removed $VLT"
fi

# Without stores, purge takes /var/lib/totp away (only if this test made it).
if [ "$vlt_before" = no ]; then
	rm -rf "$VLT"/sudo.d
	if (cd "$T" && apt install --no-install-recommends "./$(basename "$deb_mod")") >"$T/install2.log" 2>&1 &&
		apt purge libpam-totp >"$T/purge2.log" 2>&1; then
		[ ! -e "$VLT" ] && ok "installed and purged again with $VLT empty: $VLT is gone" ||
			not_ok "$VLT is left empty: $(ls -la "$VLT" 2>&1)"
	else
		cat "$T/install2.log" "$T/purge2.log"
		not_ok "second install and purge"
	fi
	cmp -s "$T/common-auth.before" "$CA" && ok "common-auth still as before" || not_ok "common-auth changed"
fi
summary
