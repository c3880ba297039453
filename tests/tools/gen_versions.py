#!/usr/bin/env python3
"""Writes random version pairs, one "A B" line each, for the differential
test against dpkg and rpm (tests/scripts/vercmp_differential.sh).

The mix aims at the corners where implementations differ: realistic
[epoch:]upstream[-revision] shapes (so that dpkg accepts a good share),
near misses made by mutating one side, equal-but-different spellings,
strings from an alphabet rich in ~ ^ : - . + _, epochs that strtol()
reads in surprising ways, and a few non-ASCII bytes. Fields never contain
spaces or tabs (they separate the fields), newlines or carriage returns.

usage: gen_versions.py SEED COUNT > pairs.txt
"""
import random
import sys

WORDS = ["a", "b", "z", "A", "Z", "rc", "alpha", "beta", "pre", "git", "svn",
         "dfsg", "deb", "ubuntu", "el", "fc", "p", "build", "nmu", "bpo", "really"]
SEPS = [".", ".", ".", "+", "~", "-", ":", "^", "_"]
NOISE = "0123456789" "0123456789" "abcxyzABZ" "~~^^::--..++__" "!@%=,"
ODD_BYTES = ["\u00e9", "\u03b1", "\xff", "\x0b", "\x0c", "\x7f", "\x01"]


def number(r):
    k = r.random()
    if k < 0.08:
        return "0" * r.randint(1, 3) + str(r.randint(0, 99))
    if k < 0.12:
        return str(r.randint(10 ** 9, 10 ** 25))
    if k < 0.6:
        return str(r.randint(0, 9))
    return str(r.randint(0, 2024))


def part(r):
    return number(r) if r.random() < 0.65 else r.choice(WORDS)


def upstream(r):
    s = number(r)
    for _ in range(r.randint(0, 4)):
        s += r.choice(SEPS[:5]) + part(r)
    if r.random() < 0.15:
        s += r.choice(["~", "^", "+"]) + r.choice(WORDS) + number(r)
    return s


def revision(r):
    s = part(r)
    for _ in range(r.randint(0, 2)):
        s += r.choice([".", "+", "~", ""]) + part(r)
    return s


def epoch(r):
    k = r.random()
    if k < 0.65:
        return ""
    if k < 0.9:
        return str(r.randint(0, 3)) + ":"
    return r.choice(["0:", "00:", "+1:", "-0:", "-1:", ":", "a:", "1a:", "2147483647:",
                     "2147483648:", "99999999999999999999:", "\x0b1:", "1.0:"])


def realistic(r):
    s = epoch(r) + upstream(r)
    if r.random() < 0.7:
        s += "-" + revision(r)
        if r.random() < 0.05:
            s += "-" + revision(r)
    return s


def noise(r):
    return "".join(r.choice(NOISE) for _ in range(r.randint(1, 10)))


def mutate(r, v):
    k = r.random()
    i = r.randint(0, len(v))
    if k < 0.25:  # replace one character
        return v[:i] + r.choice(NOISE) + v[i + 1:] if v[i + 1:] or v[:i] else r.choice(NOISE)
    if k < 0.45:  # insert a character
        return v[:i] + r.choice(NOISE + "~^") + v[i:]
    if k < 0.55 and len(v) > 1:  # delete a character
        return v[:i] + v[i + 1:] if v[:i] + v[i + 1:] else v
    if k < 0.7:  # append a suffix
        return v + r.choice(["~", "^", "~rc1", "^git1", "+b1", ".0", "-1", "-0", "a", "-", ":"])
    if k < 0.85:  # an equal spelling in some schemes
        return r.choice(["0:" + v, v + "-0", v.replace(".", ".0", 1), v.replace("0", "00", 1), v])
    digits = [j for j, c in enumerate(v) if c.isdigit()]
    if not digits:
        return v + "1"
    j = r.choice(digits)
    return v[:j] + str((int(v[j]) + r.choice([1, 9])) % 10) + v[j + 1:]


def odd(r, v):
    i = r.randint(0, len(v))
    return v[:i] + r.choice(ODD_BYTES) + v[i:]


def pair(r):
    k = r.random()
    if k < 0.30:
        return realistic(r), realistic(r)
    if k < 0.65:
        a = realistic(r)
        return a, mutate(r, a)
    if k < 0.75:
        a = noise(r)
        return a, (mutate(r, a) if r.random() < 0.5 else noise(r))
    if k < 0.85:
        a = realistic(r)
        return a, a
    if k < 0.95:
        a = upstream(r)
        return a, mutate(r, mutate(r, a))
    a = realistic(r)
    return odd(r, a), (odd(r, a) if r.random() < 0.5 else a)


def main():
    seed, count = int(sys.argv[1]), int(sys.argv[2])
    r = random.Random(seed)
    out = sys.stdout.buffer
    for _ in range(count):
        a, b = pair(r)
        # Keep fields intact: no blanks, line breaks or empty fields.
        a = "".join(c for c in a if c not in " \t\r\n") or "0"
        b = "".join(c for c in b if c not in " \t\r\n") or "0"
        out.write(a.encode("utf-8", "surrogateescape").replace(b"\xc3\xbf", b"\xff"))
        out.write(b" ")
        out.write(b.encode("utf-8", "surrogateescape").replace(b"\xc3\xbf", b"\xff"))
        out.write(b"\n")


if __name__ == "__main__":
    main()
