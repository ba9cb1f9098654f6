#!/bin/bash
# Quick start on Debian 12:  sudo ./scripts/quickstart.sh
# Installs the build dependencies, builds, installs pam_totp.so and
# totp-enroll into the system paths, then enrolls the invoking user (the
# one who ran sudo) in the default realm, as that user: the store is the
# user's own ~/.config/totp/default.db.  Wiring the module into a PAM
# service is left to you: see conf/ and pam_totp(8).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

if [ "$(id -u)" -ne 0 ]; then
	echo "run me with sudo: installing needs root, enrolling runs as you" >&2
	exit 77
fi
who=${SUDO_USER:-root}

./scripts/deps.sh build
autoreconf -fi >/dev/null
# In a folder of its own: a source tree configured in place would make
# test-all.sh's builds (and make distcheck) refuse to configure.
mkdir -p _build-quickstart
(cd _build-quickstart && ../configure -q --prefix=/usr --sysconfdir=/etc --localstatedir=/var &&
	make -s -j"$(nproc)" && make -s install)
echo "installed: $(command -v totp-enroll), pam_totp.so in $(pkg-config --variable=libdir pam)/security"

if [ "$who" = root ]; then
	exec totp-enroll
fi
# Enroll as the user, never as root on the user's behalf: the store must
# be the user's own file.
exec runuser -u "$who" -- totp-enroll
