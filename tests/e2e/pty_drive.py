#!/usr/bin/python3
"""Runs a command on a new pseudo-terminal and answers its prompts, for
programs that read answers from a terminal only (su).

    pty_drive.py [-t SECONDS] PROMPT ANSWER [PROMPT ANSWER]... -- COMMAND...

Each PROMPT is a regular expression; when it shows up in the output (after
the previous answer), ANSWER and a newline are typed.  Everything the
command writes is copied to stdout, with the prompts but not the answers
(the terminal does not echo passwords).  Exits with the command's status,
or 124 if it ran longer than the limit (default 120 s), when it is killed.
"""
import os
import pty
import re
import select
import signal
import sys
import time


def parse(argv):
    limit = 120.0
    if argv[:1] == ["-t"]:
        limit, argv = float(argv[1]), argv[2:]
    sep = argv.index("--")
    pairs, cmd = argv[:sep], argv[sep + 1:]
    if len(pairs) % 2 or not cmd:
        sys.exit(__doc__)
    script = [(re.compile(pairs[i].encode()), pairs[i + 1].encode())
              for i in range(0, len(pairs), 2)]
    return limit, script, cmd


def main():
    limit, script, cmd = parse(sys.argv[1:])
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    deadline = time.monotonic() + limit
    seen = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            sys.stdout.buffer.write(b"\n[pty_drive: timed out]\n")
            sys.exit(124)
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        try:
            data = os.read(fd, 4096)
        except OSError:  # EIO: the other side is closed
            data = b""
        if not data:
            break
        sys.stdout.buffer.write(data.replace(b"\r", b""))
        sys.stdout.buffer.flush()
        seen += data
        if script and script[0][0].search(seen):
            os.write(fd, script[0][1] + b"\n")
            script.pop(0)
            seen = b""
    _, status = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(status) & 0xFF)


main()
