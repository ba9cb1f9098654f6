#!/bin/bash
# Scenario 4: the system store.  Root enrolls a user with --user into the
# realm e2e-sys (`store = system`: /var/lib/totp/e2e-sys.db, kept as
# shards, the user's in /var/lib/totp/e2e-sys.d/<shard>.db: lib/store/shard_store.h).  The user can
# neither read nor change that database, by hand or with totp-enroll.  The
# user then logs in through the real su, whose PAM stack includes
# pam_totp: su is run by an ordinary user (nobody, so pam_rootok does not
# let it through) on a pseudo-terminal, answering the password and the
# code.
#
# su's PAM service is always "su": the test's stack is bind-mounted over
# /etc/pam.d/su in a private mount namespace (unshare), so the system's
# file is never changed; where namespaces are not allowed, the file is
# saved, replaced, and put back at exit.
# ok and not_ok always succeed, so "test && ok || not_ok" is safe.
# shellcheck disable=SC2015
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
need su runuser oathtool useradd chpasswd

U=pame2e4_$$
REALM=e2e-sys
DBDIR=/var/lib/totp
# the user's shard: the first 10 bits of SHA-256 of the name, 3 hex digits
# (lib/store/shard_store.h)
h=$(printf %s "$U" | sha256sum | cut -c1-4)
DB=$DBDIR/$REALM.d/$(printf %03x $((0x$h >> 6))).db
install_conf
make_user "$U"
PW=pw-$$-$RANDOM-e2e
printf '%s:%s\n' "$U" "$PW" | chpasswd || bail "chpasswd"

[ -d "$DBDIR" ] || at_exit "rmdir '$DBDIR' 2>/dev/null"
rm -rf "$DBDIR/$REALM".* # a run that was killed may have left them
at_exit "rm -rf '$DBDIR/$REALM'.*"

settle
enroll "" -- --realm "$REALM" --user "$U" --json
expect_eq "$RC" 0 "root registers $U with --user into the system store"
S=$(jget 'j["secret"]')
expect_eq "$(jget 'j["details"]["resourceOwner"]')" "$REALM" "resourceOwner: the realm"
enroll "" -- --realm "$REALM" --user "$U" verify "$(code "$S" 0)"
expect_eq "$RC" 0 "root verifies it with oathtool's code"
expect_eq "$(stat -c '%U %a' "$DB" 2>&1)" "root 600" "$DB is root's, 0600"
expect_eq "$(stat -c '%U %a' "$(dirname "$DB")" "$DBDIR/$REALM.d" 2>&1 | tr '\n' ' ')" \
	"root 700 root 700 " "its folder is root's, 0700"
[ ! -e "$T/home/$U/.config/totp" ] && ok "nothing in the user's home" || not_ok "a user store was made"

# ---- the user cannot read or change it ----------------------------------
sum=$(md5sum <"$DB")
as "$U" cat "$DB" >/dev/null 2>&1 && not_ok "the user read $DB" || ok "the user cannot read $DB (cat)"
as "$U" sh -c "echo x >>'$DB'" 2>/dev/null && not_ok "the user wrote $DB" || ok "the user cannot write $DB"
for cmd in status remove register "verify $(code "$S" 1)"; do
	# shellcheck disable=SC2086
	enroll "$U" -- --realm "$REALM" $cmd --json
	expect_eq "$RC/$(jget 'j["code"]')" "77/7" "the user: totp-enroll --realm $REALM ${cmd%% *}: permission denied"
done
enroll "$U" -- --realm "$REALM" --user root remove --json
expect_eq "$RC" 77 "the user: --user root: permission denied"
expect_eq "$(md5sum <"$DB")" "$sum" "the database is unchanged"
enroll "" -- --realm "$REALM" --user "$U" status --json
expect_eq "$(jget 'j["state"]')" ready "root: status still ready"

# ---- su -------------------------------------------------------------------
cat >"$T/su.pam" <<PAM
# /etc/pam.d/su for this test: the password, then the code
auth sufficient pam_rootok.so
auth required pam_unix.so
auth required pam_totp.so realm=$REALM
account required pam_unix.so
session required pam_unix.so
PAM
chmod 644 "$T/su.pam"
su_sum=$(md5sum </etc/pam.d/su)
if unshare -m --propagation private true 2>/dev/null; then
	NS=yes
	ok "su's stack goes in a private mount namespace"
else
	NS=no
	cp -a /etc/pam.d/su "$T/su.saved" || bail "cannot save /etc/pam.d/su"
	at_exit "cp -a '$T/su.saved' /etc/pam.d/su"
	cp "$T/su.pam" /etc/pam.d/su
	ok "no namespaces here: /etc/pam.d/su replaced, put back at exit"
fi

# su_as_nobody PASSWORD CODE: nobody runs `su U -c ...` on a pty.
# shellcheck disable=SC2016 # the single-quoted code runs in other shells
su_as_nobody() {
	local cmd=(runuser -u nobody -- "$PY" "$E2E_DIR/pty_drive.py" -t 120
		'Password:' "$1" 'Verification code' "$2"
		-- su -s /bin/sh "$U" -c 'echo "e2e-su-ok as $(id -un)"')
	if [ "$NS" = yes ]; then
		unshare -m --propagation private sh -c \
			'mount --bind "$0" /etc/pam.d/su && exec "$@"' "$T/su.pam" "${cmd[@]}"
	else
		"${cmd[@]}"
	fi >"$T/su.out" 2>&1
}

# one code for the login and its replay: made again, it would be a fresh
# one whenever a step ended in between
C1=$(code "$S" 1)
if su_as_nobody "$PW" "$C1" && grep -qx "e2e-su-ok as $U" "$T/su.out"; then
	ok "su: the password and a fresh code log the user in"
else
	not_ok "su with password and code: $(cat "$T/su.out")"
fi
grep -q 'Verification code' "$T/su.out" && ok "su: pam_totp asked for the code" || not_ok "su: no code prompt"
sed 's/^/# su: /' "$T/su.out"
su_as_nobody "$PW" "$C1" && not_ok "su: a replayed code passed" || {
	grep -q e2e-su-ok "$T/su.out" && not_ok "su: ran after a replay" || ok "su: the same code again is refused"
}
su_as_nobody "$PW" "$(wrong_code "$S")" && not_ok "su: a wrong code passed" || {
	grep -q e2e-su-ok "$T/su.out" && not_ok "su: ran after a wrong code" || ok "su: a wrong code is refused"
}
grep -q 'Authentication failure' "$T/su.out" && ok "su: authentication failure" || not_ok "su said: $(cat "$T/su.out")"
enroll "" -- --realm "$REALM" --user "$U" status --json
expect_eq "$(jget 'j["failures"]')" 2 "root's status counts the two failures"
# A removed generator: register and verify anew (a fresh record, so the
# next step's code would pass), remove, then try that code.
enroll "" -- --realm "$REALM" --user "$U" remove
expect_eq "$RC" 0 "root removes the generator"
enroll "" -- --realm "$REALM" --user "$U" register --json
S2=$(jget 'j["secret"]')
enroll "" -- --realm "$REALM" --user "$U" verify "$(code "$S2" 0)"
expect_eq "$RC" 0 "root registers and verifies a new generator"
enroll "" -- --realm "$REALM" --user "$U" remove
expect_eq "$RC" 0 "root removes it"
su_as_nobody "$PW" "$(code "$S2" 1)" && not_ok "su: a removed generator passed" || {
	grep -q e2e-su-ok "$T/su.out" && not_ok "su: ran after remove" ||
		ok "su: a removed generator is refused, even with a fresh code (no nullok)"
}
if [ "$NS" = yes ]; then
	expect_eq "$(md5sum </etc/pam.d/su)" "$su_sum" "the system's /etc/pam.d/su was never changed"
fi
finish
