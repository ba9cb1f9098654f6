#!/bin/sh
# Bare totp-enroll on a terminal: register, then ask for a code (3 tries).
# Driven through a pseudo-terminal by Python's pty module: three wrong
# codes leave it pending; an interrupt leaves it pending and says how to
# finish; a right code from oathtool makes it ready.  Without a terminal,
# bare totp-enroll registers and only says how to verify.
# shellcheck disable=SC3043
. "${top_srcdir:-.}/tests/enroll_lib.sh"
need oathtool

home=$(getent passwd "$(id -un)" | cut -d: -f6)
printf 'emergency_codes = 1\nstore = %s/s%%h/%%r.db\n' "$T" >"$T/conf"
chmod 644 "$T/conf"
e() { run "" -- --conf "$T/conf" "$@"; }

cat >"$T/drive.py" <<'PYEOF'
import os, pty, re, select, signal, subprocess, sys, time

enroll, conf, mode = sys.argv[1], sys.argv[2], sys.argv[3]
pid, fd = pty.fork()
if pid == 0:
    os.execv(enroll, [enroll, "--conf", conf, "--qr=none"])
buf = b""

def give_up(why):
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    sys.exit(why)


def read_some(deadline):
    """One chunk of output, or b"" at its end; gives up at the deadline."""
    left = deadline - time.time()
    if left <= 0 or not select.select([fd], [], [], left)[0]:
        give_up("timed out; output so far: %r" % buf)
    try:
        return os.read(fd, 4096)
    except OSError:  # EIO: the child closed the terminal
        return b""


def read_until(pat, timeout=120, start=0):
    global buf
    end = time.time() + timeout
    while not re.search(pat, buf[start:]):
        chunk = read_some(end)
        if not chunk:
            give_up("output ended waiting for %r in %r" % (pat, buf))
        buf += chunk


read_until(rb"confirm: ")
secret = re.search(rb"\n  ((?:[A-Z2-7]{4} ?)+)\r?\n", buf).group(1).replace(b" ", b"").decode()
if mode == "wrong":
    # Codes outside the window around now: oathtool lists steps -2 .. +2.
    near = subprocess.run(["oathtool", "--totp", "-w", "4", "-N",
                           "@%d" % (time.time() - 60), "-b", secret],
                          capture_output=True, check=True).stdout.split()
    wrong = [c for c in (b"%06d" % (n * 111111) for n in range(10)) if c not in near]
    for i in range(3):
        mark = len(buf)
        os.write(fd, wrong[i] + b"\n")
        if i < 2:
            read_until(rb"confirm: ", start=mark)
elif mode == "interrupt":
    os.kill(pid, signal.SIGINT)
else:
    code = subprocess.run(["oathtool", "--totp", "-b", secret], capture_output=True,
                          check=True).stdout.strip()
    os.write(fd, code + b"\n")
read_until(rb"(verify CODE|Verified)[^\n]*\n")
end = time.time() + 120
while True:
    chunk = read_some(end)
    if not chunk:
        break
    buf += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.write(buf.decode("utf-8", "replace"))
print("\nEXIT %d" % (os.waitstatus_to_exitcode(status)))
PYEOF

drive() { OUT=$("$PY" "$T/drive.py" "$ENROLL" "$T/conf" "$1" 2>&1); }

# Three wrong codes: pending, and told how to finish.
drive wrong
case $OUT in *"EXIT 65"*) ok "three wrong codes: exit 65" ;; *) not_ok "wrong: $OUT" ;; esac
case $OUT in *"totp-enroll --conf $T/conf verify CODE"*) ok "says how to finish" ;; *) not_ok "no hint: $OUT" ;; esac
n=$(printf '%s\n' "$OUT" | grep -c "confirm: ")
expect_eq "$n" 3 "asked three times"
e status --json
expect_eq "$(jget 'j["state"]')" pending "still pending after three wrong codes"

# An interrupt: pending, told how to finish, exit 130.
drive interrupt
case $OUT in *"verify CODE"*"EXIT 130"*) ok "an interrupt leaves it pending with a hint" ;;
*) not_ok "interrupt: $OUT" ;; esac
e status --json
expect_eq "$(jget 'j["state"]')" pending "still pending after an interrupt"

# The right code: ready.
settle
drive right
case $OUT in *"Verified"*"EXIT 0"*) ok "the right code confirms it" ;; *) not_ok "right: $OUT" ;; esac
e status --json
expect_eq "$(jget 'j["state"]')" ready "ready after the right code"
e remove

# Without a terminal: register only, and a hint.
e </dev/null
expect_rc 0 "bare totp-enroll without a terminal"
case $OUT in *"totp-enroll --conf $T/conf verify CODE"*) ok "no prompt, a hint" ;; *) not_ok "no-tty: $OUT" ;; esac
case $OUT in *"confirm:"*) not_ok "prompted without a terminal" ;; *) ok "did not prompt" ;; esac

finish
