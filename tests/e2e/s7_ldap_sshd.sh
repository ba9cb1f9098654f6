#!/bin/bash
# Scenario 7: OpenSSH with a key and a code from an LDAP realm (issue 14,
# docs/ldap.md): `store = ldap`, `ldap_check = read`.  The directory is
# the real slapd of tests/ldap/fixture.sh (otp overlay, docs/ldap.md's
# ACLs); the user enrolls with totp-enroll (their own LDAP password on
# stdin) and verifies with oathtool; sshd on loopback (as s2_sshd.sh: a
# PAM service named after the sshd link) asks the code by
# keyboard-interactive after the key.  Then: the code is refused again
# (replay), and in an LDAP bind through slapo-otp too; a wrong code is
# refused.
# ok and not_ok always succeed, so "test && ok || not_ok" is safe.
# shellcheck disable=SC2015
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
need sshd ssh ssh-keygen oathtool useradd usermod ldapadd ldapwhoami ldapsearch openssl /usr/sbin/slapd /usr/sbin/slaptest

# The fixture sets its own EXIT trap: it becomes one more undo step.
top_srcdir=$TOP
# shellcheck source=tests/ldap/fixture.sh
. "$TOP/tests/ldap/fixture.sh"
at_exit ldap_cleanup
# shellcheck disable=SC2090
trap 'eval "$CLEANUP"' EXIT
ldap_fixture_up || bail "the slapd fixture did not start"
ok "slapd (otp overlay, docs/ldap.md's ACLs) on $LDAPT_URI1"

U=pame2e7_$$
SVC=pam_totp_e2e_sshd_$$
make_user "$U"
usermod -p '*' "$U" # no local password: the key, then the code
printf 'dn: uid=%s,ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: %s\ncn: %s\nsn: %s\nuserPassword: pw-%s\n' \
	"$U" "$U" "$U" "$U" "$U" |
	ldapadd -x -H "$LDAPT_URI1" -D cn=admin,dc=example,dc=org -w secret >"$T/add.log" 2>&1 &&
	ok "the directory has uid=$U" || bail "ldapadd: $(cat "$T/add.log")"

cat >"$T/pam_totp.conf" <<CONF
[fleet]
store = ldap
ldap_uri = $LDAPT_URI1
ldap_base = ou=people,dc=example,dc=org
ldap_tokens = ou=tokens,dc=example,dc=org
ldap_params = cn=totp-sha1-6,ou=params,dc=example,dc=org
ldap_binddn = cn=host1,ou=hosts,dc=example,dc=org
ldap_bindpw_file = $LDAPT_PW_FILE
ldap_check = read
CONF
chmod 644 "$T/pam_totp.conf"
pam_service "$SVC" "# README.md's /etc/pam.d/sshd lines, with an ldap realm
auth required $PAMDIR/pam_totp.so conf=$T/pam_totp.conf realm=fleet
account include common-account
session required pam_permit.so"

PORT=$("$PY" -c '
import socket
for p in list(range(22300, 22400)):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    print(p)
    break')
[ -n "$PORT" ] || bail "no free port"
ssh-keygen -q -t ed25519 -N '' -C e2e-host -f "$T/host_ed25519" || bail "host key"
ssh-keygen -q -t ed25519 -N '' -C e2e-user -f "$T/id_ed25519" || bail "user key"
H=$T/home/$U
install -d -o "$U" -g "$U" -m 700 "$H/.ssh"
install -o "$U" -g "$U" -m 600 "$T/id_ed25519.pub" "$H/.ssh/authorized_keys"
if [ ! -d /run/sshd ]; then
	mkdir -p /run/sshd
	chmod 755 /run/sshd
	at_exit "rmdir /run/sshd 2>/dev/null"
fi
cat >"$T/sshd_config" <<CFG
KbdInteractiveAuthentication yes
AuthenticationMethods publickey,keyboard-interactive
UsePAM yes
PasswordAuthentication no
Port $PORT
ListenAddress 127.0.0.1
HostKey $T/host_ed25519
PidFile $T/sshd.pid
PubkeyAuthentication yes
PermitRootLogin no
AllowUsers $U
LogLevel VERBOSE
CFG
ln -s "$(command -v sshd)" "$T/$SVC"
"$T/$SVC" -t -f "$T/sshd_config" || bail "sshd -t refused the config"
"$T/$SVC" -D -e -f "$T/sshd_config" >"$T/sshd.log" 2>&1 &
SSHD=$!
at_exit "kill $SSHD 2>/dev/null; wait $SSHD 2>/dev/null"
for _ in $(seq 600); do
	(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
	sleep 0.1
done
(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && ok "sshd listens on 127.0.0.1:$PORT" ||
	bail "sshd did not start: $(cat "$T/sshd.log")"

# shellcheck disable=SC2016 # $1 is the askpass script's
printf '#!/bin/sh\nprintf "%%s\\n" "$1" >>"%s/prompts"\ncat "%s/answer"\n' "$T" "$T" >"$T/askpass"
chmod 755 "$T/askpass"
sshlogin() {
	printf '%s\n' "$1" >"$T/answer"
	: >"$T/prompts"
	# shellcheck disable=SC2016 # the command runs on the far side
	SSH_ASKPASS=$T/askpass SSH_ASKPASS_REQUIRE=force DISPLAY=:e2e \
		timeout 60 ssh -F /dev/null -p "$PORT" -i "$T/id_ed25519" -o IdentitiesOnly=yes \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile="$T/known_hosts" \
		-o NumberOfPasswordPrompts=1 -o ConnectTimeout=20 -o LogLevel=ERROR \
		"$U@127.0.0.1" 'echo "e2e-ssh-ok as $(id -un)"' </dev/null >"$T/ssh.out" 2>&1
}
# te ARGS...: totp-enroll as the user, the LDAP password on stdin.
te() {
	printf 'pw-%s\n' "$U" | as "$U" "$ENROLL" --conf "$T/pam_totp.conf" -r fleet "$@" >"$T/out" 2>"$T/err"
	RC=$?
	OUT=$(cat "$T/out")
}

settle
te register --json
[ "$RC" -eq 0 ] || bail "totp-enroll register as $U: exit $RC: $OUT $(cat "$T/err")"
S=$(jget 'j["secret"]')
sshlogin "$(code "$S" 0)" && not_ok "ssh: a pending token logged in" || ok "ssh: a pending (unverified) token is refused"
te verify "$(code "$S" 0)"
expect_eq "$RC" 0 "the user verifies with oathtool's code (slapo-otp checks it)"

C1=$(code "$S" 1)
if sshlogin "$C1" && grep -qx "e2e-ssh-ok as $U" "$T/ssh.out"; then
	ok "ssh: key plus a code from the directory logs in (ldap_check = read)"
else
	not_ok "ssh with key and code: $(cat "$T/ssh.out"); sshd: $(tail -n 5 "$T/sshd.log")"
fi
grep -q "Accepted keyboard-interactive/pam for $U" "$T/sshd.log" && ok "sshd: accepted keyboard-interactive/pam" ||
	not_ok "sshd log: $(tail -n 5 "$T/sshd.log")"
sshlogin "$C1" && not_ok "ssh: a replayed code logged in" || ok "ssh: the same code again is refused"
ldapwhoami -x -H "$LDAPT_URI1" -D "uid=$U,ou=people,dc=example,dc=org" -w "pw-$U$C1" >/dev/null 2>&1 &&
	not_ok "slapo-otp accepted the code sshd used" || ok "the code sshd used then fails in an LDAP bind (slapo-otp)"
sshlogin "$(wrong_code "$S")" && not_ok "ssh: a wrong code logged in" || ok "ssh: a wrong code is refused"
finish
