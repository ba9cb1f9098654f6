#!/bin/bash
# Scenario 2: OpenSSH.  sshd runs on a loopback port with its own
# sshd_config: a key and then a TOTP code (AuthenticationMethods
# publickey,keyboard-interactive), UsePAM, no passwords.
#
# The PAM service: sshd names its PAM service after the name it was
# started as (OpenSSH's SSHD_PAM_SERVICE is __progname unless built
# --with-pam-service; Debian does not), so sshd started through a symbolic
# link named pam_totp_e2e_sshd_PID uses /etc/pam.d/pam_totp_e2e_sshd_PID,
# and the system's /etc/pam.d/sshd is never touched.  The test checks that
# this service is the one used (the log names it).
#
# ssh answers the code itself: SSH_ASKPASS_REQUIRE=force makes it ask a
# program (here a script that prints the code and notes the prompt).
# ok and not_ok always succeed, so "test && ok || not_ok" is safe.
# shellcheck disable=SC2015
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
need sshd ssh ssh-keygen oathtool useradd

U=pame2e2_$$
SVC=pam_totp_e2e_sshd_$$
install_conf
make_user "$U"
usermod -p '*' "$U" # no password at all: only the key and the code
pam_service "$SVC" "# what README.md shows for /etc/pam.d/sshd, without the password
auth required pam_totp.so
account include common-account
session required pam_permit.so"
syslog_setup || not_ok "syslog: no working syslog"
pos=$(syslog_pos)

# A free loopback port: 2222 unless it is taken.
PORT=$("$PY" -c '
import socket
for p in [2222] + list(range(22220, 22300)):
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
if [ ! -d /run/sshd ]; then # the privilege separation folder
	mkdir -p /run/sshd
	chmod 755 /run/sshd
	at_exit "rmdir /run/sshd 2>/dev/null"
fi
cat >"$T/sshd_config" <<CFG
# The sshd_config lines README.md shows:
KbdInteractiveAuthentication yes
AuthenticationMethods publickey,keyboard-interactive
UsePAM yes
PasswordAuthentication no
# and this test's own daemon:
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

# sshlogin CODE: ssh in with the key, answering CODE; output in $T/ssh.out.
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

settle
enroll "$U" -- --json
[ "$RC" -eq 0 ] || bail "totp-enroll --json as $U: exit $RC: $OUT $ERR"
S=$(jget 'j["secret"]')
enroll "$U" -- verify "$(code "$S" 0)"
expect_eq "$RC" 0 "the user registers and verifies with oathtool"

C1=$(code "$S" 1)
if sshlogin "$C1" && grep -qx "e2e-ssh-ok as $U" "$T/ssh.out"; then
	ok "ssh: key plus code logs in and runs a command"
else
	not_ok "ssh with key and code: $(cat "$T/ssh.out"); sshd: $(tail -n 5 "$T/sshd.log")"
fi
grep -q 'Verification code' "$T/prompts" && ok "ssh: the code was asked by keyboard-interactive" ||
	not_ok "ssh prompts: $(cat "$T/prompts")"
grep -q "Accepted keyboard-interactive/pam for $U" "$T/sshd.log" && ok "sshd: accepted keyboard-interactive/pam" ||
	not_ok "sshd log: $(tail -n 5 "$T/sshd.log")"
wait_log "$pos" "pam_totp\\($SVC:auth\\): accepted a code of generator default; user=$U realm=default service=$SVC rhost=127.0.0.1" &&
	ok "syslog: accepted through PAM service $SVC, rhost 127.0.0.1" || not_ok "syslog: no accepted line for $SVC"

W=$(wrong_code "$S")
sshlogin "$W" && not_ok "ssh: a wrong code logged in" || {
	grep -q 'e2e-ssh-ok' "$T/ssh.out" && not_ok "ssh: the command ran after a wrong code" ||
		ok "ssh: a wrong code is refused"
}
grep -q 'Permission denied' "$T/ssh.out" && ok "ssh: permission denied" || not_ok "ssh said: $(cat "$T/ssh.out")"
sshlogin "$C1" && not_ok "ssh: a replayed code logged in" || ok "ssh: the same code again is refused"
mv "$T/id_ed25519" "$T/id_other"
ssh-keygen -q -t ed25519 -N '' -f "$T/id_ed25519"
if ! sshlogin "$(code "$S" 1)" && ! grep -q 'e2e-ssh-ok' "$T/ssh.out"; then
	ok "ssh: a code without the right key is refused"
else
	not_ok "ssh: an unknown key got in"
fi
[ ! -s "$T/prompts" ] && ok "ssh: no code is asked before the key" || not_ok "asked before the key: $(cat "$T/prompts")"
finish
