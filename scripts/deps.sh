#!/bin/sh
# Installs everything pam_totp needs to build, test and benchmark, from
# Debian 12's packages.  Run as root (or through sudo).
set -eu

BUILD="build-essential autoconf automake libtool pkg-config
	libpam0g-dev liboath-dev libqrencode-dev libpng-dev libgdbm-dev libcmocka-dev libcrypt-dev
	libldap-dev"
# The test suite drives real clients: pamtester, oathtool, python3-pyotp,
# zbarimg (reading the QR codes), rsvg-convert (drawing the SVG one),
# useradd and chpasswd (passwd: throwaway test accounts), nm (binutils:
# what the module exports), OpenSSH,
# pam_wrapper; clang and libFuzzer for fuzz/ (libclang-rt-14-dev holds
# libFuzzer and the sanitizer runtimes: clang only recommends it, and we
# install without recommends); and the peers the benchmark measures, its
# plot (gnuplot), its private mount namespace (util-linux's unshare), its
# profiler (perf), pgrep (procps: it waits for an earlier run's folder
# to be removed), and mkfs.xfs (xfsprogs) for its opt-in XFS part
# (BENCH_XFS=yes: the stores on a loop-mounted XFS image with reflinks;
# skipped, with a message, without it).
TEST="pamtester oathtool python3 python3-pyotp zbar-tools librsvg2-bin passwd
	libpam-wrapper libpamtest0-dev openssh-server openssh-client
	binutils mandoc valgrind clang-format rsyslog clang libclang-rt-14-dev
	libpam-oath libpam-google-authenticator gnuplot-nox util-linux procps linux-perf xfsprogs
	slapd ldap-utils openssl"
# The ldap realm's tests (issue 14) run their own slapd (tests/ldap/): its
# package must not start the system one, so it is installed apart, under a
# policy-rc.d that denies every start (exit 101), put back as it was.

# The Debian packages (tests/deb/run.sh): dpkg-buildpackage (dpkg-dev)
# with debhelper, lintian, autopkgtest (its null runner runs
# debian/tests/ here), git (git archive: a clean copy of HEAD) and apt
# (apt-get installs the built .debs; always there, named for deps_check).
DEB="dpkg-dev debhelper lintian autopkgtest git apt"

# deps.sh [build|all|list]: list prints the packages (tests/deps_check.sh
# holds every program the tests run against it) and installs nothing.
want=${1:-all}
case "$want" in
build) pkgs=$BUILD ;;
list)
	# shellcheck disable=SC2086
	printf '%s\n' $BUILD $TEST $DEB
	exit 0
	;;
*) pkgs="$BUILD $TEST $DEB" ;;
esac

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	rest="" want_slapd=""
	for p in $missing; do
		if [ "$p" = slapd ]; then want_slapd=1; else rest="$rest $p"; fi
	done
	if [ -n "$rest" ]; then
		# shellcheck disable=SC2086
		apt-get install -y -qq --no-install-recommends $rest
	fi
	if [ -n "$want_slapd" ]; then
		prc=/usr/sbin/policy-rc.d saved=""
		if [ -e "$prc" ]; then saved=$(mktemp); cp -p "$prc" "$saved"; fi
		printf '#!/bin/sh\nexit 101\n' >"$prc"
		chmod 755 "$prc"
		rc=0
		apt-get install -y -qq --no-install-recommends slapd || rc=$?
		if [ -n "$saved" ]; then mv "$saved" "$prc"; else rm -f "$prc"; fi
		[ "$rc" -eq 0 ] || exit "$rc"
	fi
fi
