#!/bin/sh
# totp-enroll with several generators per user (issue 17), as root on a
# system store of HOTP generators (counters, not the clock: no waiting):
#   - register --name spare beside a ready default: pending, no new
#     emergency codes, the register answer keeps its seed shape;
#   - a bad --name: gRPC 3 and EX_USAGE, nothing changed;
#   - verify --name: only that generator's code;
#   - status (text and --json) lists them ("generators"), and a login's
#     event names the one used ("by");
#   - a fifth: gRPC 8 (RESOURCE_EXHAUSTED) and EX_CANTCREAT, nothing
#     changed;
#   - remove --name removes only that one; removing the last is remove;
#   - import --from oath: a user on several lines gets several generators
#     (default, oath2, ...); on more than 4, an error naming the user and
#     nothing imported;
#   - an ldap realm: --name other than default is gRPC 12 (UNIMPLEMENTED),
#     refused before any directory is asked.
# shellcheck disable=SC3043
. "${top_srcdir:-.}/tests/enroll_lib.sh"
need oathtool
[ "$(id -u)" -eq 0 ] || skip_all "needs root (a system store and a throwaway user)"
need useradd
TRY=$(cd "$top_builddir" && pwd)/tests/login_try

EX_USAGE=64 EX_DATAERR=65 EX_NOUSER=67 EX_UNAVAILABLE=69 EX_CANTCREAT=73

U=tegu$$
make_user "$U" || skip_all "useradd failed"
printf '[sys]\nstore = %s/sys/%%r.db\ntype = hotp\nemergency_codes = 2\n' "$T" >"$T/conf"
echo pw >"$T/pw"
chmod 600 "$T/pw"
printf '[fleet]\nstore = ldap\nldap_uri = ldap://127.0.0.1:9\nldap_base = ou=p,dc=example,dc=org\nldap_tokens = ou=t,dc=example,dc=org\nldap_params = cn=p,dc=example,dc=org\nldap_binddn = cn=h,dc=example,dc=org\nldap_bindpw_file = %s/pw\nldap_timeout = 500\n' "$T" >>"$T/conf"
chmod 644 "$T/conf"
DB=$T/sys/sys.db

# shellcheck disable=SC2086
e() { run "" -- --conf "$T/conf" --realm sys --user "$U" "$@"; }
# the system store is the realm's shards (sys.d/), and any journal or
# staged copy beside them; lock files are not the store
db_sum() {
	find "$T/sys" -type f ! -name '*.lock' | sort | while read -r f; do
		printf '%s ' "$f"
		sha256sum <"$f"
	done | sha256sum | cut -d' ' -f1
}

# ---- default, then spare beside it ------------------------------------------
e register --json --qr none
expect_rc 0 "register default"
SD=$(jget 'j["secret"]')
expect_eq "$(jget 'len(j["emergencyCodes"])')" 2 "the first registration makes emergency codes"
e verify "$(oathtool --hotp -b "$SD" -c 0)"
expect_rc 0 "verify default"

e register --name spare --json --qr none
expect_rc 0 "register --name spare"
expect_eq "$(jget 'list(j.keys())')" '["details", "uri", "secret", "emergencyCodes"]' \
	"register --name answers the seed's shape"
expect_eq "$(jget 'j["emergencyCodes"]')" '[]' "a second generator makes no new emergency codes"
SS=$(jget 'j["secret"]')
[ "$SS" != "$SD" ] && ok "spare has a secret of its own" || not_ok "spare has default's secret"

e status --json
expect_eq "$(jget '[(g["name"], g["state"]) for g in j["generators"]]')" \
	'[["default", "ready"], ["spare", "pending"]]' "status --json lists both generators"
expect_eq "$(jget 'j["state"]')" ready "status: the user's state is the ready generator's"
expect_eq "$(jget 'j["emergencyCodesLeft"]')" 2 "status: emergency codes kept"

# ---- bad names -----------------------------------------------------------------
before=$(db_sum)
for bad in Spare "a b" "x/y" seventeen-chars-x ""; do
	e register --name "$bad" --json
	expect_rc $EX_USAGE "register --name '$bad'"
	expect_json_error 3 invalid "register --name '$bad'"
done
e verify 123456 --name "No"
expect_rc $EX_USAGE "verify --name No"
e status --name spare
expect_rc $EX_USAGE "--name is not for status"
expect_eq "$(db_sum)" "$before" "bad names changed nothing"

# ---- verify by name ---------------------------------------------------------
e verify "$(oathtool --hotp -b "$SD" -c 1)" --name spare --json
expect_rc $EX_DATAERR "default's code does not verify spare"
expect_json_error 3 wrong-code "default's code does not verify spare"
e verify "$(oathtool --hotp -b "$SS" -c 0)" --name spare
expect_rc 0 "verify --name spare with its own code"
case "$OUT" in *"generator spare"*) ok "verify says which generator" ;;
*) not_ok "verify output: $OUT" ;; esac

# ---- logins: either generator, named in the event ----------------------------
UIDU=0
got=$("$TRY" "$UIDU" "$DB" "$U" "$(oathtool --hotp -b "$SS" -c 1)" 2>&1)
expect_eq "$got" success "a login with spare's code"
e status --json
expect_eq "$(jget 'j["lastSuccess"]["by"]')" spare "status: the last success was spare's"
expect_eq "$(jget '[g["lastUsed"] is None for g in j["generators"]]')" '[true, false]' \
	"status: only spare was used"
e status
case "$OUT" in *"with spare"*) ok "status (text) names the generator used" ;;
*) not_ok "status text: $OUT" ;; esac
got=$("$TRY" "$UIDU" "$DB" "$U" "$(oathtool --hotp -b "$SS" -c 1)" 2>&1)
expect_eq "$got" wrong-code "spare's code once only"
got=$("$TRY" "$UIDU" "$DB" "$U" "$(oathtool --hotp -b "$SD" -c 1)" 2>&1)
expect_eq "$got" success "default's next code still passes"

# ---- the cap -------------------------------------------------------------------
e register --name token --qr none
expect_rc 0 "a third generator"
e register --name old-phone --qr none
expect_rc 0 "a fourth generator"
before=$(db_sum)
e register --name fifth --json
expect_rc $EX_CANTCREAT "a fifth generator (json)"
expect_json_error 8 too-many "a fifth generator"
e register --name fifth
expect_rc $EX_CANTCREAT "a fifth generator (text)"
case "$ERR" in *"at most 4"*) ok "the refusal says the cap" ;; *) not_ok "stderr: $ERR" ;; esac
expect_eq "$(db_sum)" "$before" "a fifth generator changed nothing"

# ---- remove by name ------------------------------------------------------------
e remove --name token --json
expect_rc 0 "remove --name token"
e remove --name token --json
expect_rc $EX_NOUSER "remove --name token again"
expect_json_error 5 not-found "remove --name token again"
e remove --name old-phone
expect_rc 0 "remove --name old-phone"
e remove
expect_rc 0 "remove (default)"
e status --json
expect_eq "$(jget '[g["name"] for g in j["generators"]]')" '["spare"]' "spare is left"
expect_eq "$(jget 'j["emergencyCodesLeft"]')" 2 "emergency codes stay with the user"
got=$("$TRY" "$UIDU" "$DB" "$U" "$(oathtool --hotp -b "$SS" -c 2)" 2>&1)
expect_eq "$got" success "spare still logs in"
e remove --name spare
expect_rc 0 "remove the last generator"
e status --json
expect_rc $EX_NOUSER "nothing left: status is not-found"

# ---- import --from oath: several lines, several generators ---------------------
V=tegv$$
make_user "$V" || skip_all "useradd failed"
K1=3132333435363738393031323334353637383930
K2=6162636465666768696a6162636465666768696a
printf 'HOTP %s - %s 4\nHOTP %s - %s 9\nHOTP %s - %s 2\n' \
	"$V" "$K1" "$V" "$K2" "$V" "$K1" >"$T/users.oath"
run "" -- --conf "$T/conf" --realm sys import --from oath "$T/users.oath" --json
expect_rc 0 "import a user on three lines"
expect_eq "$(jget '[x["name"] for x in j["result"]]')" '["default", "oath2", "oath3"]' \
	"import names them default, oath2, oath3"
run "" -- --conf "$T/conf" --realm sys --user "$V" status --json
expect_eq "$(jget '[(g["name"], g["state"]) for g in j["generators"]]')" \
	'[["default", "ready"], ["oath2", "ready"], ["oath3", "ready"]]' \
	"the imported user has three ready generators"
got=$("$TRY" 0 "$DB" "$V" "$(oathtool --hotp "$K2" -c 9)" 2>&1)
expect_eq "$got" success "oath2's next code logs in"

W=tegw$$
make_user "$W" || skip_all "useradd failed"
: >"$T/five.oath"
for c in 1 2 3 4 5; do printf 'HOTP %s - %s %s\n' "$W" "$K1" "$c" >>"$T/five.oath"; done
printf 'HOTP %s - %s 1\n' "$U" "$K1" >>"$T/five.oath"
before=$(db_sum)
run "" -- --conf "$T/conf" --realm sys import --from oath "$T/five.oath" --json
expect_rc $EX_DATAERR "import a user on five lines"
expect_eq "$(jget '[v["description"] for d in j["details"] if "fieldViolations" in d for v in d["fieldViolations"]][0]')" \
	"$W is listed on 5 lines (the first on line 1): a user has at most 4 generators" \
	"the refusal names the user and the cap"
expect_eq "$(db_sum)" "$before" "nothing was imported"

# ---- ldap realm: one token a user ---------------------------------------------
run "" -- --conf "$T/conf" --realm fleet --user "$U" register --name spare --json
expect_rc $EX_UNAVAILABLE "ldap realm: register --name spare"
expect_json_error 12 unimplemented "ldap realm: register --name spare"
run "" -- --conf "$T/conf" --realm fleet --user "$U" remove --name spare
expect_rc $EX_UNAVAILABLE "ldap realm: remove --name spare"
case "$ERR" in *"one token a user"*) ok "ldap: says why" ;; *) not_ok "stderr: $ERR" ;; esac

finish
