#!/usr/bin/python3
"""A stand-in syslog daemon for the end-to-end tests, used only when
neither a syslog daemon nor rsyslogd is there: binds a Unix datagram
socket at argv[1] (/dev/log) and appends each message, one a line, to the
file argv[2].  It removes its socket when it is stopped (SIGTERM)."""
import os
import signal
import socket
import sys

path, out = sys.argv[1], sys.argv[2]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
os.chmod(path, 0o666)


def stop(*_):
    os.unlink(path)
    sys.exit(0)


signal.signal(signal.SIGTERM, stop)
with open(out, "ab", buffering=0) as f:
    while True:
        msg = sock.recv(65536)
        f.write(msg.rstrip(b"\0\n").replace(b"\n", b" ") + b"\n")
