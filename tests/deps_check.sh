#!/bin/bash
# Every program the tests run comes from a package that scripts/deps.sh
# installs, so that a missing install step fails here, on any machine,
# and not only on a new one where the program happens to be absent.
#
# The programs are what the tests declare:
#   need PROG...        (tests/*.sh, tests/e2e/*.sh: skips a test without PROG)
#   need_py MODULE...   (a python3 module)
#   @needs PROG...      (a comment tag, where a C test, the Makefile or
#                        scripts/test-all.sh runs a program)
# Each is looked up on this machine (`command -v`, an absolute path as it
# is), its file mapped to its package with `dpkg -S`, and the package must
# be one deps.sh names (`scripts/deps.sh list`), a direct dependency of
# one (python3's /usr/bin/python3 is python3-minimal's), or Essential
# (coreutils, util-linux: on every Debian system).
# A program that is not installed at all fails too: after deps.sh it must be.
# Skipped where there is no dpkg, or no scripts/deps.sh (a dist tarball).
set -u
src=$(cd "${top_srcdir:-.}" && pwd)
deps=$src/scripts/deps.sh
[ -f "$deps" ] || { echo "# skipped: no scripts/deps.sh here"; exit 77; }
command -v dpkg-query >/dev/null || { echo "# skipped: no dpkg"; exit 77; }

fails=0 passes=0
ok() { passes=$((passes + 1)); echo "ok - $*"; }
not_ok() { fails=$((fails + 1)); echo "not ok - $*"; }

listed=$(sh "$deps" list | sort -u)
[ -n "$listed" ] || { echo "not ok - scripts/deps.sh list printed nothing"; exit 1; }
# What deps.sh names, and what those pull in directly.
allowed=$(
	printf '%s\n' "$listed"
	for p in $listed; do
		dpkg-query -W -f='${Depends}, ${Pre-Depends}\n' "$p" 2>/dev/null
	done | tr ',|' '\n\n' | sed 's/([^)]*)//g; s/:any//; s/^ *//; s/ *$//' | grep -v '^$'
)
allowed=$(printf '%s\n' "$allowed" | sort -u)

# declared: "PROGRAM<TAB>FILE" for every declaration in the tree.
declared() {
	local f
	for f in "$src"/tests/*.sh "$src"/tests/*/*.sh "$src"/tests/*.c \
		"$src"/scripts/test-all.sh "$src"/fuzz/run.sh "$src"/Makefile.am; do
		[ -f "$f" ] && [ "$f" != "$src/tests/deps_check.sh" ] || continue
		case $f in
		*.sh) shell='s/^[[:space:]]*need \(.*\)/\1/p' ;;
		*) shell='' ;; # `need` is a shell function: C may say it otherwise
		esac
		sed -n -e "$shell" -e 's/.*@needs \([^*]*\).*/\1/p' "$f" |
			tr ' ' '\n' | grep -v '^$' | sed "s|\$|	${f#"$src"/}|"
		sed -n 's/^[[:space:]]*need_py \(.*\)/\1/p' "$f" | tr ' ' '\n' |
			grep -v '^$' | sed "s|^|py:|; s|\$|	${f#"$src"/}|"
	done | sort -u -t '	' -k1,1
}

# owner FILE: the package that holds FILE (merged /usr: dpkg may know it
# by its /bin or /sbin name; a link, by its target's).
owner() {
	local f=$1 p
	for p in "$f" "${f#/usr}" "$(readlink -f "$f")"; do
		dpkg -S "$p" 2>/dev/null | grep -v '^diversion by' | sed -n '1s/: .*//p' |
			tr ',' '\n' | sed 's/^ *//; s/:.*//' | head -n 1 | grep . && return 0
	done
	return 1
}

essential() { [ "$(dpkg-query -W -f='${Essential}' "$1" 2>/dev/null)" = yes ]; }

while IFS='	' read -r prog where; do
	[ -n "$prog" ] || continue
	case $prog in
	py:*)
		mod=${prog#py:}
		path=$(/usr/bin/python3 -c "import $mod; print($mod.__file__)" 2>/dev/null)
		prog="python3 module $mod" ;;
	/*) path=$prog; [ -e "$path" ] || path="" ;;
	*) path=$(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin command -v "$prog") ;;
	esac
	if [ -z "$path" ]; then
		not_ok "$prog ($where) is not installed: is its package in scripts/deps.sh?"
		continue
	fi
	if ! pkg=$(owner "$path"); then
		not_ok "$prog ($where) is $path, which no Debian package holds"
		continue
	fi
	if printf '%s\n' "$allowed" | grep -qxF "$pkg" || essential "$pkg"; then
		ok "$prog ($where): $pkg"
	else
		not_ok "$prog ($where) comes from $pkg, which scripts/deps.sh does not install"
	fi
done < <(declared)

echo "# $passes passed, $fails failed"
[ "$passes" -gt 0 ] || { echo "not ok - no program declared: the scan is broken"; exit 1; }
[ "$fails" -eq 0 ]
