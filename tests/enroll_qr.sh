#!/bin/sh
# The QR code, in every mode, decodes to exactly the printed URI:
# UTF-8 half blocks and ANSI (each turned into an image by qr_image.py),
# the automatic choice by locale, and the PNG and SVG files of --qr-file.
# Runs as whoever runs it, on a user store in the temp folder.
# shellcheck disable=SC3043
. "${top_srcdir:-.}/tests/enroll_lib.sh"
need zbarimg rsvg-convert

home=$(getent passwd "$(id -un)" | cut -d: -f6)
printf 'emergency_codes = 1\nstore = %s/s%%h/%%r.db\n' "$T" >"$T/conf"
chmod 644 "$T/conf"
# shellcheck disable=SC2086
e() { run "" -- --conf "$T/conf" "$@"; }
DB=$T/s$home/default.db

uri_of_text() { printf '%s\n' "$OUT" | sed -n 's/^  \(otpauth:\/\/.*\)$/\1/p'; }

# decode IMAGE: what zbarimg reads in it, exactly one code.
decode() { zbarimg -q --raw "$1" 2>/dev/null; }

# term_check NAME: the QR code in $OUT decodes to the URI printed below it.
term_check() {
	local uri got
	uri=$(uri_of_text)
	[ -n "$uri" ] || { not_ok "$1: no URI printed"; return; }
	if printf '%s' "$OUT" | "$PY" "$SRC/tests/qr_image.py" "$T/$1.pgm"; then
		got=$(decode "$T/$1.pgm")
		expect_eq "$got" "$uri" "$1: the QR code decodes to the printed URI"
	else
		not_ok "$1: could not turn the terminal output into an image"
	fi
}

e register --qr=utf8
expect_rc 0 "register --qr=utf8"
case $OUT in *"$(printf '\342\226\200')"*) ok "utf8 mode uses half blocks" ;; *) not_ok "no half blocks" ;; esac
term_check utf8
# Light modules are painted, not left to the terminal: every QR line sets
# a background colour before any character.
bad=$(printf '%s\n' "$OUT" | grep "$(printf '\033')" | grep -cv "^$(printf '\033')\[30;47m") || true
expect_eq "$bad" 0 "utf8 mode paints black on white on every line"

e register --qr=ansi
expect_rc 0 "register --qr=ansi"
case $OUT in *"$(printf '\342\226')"*) not_ok "ansi mode used block characters" ;; *) ok "ansi mode: spaces only" ;; esac
term_check ansi

LC_ALL=C e register
expect_rc 0 "register in the C locale"
case $OUT in *"$(printf '\342\226')"*) not_ok "C locale: block characters" ;; *) ok "C locale picks ansi" ;; esac
term_check auto-c

LC_ALL=C.UTF-8 e register
case $OUT in *"$(printf '\342\226\200')"*) ok "UTF-8 locale picks half blocks" ;; *) not_ok "UTF-8 locale: no half blocks" ;; esac
term_check auto-utf8

e register --json
expect_eq "$(printf '%s' "$OUT" | "$PY" -c 'import json,sys; json.loads(sys.stdin.read()); print("one")')" one \
	"--json prints one JSON object and no QR code"

# ---- files ---------------------------------------------------------------------
e register --json --qr-file "$T/code.png"
expect_rc 0 "register --qr-file code.png"
uri=$(jget 'j["uri"]')
expect_eq "$(decode "$T/code.png")" "$uri" "the PNG decodes to the URI"
expect_eq "$(stat -c '%a' "$T/code.png")" 600 "the PNG is mode 0600"
expect_eq "$(head -c 8 "$T/code.png" | od -An -tx1 | tr -d ' ')" 89504e470d0a1a0a "a real PNG"

e register --qr=none --qr-file "$T/code.SVG"
expect_rc 0 "register --qr-file code.SVG"
uri=$(uri_of_text)
rsvg-convert --zoom 4 --background-color white -o "$T/svg.png" "$T/code.SVG" ||
	not_ok "rsvg-convert could not draw the SVG"
expect_eq "$(decode "$T/svg.png")" "$uri" "the SVG, drawn by rsvg-convert, decodes to the URI"
expect_eq "$(stat -c '%a' "$T/code.SVG")" 600 "the SVG is mode 0600"

# Never overwritten, never through a link.
sum=$(md5sum <"$T/code.png")
e register --json --qr-file "$T/code.png"
expect_json_error 6 exists "an existing --qr-file is refused"
expect_eq "$(md5sum <"$T/code.png")" "$sum" "and left as it was"
ln -s "$T/target.png" "$T/link.png"
e register --json --qr-file "$T/link.png"
expect_eq "$(jget 'j["code"]')" 6 "a symbolic link is not followed"
[ ! -e "$T/target.png" ] && ok "nothing written through the link" || not_ok "wrote through the link"
e register --qr-file "$T/code.gif"
expect_rc 64 "a --qr-file that is neither .png nor .svg is a usage error"
e register --json --qr-file "$T/no/such/dir/x.png"
expect_eq "$(jget 'j["code"]')" 5 "a --qr-file in a missing folder"

finish
