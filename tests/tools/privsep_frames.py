#!/usr/bin/env python3
"""Writes the frames a compromised agent child sends its privileged parent
(PATCHWARDEN_PRIVSEP_FRAMES, a PW_TEST_HOOKS build's test hook), from the
layout documented in src/lib/executor/include/patchwarden/privmsg.h.

Usage: privsep_frames.py SET OUT
  SET  bad       every kind of refused request, one valid simulate, then a
                 frame cut short (the stream ends inside it)
       flood     20 refused requests (the parent closes after 16)
       huge      a frame header announcing 64 MiB
The file holds chunks: a 4-byte big-endian length (bit 31: shut the
channel for writing after this chunk) and the raw bytes to send."""
import struct
import sys

KIND = {"inventory": 1, "simulate": 2, "patch": 3, "hold": 4, "rollback": 6, "reboot": 7}


def s(v):
    b = v.encode() if isinstance(v, str) else v
    return struct.pack(">I", len(b)) + b


def req(kind, flags=0, pkgs=(), count=None):
    p = struct.pack(">BIII", 1, kind, flags, len(pkgs) if count is None else count)
    for name, version, at_least in pkgs:
        p += s(name) + s(version) + bytes([at_least])
    return p


def frame(payload):
    return struct.pack(">I", len(payload)) + payload


def chunk(raw, shut=False):
    return struct.pack(">I", len(raw) | (0x80000000 if shut else 0)) + raw


def bad_set():
    canary = sys.argv[3] if len(sys.argv) > 3 else "/tmp/pw-privsep-canary"
    reqs = [
        req(99),                                                      # 1 kind outside the set
        req(0),                                                       # 2 kind 0
        req(KIND["patch"], 0, [("-o APT::Update::Pre-Invoke=touch " + canary, "", 0)]),  # 3
        req(KIND["patch"], 0, [("foo; rm -rf /", "", 0)]),            # 4
        req(KIND["patch"], 0, [("openssl", "3.0.11-1\ntouch " + canary, 0)]),  # 5
        req(KIND["patch"], 0, [], count=513),                         # 6 count over the limit
        req(KIND["patch"], 0, [], count=0xFFFFFFFF),                  # 7
        req(KIND["simulate"], 2, [("openssl", "", 0)]),              # 8 allow_reboot on simulate
        req(KIND["reboot"]),                                          # 9 reboot without allow_reboot
        req(KIND["patch"], 0x40, [("openssl", "", 0)]),              # 10 unknown flag
        req(KIND["inventory"]) + b"\0",                               # 11 trailing byte
        req(KIND["patch"], 0, [("openssl", "$(touch " + canary + ")", 0)]),  # 12
        req(KIND["hold"], 0, [("openssl", "", 0), ("openssl", "", 0)]),      # 13 duplicate
        req(KIND["rollback"], 0, [("../../etc/passwd", "1.0", 0)]),  # 14
        req(KIND["simulate"], 0, [("openssl", "3.0.11-1~deb12u2", 0)]),  # 15 valid
    ]
    out = b"".join(chunk(frame(r)) for r in reqs)
    # 16: a header announcing 100 bytes, 10 sent, then the end of the stream
    out += chunk(struct.pack(">I", 100) + req(KIND["inventory"])[:10], shut=True)
    return out


def flood_set():
    return b"".join(chunk(frame(req(99))) for _ in range(20))


def huge_set():
    return chunk(struct.pack(">I", 64 << 20) + b"x" * 64, shut=True)


sets = {"bad": bad_set, "flood": flood_set, "huge": huge_set}
with open(sys.argv[2], "wb") as f:
    f.write(sets[sys.argv[1]]())
