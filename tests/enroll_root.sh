#!/bin/sh
# totp-enroll as root: every row of the lifecycle table on a system store
# (a `store = $T/sys/%r.db` realm, so /var/lib/totp is never touched), root
# on a user's own store (the file stays the user's), unknown users, list
# and unlock, and an ordinary user (a throwaway one, through runuser)
# refused on the system store.  Skipped unless run as root.
# shellcheck disable=SC3043
. "${top_srcdir:-.}/tests/enroll_lib.sh"
[ "$(id -u)" -eq 0 ] || skip_all "needs root"
need oathtool runuser useradd

EX_DATAERR=65 EX_NOUSER=67 EX_CANTCREAT=73 EX_NOPERM=77 EX_CONFIG=78

U=tetr$$
make_user "$U" "$T/home/$U" || skip_all "useradd failed"
# The system store is sharded (lib/store/shard_store.h): the user's shard
# is sys.d/<shard>.db, the first 10 bits of SHA-256 of the name in 3 hex
# digits.
h=$(printf %s "$U" | sha256sum | cut -c1-4)
SYS=$T/sys/sys.d/$(printf %03x $((0x$h >> 6))).db
printf 'emergency_codes = 2\n[sys]\nstore = %s/sys/%%r.db\nemergency_codes = 4\n' "$T" >"$T/conf"
chmod 644 "$T/conf"

# shellcheck disable=SC2086
r() { run "" -- --conf "$T/conf" "$@"; }
status_json() { r status --realm sys --user "$U" --json; echo "$OUT"; }

# ---- none ----------------------------------------------------------------
for cmd in status remove unlock "verify 123456"; do
	# shellcheck disable=SC2086
	r $cmd --realm sys --user "$U" --json
	expect_rc $EX_NOUSER "root: $cmd with nothing registered (system store)"
	expect_json_error 5 not-found "root: $cmd with nothing registered"
done
r list --realm sys --json
expect_rc 0 "list with no store yet"
expect_eq "$(jget 'j["details"]["totalResult"] + " " + str(j["result"])')" "0 []" "list: empty"

# ---- unknown user ---------------------------------------------------------
for cmd in register status remove "verify 123456"; do
	# shellcheck disable=SC2086
	r $cmd --realm sys --user "nosuch$$" --json
	expect_rc $EX_NOUSER "root: $cmd on an unknown user"
	expect_json_error 5 not-found "root: $cmd on an unknown user"
done
[ ! -e "$T/sys/sys.d" ] && [ ! -e "$T/sys/sys.db" ] && ok "nothing made for an unknown user" ||
	not_ok "a store was made"

# ---- register: none -> pending --------------------------------------------
r register --realm sys --user "$U" --json
expect_rc 0 "root: register (none)"
expect_eq "$(jget 'list(j.keys())')" '["details", "uri", "secret", "emergencyCodes"]' "register shape"
expect_eq "$(jget 'j["details"]["sequence"] + " " + j["details"]["resourceOwner"]')" "1 sys" \
	"sequence 1, resourceOwner sys"
expect_eq "$(jget 'len(j["emergencyCodes"])')" 4 "the realm section's emergency_codes"
S1=$(jget 'j["secret"]')
case $(jget 'j["uri"]') in "otpauth://totp/"*":$U@"*) ok "label names the target user" ;; *) not_ok "uri" ;; esac
expect_eq "$(stat -c '%U %a' "$SYS")" "root 600" "system store is root's, 0600"
expect_eq "$(stat -c '%U %a' "$SYS.lock" "$(dirname "$SYS")" "$T/sys/sys.d" | tr '\n' ' ')" \
	"root 600 root 700 root 700 " "its lock 0600, its folders 0700, root's"

r register --realm sys --user "$U" --json
expect_rc 0 "root: register (pending)"
S2=$(jget 'j["secret"]')
expect_eq "$(jget 'j["details"]["sequence"]')" 2 "sequence 2"
[ "$S1" != "$S2" ] && ok "new secret" || not_ok "same secret"

# ---- verify -----------------------------------------------------------------
before=$(status_json)
r verify "$(wrong_code "$S2")" --realm sys --user "$U" --json
expect_rc $EX_DATAERR "root: verify (pending, wrong)"
expect_json_error 3 wrong-code "root: verify (pending, wrong)"
expect_eq "$(status_json)" "$before" "wrong code: record unchanged"
OUT=$before
expect_eq "$(jget 'j["state"] + " " + j["details"]["sequence"]')" "pending 2" "still pending"
settle
r verify "$(totp_now "$S2")" --realm sys --user "$U" --json
expect_rc 0 "root: verify (pending, oathtool's code)"
expect_eq "$(jget 'j["details"]["sequence"]')" 3 "verify: sequence 3"
OUT=$(status_json)
expect_eq "$(jget 'j["state"]')" ready "status: ready"

before=$(status_json)
r register --realm sys --user "$U" --json
expect_rc $EX_CANTCREAT "root: register (ready)"
expect_json_error 6 exists "root: register (ready)"
r verify "$(totp_now "$S2")" --realm sys --user "$U" --json
expect_rc $EX_DATAERR "root: verify (ready)"
expect_json_error 9 precondition "root: verify (ready)"
expect_eq "$(status_json)" "$before" "refused calls change nothing"

# ---- list, unlock -------------------------------------------------------------
r list --realm sys --json
expect_rc 0 "list"
expect_eq "$(jget 'j["details"]["totalResult"]')" 1 "list: one user"
expect_eq "$(jget 'j["result"][0]["user"] + " " + j["result"][0]["state"]')" "$U ready" "list: the user, ready"
expect_eq "$(jget '"secret" in json.dumps(j)')" False "list shows no secret"
r list --realm sys
case $OUT in *"$U"*ready*) ok "list (text)" ;; *) not_ok "list text: $OUT" ;; esac
r list --json
expect_rc $EX_DATAERR "list on a per-user realm"
expect_json_error 3 invalid "list on a per-user realm"
r unlock --realm sys --user "$U" --json
expect_rc 0 "unlock"
expect_eq "$(jget 'j["details"]["sequence"]')" 4 "unlock is an event"

# ---- an ordinary user on the system store --------------------------------------
sum=$(md5sum <"$SYS")
for cmd in register status remove "verify 123456"; do
	# shellcheck disable=SC2086
	run "$U" -- --conf "$T/conf" $cmd --realm sys --json
	expect_rc $EX_NOPERM "user: $cmd on a system-store realm"
	expect_json_error 7 permission "user: $cmd on a system-store realm"
done
case $(jget 'j["message"]') in *"system store"*"only root"*) ok "the user is told why" ;;
*) not_ok "message: $(jget 'j["message"]')" ;; esac
run "$U" -- --conf "$T/conf" register --user root --json
expect_json_error 7 permission "user: register --user root"
expect_eq "$(md5sum <"$SYS")" "$sum" "the system store was not written"
[ ! -e "$T/home/root" ] && ok "nothing made for root" || not_ok "made something for root"

# ---- remove -------------------------------------------------------------------------
r remove --realm sys --user "$U" --json
expect_rc 0 "root: remove (ready)"
expect_eq "$(jget 'j["details"]["sequence"]')" 5 "remove: sequence 5"
r remove --realm sys --user "$U" --json
expect_rc $EX_NOUSER "root: remove (removed)"
r verify 123456 --realm sys --user "$U" --json
expect_json_error 5 not-found "root: verify (removed)"
r register --realm sys --user "$U" --json
expect_eq "$(jget 'j["details"]["sequence"]')" 6 "root: register (removed)"
r remove --realm sys --user "$U" --json
expect_rc 0 "root: remove (pending)"
r list --realm sys --json
expect_eq "$(jget 'j["details"]["totalResult"]')" 0 "list leaves removed users out"

# ---- root on a user's own store: the file stays the user's -----------------------
r register --user "$U" --json
expect_rc 0 "root: register on the user's own store"
DB=$T/home/$U/.config/totp/default.db
expect_eq "$(stat -c '%U %a' "$DB")" "$U 600" "the user store is made as the user"
expect_eq "$(stat -c '%U %a' "$(dirname "$DB")")" "$U 700" "and its folder"
S=$(jget 'j["secret"]')
settle
run "$U" -- --conf "$T/conf" verify "$(totp_now "$S")" --json
expect_rc 0 "the user verifies what root registered"
r status --user "$U" --json
expect_eq "$(jget 'j["state"]')" ready "root reads the user's store"
r remove --user "$U" --json
expect_rc 0 "root removes from the user's store"
expect_eq "$(stat -c '%U' "$DB")" "$U" "still the user's after root wrote it"
r --qr-file "$T/root.png" register --user "$U" --qr=none
expect_eq "$(stat -c '%U %a' "$T/root.png")" "root 600" "--qr-file is the caller's, 0600"

# ---- root's configuration must be root's ----------------------------------------
cp "$T/conf" "$T/conf-u" && chown "$U" "$T/conf-u"
run "" -- --conf "$T/conf-u" status --user "$U" --json
expect_rc $EX_NOPERM "root refuses a --conf owned by a user"
expect_json_error 7 bad-owner "root refuses a --conf owned by a user"
run "" -- --conf "$T/missing.conf" status --user "$U" --json
expect_json_error 5 not-found "a missing --conf is an error"
cp "$T/conf" "$T/conf-bad" && echo "frobnicate = 1" >>"$T/conf-bad"
run "" -- --conf "$T/conf-bad" status --user "$U" --json
expect_rc $EX_CONFIG "a bad configuration line"
expect_eq "$(jget 'j["details"][0]["reason"]')" config "reason config"

finish
