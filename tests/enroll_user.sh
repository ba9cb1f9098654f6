#!/bin/sh
# totp-enroll on a user store, as an ordinary user: every row of the
# lifecycle table (DESIGN.md), with the JSON and the exit code of each.
# As root (CI) the ordinary user is a throwaway one made here, with its
# home in the temp folder, and the store is the default ~/.config/totp;
# as an ordinary user (a developer) the store is put in the temp folder
# with a `store = $T/s%h/%r.db` template, so no real home is touched.
# shellcheck disable=SC3043
. "${top_srcdir:-.}/tests/enroll_lib.sh"
need oathtool runuser

EX_DATAERR=65 EX_NOUSER=67 EX_CANTCREAT=73 EX_NOPERM=77 EX_USAGE=64

if [ "$(id -u)" -eq 0 ]; then
	U=tetu$$
	make_user "$U" "$T/home/$U" || skip_all "useradd failed"
	AS=$U
	DB=$T/home/$U/.config/totp/default.db
	printf 'emergency_codes = 3\n[sys]\nstore = %s/sys/%%r.db\n' "$T" >"$T/conf"
else
	U=$(id -un)
	AS=""
	home=$(getent passwd "$U" | cut -d: -f6)
	DB=$T/s$home/default.db
	printf 'emergency_codes = 3\nstore = %s/s%%h/%%r.db\n[sys]\nstore = %s/sys/%%r.db\n' \
		"$T" "$T" >"$T/conf"
fi
chmod 644 "$T/conf"
C="--conf $T/conf"
HOST=$(uname -n)

# shellcheck disable=SC2086
e() { run "${AS:-}" -- $C "$@"; }

status_json() { e status --json; echo "$OUT"; }

# ---- none ----------------------------------------------------------------
for cmd in status remove "verify 123456"; do
	# shellcheck disable=SC2086
	e $cmd --json
	expect_rc $EX_NOUSER "$cmd with nothing registered"
	expect_json_error 5 not-found "$cmd with nothing registered"
done
[ ! -e "$DB" ] && ok "status/verify/remove made no store" || not_ok "a store was made"

# ---- register: none -> pending -------------------------------------------
e register --json
expect_rc 0 "register (none)"
expect_eq "$(jget 'list(j.keys())')" '["details", "uri", "secret", "emergencyCodes"]' \
	"register answers details, uri, secret, emergencyCodes in that order"
expect_eq "$(jget 'list(j["details"].keys())')" '["sequence", "changeDate", "resourceOwner"]' \
	"details keys in the seed's order"
expect_eq "$(jget 'j["details"]["sequence"]')" 1 "first event is sequence \"1\""
expect_eq "$(jget 'type(j["details"]["sequence"]).__name__')" str "sequence is a string"
expect_eq "$(jget 'j["details"]["resourceOwner"]')" default "resourceOwner is the realm"
expect_eq "$(jget 'bool(__import__("re").fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", j["details"]["changeDate"]))')" \
	True "changeDate is RFC 3339 UTC with milliseconds"
S1=$(jget 'j["secret"]')
expect_eq "$(jget 'len(j["secret"])')" 32 "a SHA1 secret is 32 base32 characters"
expect_eq "$(jget 'j["uri"]')" \
	"otpauth://totp/$HOST:$U@$HOST?algorithm=SHA1&digits=6&issuer=$HOST&period=30&secret=$S1" \
	"URI: issuer is the host, account user@host"
expect_eq "$(jget 'len(j["emergencyCodes"])')" 3 "emergency_codes from the realm"
expect_eq "$(jget 'all(len(c) == 8 and c.isdigit() for c in j["emergencyCodes"])')" True \
	"emergency codes are 8 digits"
CODES=$(jget '" ".join(j["emergencyCodes"])')
[ -f "$DB" ] && ok "the store exists" || not_ok "no store at $DB"
expect_eq "$(stat -c '%U %a' "$DB" 2>/dev/null)" "$U 600" "the store is the user's, mode 0600"
if grep -q "${CODES%% *}" "$DB" || grep -q "$S1" "$DB"; then
	not_ok "a plain code or the base32 secret is in the store"
else
	ok "neither emergency codes nor the base32 secret are stored in plain text"
fi

# ---- register: pending -> pending, new secret -------------------------------
e register --json
expect_rc 0 "register (pending)"
S2=$(jget 'j["secret"]')
expect_eq "$(jget 'j["details"]["sequence"]')" 2 "sequence counts the second registration"
[ "$S1" != "$S2" ] && ok "register on pending makes a new secret" || not_ok "same secret"

# ---- verify: pending, wrong code -> 3, unchanged ---------------------------
before=$(status_json)
OUT=$before
expect_eq "$(jget 'j["state"]')" pending "status: pending"
e verify "$(wrong_code "$S2")" --json
expect_rc $EX_DATAERR "verify (pending, wrong code)"
expect_json_error 3 wrong-code "verify (pending, wrong code)"
after=$(status_json)
expect_eq "$after" "$before" "a wrong code leaves the record as it was (sequence included)"
e verify 12345 --json
expect_rc $EX_DATAERR "verify with a 5-digit code"
expect_eq "$(jget 'j["code"]')" 3 "a malformed code is invalid argument"
expect_eq "$(status_json)" "$before" "a malformed code changes nothing"
e verify "$(totp_now "$S1")" --json
expect_rc $EX_DATAERR "the replaced secret's code is refused"

# ---- verify: pending, right code -> ready ----------------------------------
settle
e verify "$(totp_now "$S2")" --json
expect_rc 0 "verify (pending, oathtool's code)"
expect_eq "$(jget 'list(j.keys())')" '["details"]' "verify answers details only"
expect_eq "$(jget 'j["details"]["sequence"]')" 3 "verify is the third event"
OUT=$(status_json)
expect_eq "$(jget 'j["state"]')" ready "status: ready"
expect_eq "$(jget 'j["type"]')" totp "status: type"
expect_eq "$(jget 'j["failures"]')" 0 "status: failures"
expect_eq "$(jget 'j["lockedUntil"]')" None "status: not locked"
expect_eq "$(jget 'j["lastSuccess"]')" None "status: no login yet"
expect_eq "$(jget 'j["emergencyCodesLeft"]')" 3 "status: emergency codes left"
expect_eq "$(jget 'j["user"]')" "$U" "status: user"
expect_eq "$(jget '"created" in j and "lastFailure" in j')" True "status: created, lastFailure"

# ---- register: ready -> 6; verify: ready -> 9 ------------------------------
before=$(status_json)
e register --json
expect_rc $EX_CANTCREAT "register (ready)"
expect_json_error 6 exists "register (ready)"
e verify "$(totp_now "$S2")" --json
expect_rc $EX_DATAERR "verify (ready)"
expect_json_error 9 precondition "verify (ready)"
expect_eq "$(status_json)" "$before" "refused calls change nothing"

# ---- remove: ready -> removed; then none ----------------------------------
e remove --json
expect_rc 0 "remove (ready)"
expect_eq "$(jget 'j["details"]["sequence"]')" 4 "remove is an event"
e status --json
expect_rc $EX_NOUSER "status after remove"
expect_json_error 5 not-found "status after remove"
e remove --json
expect_rc $EX_NOUSER "remove (removed)"
e verify 123456 --json
expect_rc $EX_NOUSER "verify (removed)"
expect_json_error 5 not-found "verify (removed)"

# ---- register: removed -> pending; remove: pending -> removed ---------------
e register --json
expect_rc 0 "register (removed)"
expect_eq "$(jget 'j["details"]["sequence"]')" 5 "the sequence survives removal"
e remove --json
expect_rc 0 "remove (pending)"
expect_eq "$(jget 'j["details"]["sequence"]')" 6 "remove (pending) is an event"

# ---- parameters, within what the realm allows -------------------------------
e register --json --digits 8 --algorithm sha256 --issuer "Acme Inc"
expect_rc 0 "register --digits 8 --algorithm sha256 --issuer"
S=$(jget 'j["secret"]')
expect_eq "$(jget 'len(j["secret"])')" 52 "a SHA256 secret is 32 bytes"
expect_eq "$(jget 'j["uri"]')" \
	"otpauth://totp/Acme%20Inc:$U@$HOST?algorithm=SHA256&digits=8&issuer=Acme%20Inc&period=30&secret=$S" \
	"URI carries the chosen parameters"
settle
e verify "$(oathtool --totp=sha256 --digits 8 -b "$S")" --json
expect_rc 0 "verify an 8-digit SHA256 code from oathtool"
e remove --json
e register --json --digits 7
expect_rc $EX_DATAERR "--digits 7 is not allowed by the realm"
expect_json_error 3 invalid "--digits 7"
e register --json --period 45
expect_rc $EX_DATAERR "--period 45 is not allowed by the realm"
e status --json
expect_rc $EX_NOUSER "a refused register wrote nothing"

# ---- HOTP ----------------------------------------------------------------
e register --json --type hotp
expect_rc 0 "register --type hotp"
S=$(jget 'j["secret"]')
expect_eq "$(jget '"otpauth://hotp/" in j["uri"] and "counter=0" in j["uri"]')" True "HOTP URI"
e verify "$(oathtool --hotp -c 0 -b "$S")" --json
expect_rc 0 "verify HOTP counter 0 from oathtool"
e status --json
expect_eq "$(jget 'j["type"] + " " + j["state"]')" "hotp ready" "status: hotp ready"
e remove

# ---- text output --------------------------------------------------------
e register --qr=none
expect_rc 0 "register (text)"
secret=$(printf '%s\n' "$OUT" | sed -n 's/^  \([A-Z2-7]\{4\}\( [A-Z2-7]\{1,4\}\)*\)$/\1/p')
expect_eq "$(printf '%s' "$secret" | tr -d ' ' | wc -c)" 32 "the secret is printed in groups of four"
case $OUT in *"otpauth://totp/"*"verify CODE"*) ok "text has the URI and says how to verify" ;;
*) not_ok "text: $OUT" ;; esac
case $OUT in *"$(printf '\033')"*) not_ok "--qr=none printed a QR code" ;; *) ok "--qr=none: no QR code" ;; esac
codes=$(printf '%s\n' "$OUT" | grep -c '^  [0-9]\{8\}$')
expect_eq "$codes" 3 "text shows the emergency codes"
e status
expect_rc 0 "status (text)"
case $OUT in *"state"*"pending"*) ok "status text says pending" ;; *) not_ok "status: $OUT" ;; esac
e verify "$(wrong_code "$(echo "$secret" | tr -d ' ')")"
expect_rc $EX_DATAERR "verify wrong (text)"
case $ERR in "totp-enroll: "*pending*) ok "the error says it stays pending" ;; *) not_ok "stderr: $ERR" ;; esac
expect_eq "$OUT" "" "errors go to stderr in text mode"
e remove
expect_rc 0 "remove (text)"

# ---- permission ------------------------------------------------------------
[ -f "$DB" ] && sum_before=$(md5sum <"$DB")
for cmd in register status remove "verify 123456"; do
	# shellcheck disable=SC2086
	e $cmd --user root --json
	expect_rc $EX_NOPERM "$cmd --user root as an ordinary user"
	expect_json_error 7 permission "$cmd --user root as an ordinary user"
done
e status --user no-such-user-$$ --json
expect_eq "$(jget 'j["code"]')" 7 "naming an unknown user is also 7 for a user (no probing)"
for cmd in list unlock; do
	e $cmd --json
	expect_rc $EX_NOPERM "$cmd is root's"
	expect_json_error 7 permission "$cmd is root's"
done
expect_eq "$(md5sum <"$DB")" "$sum_before" "nothing was written"

# ---- a system-store realm, as a user ------------------------------------------
e register --realm sys --json
expect_rc $EX_NOPERM "register on a system-store realm as a user"
expect_json_error 7 permission "register on a system-store realm"
case $(jget 'j["message"]') in *"system store"*"--user $U"*) ok "the message says why and what to do" ;;
*) not_ok "message: $(jget 'j["message"]')" ;; esac
e register --realm sys
case $ERR in "totp-enroll: realm sys"*"system store"*) ok "text mode says why too" ;; *) not_ok "stderr: $ERR" ;; esac
[ ! -e "$T/sys" ] && ok "nothing made for the system store" || not_ok "$T/sys was made"

# ---- configuration and usage ------------------------------------------------
cp "$T/conf" "$T/conf-gw" && chmod 664 "$T/conf-gw"
run "${AS:-}" -- --conf "$T/conf-gw" status --json
expect_json_error 7 bad-mode "a group-writable --conf is refused"
e --realm 'bad/realm' status --json
expect_eq "$(jget 'j["code"]')" 3 "a bad realm name is refused"
e frobnicate
expect_rc $EX_USAGE "an unknown command is a usage error"
e verify
expect_rc $EX_USAGE "verify without CODE is a usage error"
e status --digits 8
expect_rc $EX_USAGE "--digits only with register"
e --qr=sixel register
expect_rc $EX_USAGE "an unknown --qr mode"
e --help
expect_rc 0 "--help"
case $OUT in *Usage:*verify*) ok "--help shows usage" ;; *) not_ok "--help: $OUT" ;; esac
e --version
case $OUT in "totp-enroll (pam_totp) "*) ok "--version" ;; *) not_ok "--version: $OUT" ;; esac

finish
