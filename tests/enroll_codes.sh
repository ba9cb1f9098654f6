#!/bin/sh
# totp-enroll codes (issue 17, "New emergency codes"): a new set of
# emergency codes after a current code from the app, shown once, the old
# ones refused.  As an ordinary user (as root: a throwaway one through
# runuser): none, pending, a wrong code (3, counted as a failure), the
# right code (JSON: details and emergencyCodes), its replay (3), the
# prompt on a pipe (text and --json), no code at all, a lockout (8), a
# realm with emergency_codes = 0 (9), another user's (7).  As root: codes
# --user without a code, and logins through pam_totp.so in a real libpam
# stack (tests/pam_try): after codes an old emergency code is refused and
# a new one passes (through lib/login.c's login_check, tests/login_try,
# when not root).
# shellcheck disable=SC3043
. "${top_srcdir:-.}/tests/enroll_lib.sh"
need oathtool
TRY=$(cd "$top_builddir" && pwd)/tests/login_try
PAMTRY=$(cd "$top_builddir" && pwd)/tests/pam_try
MOD=$(cd "$top_builddir" && pwd)/.libs/pam_totp.so

EX_DATAERR=65 EX_NOUSER=67 EX_NOPERM=77 EX_TEMPFAIL=75

realms='[hot]\ntype = hotp\n[strict]\ntype = hotp\nmax_failures = 2\n[none]\ntype = hotp\nemergency_codes = 0\n'
if [ "$(id -u)" -eq 0 ]; then
	need runuser useradd
	ROOT=yes
	U=tecu$$
	make_user "$U" "$T/home/$U" || skip_all "useradd failed"
	AS=$U
	DB=$T/home/$U/.config/totp/default.db
	# shellcheck disable=SC2059
	printf "emergency_codes = 3\nmax_failures = 50\n$realms" >"$T/conf"
else
	ROOT=no
	U=$(id -un)
	AS=""
	home=$(getent passwd "$U" | cut -d: -f6)
	DB=$T/s$home/default.db
	# shellcheck disable=SC2059
	printf "emergency_codes = 3\nmax_failures = 50\nstore = %s/s%%h/%%r.db\n$realms" "$T" >"$T/conf"
fi
chmod 644 "$T/conf"
UID_U=$(id -u "$U")

# shellcheck disable=SC2086
e() { run "${AS:-}" -- --conf "$T/conf" "$@"; }

VIA=login_check
if [ "$ROOT" = yes ] && [ -f "$MOD" ] && [ -x "$PAMTRY" ]; then
	VIA=pam
	mkdir "$T/pam.d"
	printf 'auth required %s conf=%s/conf\n' "$MOD" "$T" >"$T/pam.d/codes"
fi
echo "# logins checked through $VIA"

# login CODE WANT NAME: one login of $U in the default realm.
login() {
	local got want="$2"
	if [ "$VIA" = pam ]; then
		got=$("$PAMTRY" "$T/pam.d" codes "$U" "$1" 2>&1)
		want=${want% emergency}
	else
		got=$("$TRY" "$UID_U" "$DB" "$U" "$1" 2>&1)
	fi
	expect_eq "$got" "$want" "$3 ($VIA)"
}

# The TOTP code of the next step (window 1 takes it): a code newer than
# the one verify used, without waiting.
totp_next() { oathtool --totp -b -N "@$(($(date +%s) + 30))" "$1"; }
hotp() { oathtool --hotp -c "$2" -b "$1"; }

# ---- none; pending ---------------------------------------------------------
e codes 123456 --json
expect_rc $EX_NOUSER "codes with nothing registered"
expect_json_error 5 not-found "codes with nothing registered"
e register --json
S=$(jget 'j["secret"]')
OLD=$(jget '" ".join(j["emergencyCodes"])')
e codes "$(totp_now "$S")" --json
expect_rc $EX_DATAERR "codes on a pending registration"
expect_json_error 9 precondition "codes on a pending registration"
settle
e verify "$(totp_now "$S")" --json
expect_rc 0 "verify"
SEQ=$(jget 'j["details"]["sequence"]')

# ---- a wrong code: 3, a failure counted, nothing else changed --------------
e codes "$(wrong_code "$S")" --json
expect_rc $EX_DATAERR "codes with a wrong code"
expect_json_error 3 wrong-code "codes with a wrong code"
e codes "${OLD%% *}" --json
expect_json_error 3 wrong-code "an emergency code does not mint codes"
e status --json
expect_eq "$(jget 'j["failures"]')" 2 "each wrong code counts as a failed login"
expect_eq "$(jget 'j["lastFailure"]["service"]')" totp-enroll "the failure says totp-enroll"
expect_eq "$(jget 'j["emergencyCodesLeft"]')" 3 "the old codes are still there"
SEQ=$(jget 'j["details"]["sequence"]')

# ---- the right code: new codes, in the seed's shape ------------------------
settle
CODE=$(totp_next "$S")
e codes "$CODE" --json
expect_rc 0 "codes with the app's code"
expect_eq "$(jget 'list(j.keys())')" '["details", "emergencyCodes"]' \
	"codes answers details and emergencyCodes"
expect_eq "$(jget 'list(j["details"].keys())')" '["sequence", "changeDate", "resourceOwner"]' \
	"details keys in the seed's order"
expect_eq "$(jget 'j["details"]["sequence"]')" $((SEQ + 1)) "codes is one event"
expect_eq "$(jget 'j["details"]["resourceOwner"]')" default "resourceOwner is the realm"
expect_eq "$(jget 'len(j["emergencyCodes"])')" 3 "emergency_codes from the realm"
expect_eq "$(jget 'all(len(c) == 8 and c.isdigit() for c in j["emergencyCodes"])')" True \
	"the new codes are 8 digits"
NEW=$(jget '" ".join(j["emergencyCodes"])')
if [ "$NEW" != "$OLD" ]; then ok "a new set"; else not_ok "the same codes"; fi
if grep -q "${NEW%% *}" "$DB"; then not_ok "a new code is in the store in plain text"; else
	ok "the new codes are not stored in plain text"; fi
e status --json
expect_eq "$(jget 'j["failures"]')" 0 "the right code clears the failures, as a login"
e codes "$CODE" --json
expect_rc $EX_DATAERR "the same code again"
expect_json_error 3 wrong-code "the same code cannot mint codes twice"

# ---- logins after codes --------------------------------------------------------
login "$CODE" wrong-code "the code used by codes does not log in"
for c in $OLD; do login "$c" wrong-code "an old emergency code is refused"; done
login "${NEW%% *}" "success emergency" "a new emergency code passes"
login "${NEW%% *}" wrong-code "once"

# ---- the prompt (HOTP realm: codes without waiting) ------------------------------
e register --realm hot --json
H=$(jget 'j["secret"]')
e verify --realm hot "$(hotp "$H" 0)" --json
hotp "$H" 1 >"$T/in"
e codes --realm hot <"$T/in"
expect_rc 0 "codes, the code typed at the prompt"
case $OUT in *"Enter the code the app shows now"*) ok "it asks for the app's code" ;;
*) not_ok "no prompt: $OUT" ;; esac
case $OUT in *"replace the old ones"*"shown only once"*) ok "text says they replace the old ones, shown once" ;;
*) not_ok "text: $OUT" ;; esac
expect_eq "$(printf '%s\n' "$OUT" | grep -c '^  [0-9]\{8\}$')" 3 "text lists the codes"
hotp "$H" 2 >"$T/in"
e codes --realm hot --json <"$T/in"
expect_rc 0 "codes --json, the code typed at the prompt"
expect_eq "$(jget 'len(j["emergencyCodes"])')" 3 "--json: stdout is the answer alone"
case $ERR in "Enter the code"*) ok "--json: the prompt goes to stderr" ;; *) not_ok "stderr: $ERR" ;; esac
e codes --realm hot </dev/null
expect_rc $EX_DATAERR "codes with no code at all"
case $ERR in *"no code was given"*) ok "it says no code was given" ;; *) not_ok "stderr: $ERR" ;; esac
printf '000000\n111111\n%s\n' "$(hotp "$H" 3)" >"$T/in"
e codes --realm hot <"$T/in"
expect_rc 0 "the prompt gives three tries"
e status --realm hot --json
expect_eq "$(jget 'j["failures"]')" 0 "the right third try clears the two failures"

# ---- a lockout -----------------------------------------------------------------
e register --realm strict --json
H=$(jget 'j["secret"]')
e verify --realm strict "$(hotp "$H" 0)" --json
e codes --realm strict 000000 --json
e codes --realm strict 000000 --json
expect_json_error 3 wrong-code "the failure that locks"
case $(jget 'j["message"]') in *"locked out"*) ok "it says the user is now locked out" ;;
*) not_ok "message: $(jget 'j["message"]')" ;; esac
e codes --realm strict "$(hotp "$H" 1)" --json
expect_rc $EX_TEMPFAIL "codes while locked out"
expect_json_error 8 locked-out "codes while locked out"
e codes --realm strict </dev/null
expect_rc $EX_TEMPFAIL "locked out: refused before the prompt"
case $OUT in *"Enter the code"*) not_ok "asked for a code in vain" ;; *) ok "not asked for a code" ;; esac

# ---- a realm without emergency codes --------------------------------------------
e register --realm none --json
H=$(jget 'j["secret"]')
e verify --realm none "$(hotp "$H" 0)" --json
e codes --realm none "$(hotp "$H" 1)" --json
expect_rc $EX_DATAERR "codes in a realm with emergency_codes = 0"
expect_json_error 9 precondition "emergency_codes = 0"
case $(jget 'j["message"]') in *"emergency_codes = 0"*) ok "the message names the setting" ;;
*) not_ok "message: $(jget 'j["message"]')" ;; esac

# ---- someone else's --------------------------------------------------------------
e codes 123456 --user root --json
expect_rc $EX_NOPERM "codes --user root as an ordinary user"
expect_json_error 7 permission "codes --user root as an ordinary user"

# ---- root: no code needed ---------------------------------------------------------
if [ "$ROOT" = yes ]; then
	r() { run "" -- --conf "$T/conf" "$@"; }
	r codes --user "$U" --json
	expect_rc 0 "root: codes --user without a code"
	ROOTNEW=$(jget '" ".join(j["emergencyCodes"])')
	expect_eq "$(stat -c %U "$DB")" "$U" "the store stays the user's"
	r codes --user "$U"
	expect_rc 0 "root: codes --user (text)"
	case $OUT in *"for $U"*"replace the old ones"*) ok "text says for whom" ;; *) not_ok "text: $OUT" ;; esac
	ROOTNEW2=$(printf '%s\n' "$OUT" | sed -n 's/^  \([0-9]\{8\}\)$/\1/p' | head -1)
	login "${ROOTNEW%% *}" wrong-code "root's first set was replaced by its second"
	login "$ROOTNEW2" "success emergency" "root's new code passes"
	r codes --user "$U" 000000 --json
	expect_json_error 3 wrong-code "root: a CODE given is checked"
fi
finish
