#!/bin/sh
# Files written by Debian's own `google-authenticator` (package
# libpam-google-authenticator) parse to the secret, counter, step and
# scratch codes that are in them, and the file is left as it was.
# Skips (77) when the command is not installed.
# @needs google-authenticator oathtool
set -eu

: "${top_builddir:=.}"
dump="$top_builddir/tests/import_dump"
command -v google-authenticator >/dev/null 2>&1 || {
	echo "SKIP: google-authenticator (libpam-google-authenticator) is not installed"
	exit 77
}
command -v oathtool >/dev/null 2>&1 || { echo "SKIP: oathtool is not installed"; exit 77; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

field() { # field NAME LINE
	printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# The scratch codes of a GA file, comma-separated, in order.
codes_of() {
	grep -E '^[1-9][0-9]{7}$' "$1" | paste -sd, -
}

check_file() { # check_file FILE TYPE PERIOD WINDOW COUNTER
	f=$1
	before=$(sha256sum "$f")
	out=$("$dump" ga "$f") || fail "$f refused"
	[ "$(sha256sum "$f")" = "$before" ] || fail "$f was changed"
	[ "$(field type "$out")" = "$2" ] || fail "$f: type $(field type "$out"), want $2"
	[ "$(field period "$out")" = "$3" ] || fail "$f: period $(field period "$out")"
	[ "$(field window "$out")" = "$4" ] || fail "$f: window $(field window "$out")"
	[ "$(field counter "$out")" = "$5" ] || fail "$f: counter $(field counter "$out")"
	[ "$(field digits "$out")" = 6 ] || fail "$f: digits"
	[ "$(field codes "$out")" = "$(codes_of "$f")" ] || fail "$f: scratch codes differ"
	ours=$(field secret "$out")
	theirs=$(head -n1 "$f")
	# the same key: the same codes from oathtool, for their secret and ours
	if [ "$2" = totp ]; then
		a=$(oathtool --totp -s "${3}s" -N "@1700000000" -b "$theirs")
		b=$(oathtool --totp -s "${3}s" -N "@1700000000" -b "$ours")
	else
		a=$(oathtool --hotp -c "$5" -b "$theirs")
		b=$(oathtool --hotp -c "$5" -b "$ours")
	fi
	[ "$a" = "$b" ] || fail "$f: the secret decodes differently ($a, $b)"
}

google-authenticator -t -d -f -r 3 -R 30 -w 3 -s "$tmp/totp" -Q NONE -q </dev/null
check_file "$tmp/totp" totp 30 1 0

google-authenticator -t -D -f -u -S 60 -w 17 -e 10 -s "$tmp/totp60" -Q NONE -q </dev/null
check_file "$tmp/totp60" totp 60 8 0

google-authenticator -c -f -u -w 5 -s "$tmp/hotp" -Q NONE -q </dev/null
check_file "$tmp/hotp" hotp 30 4 1

google-authenticator -t -d -f -u -w 3 -e 0 -s "$tmp/nocodes" -Q NONE -q </dev/null
check_file "$tmp/nocodes" totp 30 1 0

echo "PASS: google-authenticator files (TOTP, TOTP 60 s, HOTP, no codes) parsed"
