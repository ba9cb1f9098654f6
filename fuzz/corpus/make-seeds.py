#!/usr/bin/python3
"""Writes the seed corpora of fuzz/corpus/<target>/ (run from fuzz/corpus).

The seeds are small, handcrafted, mostly valid inputs, so that each target
starts from the shapes its parser accepts.  They are committed; this
script only says how they were made (and remakes them).
"""
import os
import struct


def put(target, name, data):
    os.makedirs(target, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(target, name), "wb") as f:
        f.write(data)


# ---- fuzz_record: record encoding version 1 (lib/record.h) ----------------
def s8(b):
    if isinstance(b, str):
        b = b.encode()
    return bytes([len(b)]) + b


def record(state=2, typ=0, alg=0, digits=6, period=30, window=0,
           secret=b"12345678901234567890", counter=56666666, failures=0,
           locked=0, seq=3, change=1700000000123, created=1699990000,
           ok=(1700000000, "sshd", "192.0.2.1"), bad=(0, "", ""), hashes=()):
    out = b"TOTP" + bytes([1, state, typ, alg, digits])
    out += struct.pack(">IBB", period, window, len(secret)) + secret
    out += struct.pack(">QIqQqq", counter, failures, locked, seq, change, created)
    for t, svc, host in (ok, bad):
        out += struct.pack(">q", t) + s8(svc) + s8(host)
    out += bytes([len(hashes)]) + b"".join(s8(h) for h in hashes)
    return out


yes = "$y$j9T$abcdefghijklmnopqrstu.$" + "A" * 43
put("fuzz_record", "ready-totp", record(hashes=(yes, "", yes)))
put("fuzz_record", "pending-hotp", record(state=1, typ=1, period=0, counter=0))
put("fuzz_record", "removed", record(state=3, secret=b"", ok=(0, "", "")))
put("fuzz_record", "sha512-8", record(alg=2, digits=8, period=60, window=3,
                                      secret=bytes(range(64)), failures=4,
                                      locked=1700000300, bad=(1700000001, "sudo", "")))
put("fuzz_record", "version-2", b"TOTP\x02")

# ---- fuzz_cfg: first byte picks the realm (0 default, 1 corp) -------------
conf = """# pam_totp.conf
issuer = Example Corp
window = 1
lockout = 300

[corp]
store = system
digits = 8
allow_digits = 8
allow_algorithms = sha256, sha512
prompt = "Corp code: "   # trailing comment

[x-1.y_z]
store = %h/.totp/%u-%r.db
"""
put("fuzz_cfg", "sample-default", b"\x00" + conf.encode())
put("fuzz_cfg", "sample-corp", b"\x01" + conf.encode())
put("fuzz_cfg", "crlf", b"\x00window = 2\r\nsync_login = no\r\n")
put("fuzz_cfg", "flags", b"\x00nullok = yes\ndebug = true\necho_code = 0\n"
    b"allow_periods = 30 60 90\nallow_types = totp\n")

# ---- fuzz_args: pam.d words, one per line ---------------------------------
put("fuzz_args", "common", "realm=corp\nnullok\ndebug\nwindow=2")
put("fuzz_args", "prompt", "prompt=Code: \0try_first_pass\0store=/var/lib/totp/%r.db")
put("fuzz_args", "conf", "conf=/etc/security/pam_totp.conf\nrealm=default\n"
    "lock_timeout=500\nmax_failures=3\nlockout=60")

# ---- fuzz_uri: first byte even = parts, odd = text ------------------------
uris = [
    "otpauth://totp/ACME:alice%40example.com?algorithm=SHA1&digits=6"
    "&issuer=ACME&period=30&secret=JBSWY3DPEHPK3PXP",
    "otpauth://hotp/bob?algorithm=SHA256&counter=42&digits=8"
    "&secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
    "otpauth://totp/Big%20Corp:carol?secret=JBSWY3DPEHPK3PXP&issuer=Big%20Corp",
]
for i, u in enumerate(uris):
    put("fuzz_uri", "text-%d" % i, b"\x01" + u.encode())
# parts: type, alg, digits, period (2 bytes), counter (8), secret length-1,
# secret, issuer NUL account
put("fuzz_uri", "parts-totp", bytes([0, 0, 0, 0, 0, 29]) + bytes(8) + bytes([19])
    + b"12345678901234567890" + b"ACME\0alice@example.com")
put("fuzz_uri", "parts-hotp", bytes([0, 1, 1, 2, 0, 59]) + struct.pack(">Q", 7)
    + bytes([31]) + bytes(range(32)) + b"Big Corp: Ltd\0dave")

# ---- fuzz_code: generator, window, floor, then the typed code --------------
# byte 0: bit 0 HOTP, (>>1)%3 algorithm, (>>3)%3 digits - 6; bit 7 a
# record with a broken emergency hash
put("fuzz_code", "totp-6", b"\x00\x01\x0c921300")
put("fuzz_code", "totp-8", b"\x10\x01\x0c81921300")
put("fuzz_code", "hotp-7", b"\x09\x02\x0c1234567")
put("fuzz_code", "emergency", b"\x00\x01\x0c12345678")
put("fuzz_code", "emergency-broken", b"\x80\x01\x0c87654321")

# ---- fuzz_login: byte 0 digits (6, 7, 8), then the typed code --------------
# the codes of now (1700000000) and the next step, RFC 6238's SHA1 key
put("fuzz_login", "now-6", b"\x00921300")
put("fuzz_login", "next-7", b"\x017732303")
put("fuzz_login", "now-8", b"\x0281921300")
put("fuzz_login", "emergency", b"\x0024681357")
put("fuzz_login", "wrong", b"\x00000000")
# byte 0 also picks 0 to 3 more generators ((b / 3) % 4) and which of
# them are pending ((b / 12) & 7): 9 = three more, all ready; 21 = three
# more, "spare" pending.  Their secrets: the key with its first byte ^ 1,
# 2, 3 ("spare", "token", "g4"); codes of now, 6 digits
put("fuzz_login", "spare-now-6", b"\x09647279")
put("fuzz_login", "g4-now-6", b"\x09324511")
put("fuzz_login", "spare-pending", b"\x15647279")

# ---- fuzz_import_ga, fuzz_import_oath: the import tests' sample files ----
# (copies of tests/data/ga_* and tests/data/*.oath, made by hand there)
