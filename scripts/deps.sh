#!/bin/sh
# Installs everything pam_totp needs to build, test and benchmark, from
# Debian 12's packages.  Run as root (or through sudo).
set -eu

BUILD="build-essential autoconf automake libtool pkg-config
	libpam0g-dev liboath-dev libqrencode-dev libpng-dev libgdbm-dev libcmocka-dev libcrypt-dev"
# The test suite drives real clients: pamtester, oathtool, python3-pyotp,
# zbarimg (with ImageMagick to draw the terminal's QR code), OpenSSH,
# pam_wrapper; clang and libFuzzer for fuzz/ (libclang-rt-14-dev holds
# libFuzzer and the sanitizer runtimes: clang only recommends it, and we
# install without recommends); and the peers the benchmark measures, its
# plot (gnuplot), its private mount namespace (util-linux's unshare) and its
# profiler (perf).
TEST="pamtester oathtool python3 python3-pyotp zbar-tools imagemagick
	libpam-wrapper libpamtest0-dev openssh-server openssh-client
	mandoc valgrind clang-format rsyslog clang libclang-rt-14-dev
	libpam-oath libpam-google-authenticator gnuplot-nox util-linux linux-perf"

# The Debian packages (tests/deb/run.sh): dpkg-buildpackage (dpkg-dev)
# with debhelper, lintian, autopkgtest (its null runner runs
# debian/tests/ here), and git (git archive: a clean copy of HEAD).
DEB="dpkg-dev debhelper lintian autopkgtest git"

want=${1:-all}
case "$want" in
build) pkgs=$BUILD ;;
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
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing
fi
