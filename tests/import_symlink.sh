#!/bin/sh
# Issue 18, finding 6: root's import of an explicit file must not follow a
# user's symbolic link into a place only root can read.  The user makes
# ~/ga a link to a root-only folder holding another account's
# google-authenticator file; `totp-enroll --user NAME import --from
# google-authenticator ~NAME/ga/.google_authenticator`, run by root, must
# refuse it and write nothing.  A file the user can read, given the same
# way, is still imported.  Root only (skipped otherwise).
# shellcheck disable=SC3043
. "${top_srcdir:-.}/tests/enroll_lib.sh"
[ "$(id -u)" -eq 0 ] || skip_all "needs root"
need google-authenticator runuser useradd

U=tsym$$
UHOME=$T/home/$U
make_user "$U" "$UHOME" || skip_all "useradd failed"
DB=$UHOME/.config/totp/default.db
: >"$T/conf"
chmod 644 "$T/conf"
r() { run "" -- --conf "$T/conf" --user "$U" "$@"; }

# root's secret, in a folder only root can enter
mkdir -m 700 "$T/rootonly"
google-authenticator -t -d -f -r 3 -R 30 -w 3 -s "$T/rootonly/.google_authenticator" \
	-Q NONE -q </dev/null
chmod 600 "$T/rootonly/.google_authenticator"
runuser -u "$U" -- ln -s "$T/rootonly" "$UHOME/ga"

r import --from google-authenticator "$UHOME/ga/.google_authenticator" --json
if [ "$RC" -eq 0 ]; then
	not_ok "root imported a root-only file through the user's link (exit 0)"
else
	ok "import through the user's link refused (exit $RC)"
	expect_eq "$(jget 'j["details"][0]["reason"]')" symlink "refused as a symbolic link"
fi
[ ! -e "$DB" ] && ok "no store written" || not_ok "$DB written"

# the same through a real folder of the user's: imported
runuser -u "$U" -- mkdir "$UHOME/real"
runuser -u "$U" -- google-authenticator -t -d -f -r 3 -R 30 -w 3 \
	-s "$UHOME/real/.google_authenticator" -Q NONE -q </dev/null
r import --from google-authenticator "$UHOME/real/.google_authenticator" --json
expect_rc 0 "import of the user's own file, given explicitly"
finish
