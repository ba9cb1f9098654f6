#!/bin/sh
# totp-enroll import and export, end to end (issue 8):
#  - a ~/.google_authenticator made by Debian's `google-authenticator` is
#    imported by its user; a code computed from its secret logs in once and
#    its replay is refused; a scratch code works once; the file is unchanged;
#  - root imports a GA HOTP file with --user into a system store: the
#    counter carries over (an older code is refused);
#  - root imports a users.oath with TOTP and HOTP users: the HOTP counter
#    carries over, nothing is half-imported when a line is bad, and every
#    bad line is reported with its number;
#  - export shows the record without its secret.
# Logins go through pam_totp.so in a real libpam stack (tests/pam_try, a
# service file in the temp folder) when the module is built and we are
# root; otherwise through tests/login_try, which calls lib/login.c's
# login_check, the very check the module makes.
# The ordinary-user part runs as anyone (as root: through a throwaway user);
# the root parts skip unless run as root.
# shellcheck disable=SC3043
. "${top_srcdir:-.}/tests/enroll_lib.sh"
need oathtool google-authenticator sha256sum
TRY=$(cd "$top_builddir" && pwd)/tests/login_try
PAMTRY=$(cd "$top_builddir" && pwd)/tests/pam_try
MOD=$(cd "$top_builddir" && pwd)/.libs/pam_totp.so

EX_DATAERR=65 EX_CANTCREAT=73 EX_NOPERM=77 EX_USAGE=64
HEX=3132333435363738393031323334353637383930 # RFC 4226's secret
B32=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ

ROOT=no
if [ "$(id -u)" -eq 0 ]; then
	ROOT=yes
	need runuser useradd
	U=teiu$$
	make_user "$U" "$T/home/$U" || skip_all "useradd failed"
	AS=$U
	UHOME=$T/home/$U
	DB=$UHOME/.config/totp/default.db
	printf '[sys]\nstore = %s/sys/%%r.db\n' "$T" >"$T/conf"
else
	U=$(id -un)
	AS=""
	UHOME=$(getent passwd "$U" | cut -d: -f6)
	DB=$T/s$UHOME/default.db
	printf 'store = %s/s%%h/%%r.db\n' "$T" >"$T/conf"
fi
chmod 644 "$T/conf"
UID_U=$(id -u "$U")

# shellcheck disable=SC2086
e() { run "${AS:-}" -- --conf "$T/conf" "$@"; }
# shellcheck disable=SC2086
r() { run "" -- --conf "$T/conf" "$@"; }
as_user() { if [ -n "$AS" ]; then runuser -u "$AS" -- "$@"; else "$@"; fi; }

VIA=login_check
if [ "$ROOT" = yes ] && [ -f "$MOD" ] && [ -x "$PAMTRY" ]; then
	VIA=pam
	mkdir "$T/pam.d"
	for realm in default sys; do
		printf 'auth required %s realm=%s conf=%s/conf\n' "$MOD" "$realm" "$T" \
			>"$T/pam.d/import-$realm"
	done
fi
echo "# logins checked through $VIA"

# try REALM USER CODE WANT NAME
try() {
	local got want=$4 owner=0 db=$T/sys/sys.db
	if [ "$VIA" = pam ]; then
		got=$("$PAMTRY" "$T/pam.d" "import-$1" "$2" "$3" 2>&1)
		want=${want% emergency}
	else
		if [ "$1" = default ]; then owner=$UID_U db=$DB; fi
		got=$("$TRY" "$owner" "$db" "$2" "$3" 2>&1)
	fi
	expect_eq "$got" "$want" "$5 ($VIA)"
}

sum() { sha256sum "$1" | cut -d' ' -f1; }

# ---- google-authenticator, as the user ------------------------------------
if [ "$ROOT" = yes ]; then
	GA=$UHOME/.google_authenticator
	GAARG=""
else
	GA=$T/ga
	GAARG=$GA
fi
as_user google-authenticator -t -d -f -r 3 -R 30 -w 3 -s "$GA" -Q NONE -q </dev/null
SECRET=$(head -n1 "$GA")
SCRATCH=$(sed -n '6p' "$GA")
BEFORE=$(sum "$GA")

# shellcheck disable=SC2086
e import --from google-authenticator $GAARG --dry-run --json
expect_rc 0 "GA dry run"
expect_eq "$(jget 'j["dryRun"]')" True "GA dry run: dryRun true"
expect_eq "$(jget 'j["result"][0]["user"] + " " + j["result"][0]["type"] + " " + str(j["result"][0]["window"])')" \
	"$U totp 1" "GA dry run: the user, totp, window 1"
[ ! -e "$DB" ] && ok "GA dry run wrote no store" || not_ok "GA dry run made $DB"

# shellcheck disable=SC2086
e import --from google-authenticator $GAARG --json
expect_rc 0 "GA import"
expect_eq "$(jget 'j["dryRun"]')" False "GA import: dryRun false"
expect_eq "$(jget 'j["result"][0]["emergencyCodes"]')" 5 "GA import: 5 scratch codes kept"
expect_eq "$(jget 'j["result"][0]["replaces"]')" none "GA import: nothing replaced"
expect_eq "$(jget '"secret" in json.dumps(j).lower() or "'"$SECRET"'" in json.dumps(j)')" False \
	"GA import: the answer holds no secret"
expect_eq "$(sum "$GA")" "$BEFORE" "GA import: the source file is unchanged"
e status --json
expect_eq "$(jget 'j["state"]')" ready "GA import: the record is ready"

settle
CODE=$(oathtool --totp -b "$SECRET")
try default "$U" "$CODE" success "GA: a code from the file's secret logs in"
try default "$U" "$CODE" wrong-code "GA: the same code again is refused (replay)"
try default "$U" "$SCRATCH" "success emergency" "GA: a scratch code logs in"
try default "$U" "$SCRATCH" wrong-code "GA: the scratch code works once"

# shellcheck disable=SC2086
e import --from google-authenticator $GAARG --json
expect_rc $EX_CANTCREAT "GA import over a ready generator"
expect_json_error 6 exists "GA import over a ready generator"

printf '%s\n" TOTP_AUTH\n1234567\n' "$SECRET" >"$T/ga-bad"
chmod 644 "$T/ga-bad"
e import --from google-authenticator "$T/ga-bad"
expect_rc $EX_DATAERR "GA: malformed file"
case $ERR in *"line 3:"*) ok "GA: the message names line 3" ;;
*) not_ok "GA: message without line 3: $ERR" ;; esac

ln -s "$T/ga-bad" "$T/ga-link"
e import --from google-authenticator "$T/ga-link" --json
expect_rc $EX_NOPERM "GA: a symbolic link is refused"
expect_json_error 7 symlink "GA: symbolic link"

e import --from oath "$T/ga-bad" --json
expect_rc $EX_NOPERM "a user cannot import a users.oath"
expect_json_error 7 permission "user import --from oath"
e export --json
expect_rc $EX_NOPERM "a user cannot export"

e import --json
expect_rc $EX_USAGE "import without --from"
e status --dry-run
expect_rc $EX_USAGE "--dry-run outside import"

[ "$ROOT" = yes ] || finish

# ---- root: a GA HOTP file into a system store ----------------------------
SYS=$T/sys/sys.db
google-authenticator -c -f -u -w 5 -s "$T/ga-hotp" -Q NONE -q </dev/null
# as the old module leaves it after counters 1 and 2 were used
sed -i 's/^" HOTP_COUNTER 1$/" HOTP_COUNTER 3/' "$T/ga-hotp"
HSECRET=$(head -n1 "$T/ga-hotp")
r import --from google-authenticator "$T/ga-hotp" --user "$U" --realm sys --json
expect_rc 0 "root: GA HOTP import into the system store"
expect_eq "$(jget 'j["result"][0]["nextCounter"]')" 3 "GA HOTP: next counter 3"
try sys "$U" "$(oathtool --hotp -c 2 -b "$HSECRET")" wrong-code \
	"GA HOTP: counter 2's code (already used) is refused"
try sys "$U" "$(oathtool --hotp -c 3 -b "$HSECRET")" success "GA HOTP: counter 3 logs in"
try sys "$U" "$(oathtool --hotp -c 3 -b "$HSECRET")" wrong-code "GA HOTP: replay refused"
r remove --user "$U" --realm sys
expect_rc 0 "root: remove --user"

# ---- root: users.oath -----------------------------------------------------
U2=teio$$
make_user "$U2" || skip_all "useradd failed"
OATH=$T/users.oath
printf '# pam_oath users\nHOTP\t%s\t-\t%s\t3\t969429\t2024-06-13T06:44:35L\nHOTP/T30\t%s\t-\t%s\nHOTP\tnosuch%s\tsecret\t%s\nHOTP/E/9\t%s\t-\t%s\n' \
	"$U" "$HEX" "$U2" "$HEX" "$$" "$HEX" "$U2" "$HEX" >"$OATH"
BEFORE=$(sum "$OATH")
r import --from oath "$OATH" --realm sys --json
expect_rc $EX_DATAERR "oath: a file with bad lines"
expect_eq "$(jget '[v["field"] for v in j["details"][1]["fieldViolations"]]')" \
	'["line 4", "line 5"]' "oath: the bad lines are reported by number"
r import --from oath "$OATH" --realm sys
case $ERR in *"users.oath:4: "*"users.oath:5: "*) ok "oath: text names lines 4 and 5" ;;
*) not_ok "oath: text: $ERR" ;; esac
r list --realm sys --json
expect_eq "$(jget 'j["details"]["totalResult"]')" 0 "oath: nothing half-imported"

head -n 3 "$OATH" >"$T/good.oath"
r import --from oath "$T/good.oath" --realm sys --dry-run
expect_rc 0 "oath: dry run"
r list --realm sys --json
expect_eq "$(jget 'j["details"]["totalResult"]')" 0 "oath: the dry run wrote nothing"
r import --from oath "$T/good.oath" --realm sys --json
expect_rc 0 "oath: import"
expect_eq "$(jget '[(x["user"], x["type"]) for x in j["result"]]')" \
	"[[\"$U\", \"hotp\"], [\"$U2\", \"totp\"]]" "oath: both users, HOTP and TOTP"
expect_eq "$(jget 'j["result"][0]["nextCounter"]')" 4 "oath: HOTP counter carried over (3 used)"
expect_eq "$(sum "$OATH")" "$BEFORE" "oath: the source file is unchanged"

try sys "$U" 969429 wrong-code "oath HOTP: the last accepted code is refused"
try sys "$U" 338314 success "oath HOTP: counter 4 logs in"
try sys "$U" 338314 wrong-code "oath HOTP: replay refused"
settle
CODE=$(oathtool --totp -b "$B32")
try sys "$U2" "$CODE" success "oath TOTP: a code from the secret logs in"
try sys "$U2" "$CODE" wrong-code "oath TOTP: replay refused"

r import --from oath "$T/good.oath" --realm sys --json
expect_rc $EX_CANTCREAT "oath: import over ready users"
expect_eq "$(jget '[v["field"] for v in j["details"][1]["fieldViolations"]]')" \
	'["line 2", "line 3"]' "oath: ready users reported by line"

# ---- export -----------------------------------------------------------------
r export --user "$U" --realm sys --json
expect_rc 0 "export --user"
expect_eq "$(jget 'j["record"]["nextCounter"] + " " + j["record"]["state"] + " " + j["user"]')" \
	"5 ready $U" "export: next counter 5 after the login, ready"
expect_eq "$(jget '"secret" in json.dumps(j).lower() or "'"$B32"'" in json.dumps(j) or "$y" in json.dumps(j)')" \
	False "export: no secret, no hash"
r export --user "$U2" --realm sys
expect_rc 0 "export --user, text"
case $OUT in *"last used step"*) ok "export text: last used step" ;; *) not_ok "export text: $OUT" ;; esac
case $OUT in *"$B32"* | *'$y$'*) not_ok "export text shows a secret" ;; *) ok "export text: no secret" ;; esac

finish
