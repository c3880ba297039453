#!/usr/bin/env python3
"""Makes an older host from a real inventory: with a fixed seed, some
source packages are set back to a fixed version that an advisory of the
Debian tracker names for the release, so the host misses every later fix.
The fleet benchmark (bench/bench_scan.c) does the same in C.

usage: downgrade.py INVENTORY.json RELEASE SEED SHARE LIST... > inventory.json
  RELEASE  the tracker's codename ("buster"); SHARE of the eligible sources, 0..1"""
import json
import random
import re
import subprocess
import sys


def dpkg_lt(a, b):
    return subprocess.run(["dpkg", "--compare-versions", a, "lt", b]).returncode == 0


def main():
    path, release, seed, share = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    fixed = {}
    for lst in sys.argv[5:]:
        for line in open(lst, encoding="utf-8", errors="replace"):
            m = re.match(r"^\s+\[(\w+)\]\s+-\s+(\S+)\s+([^<\s]\S*)", line)
            if m and m.group(1) == release:
                fixed.setdefault(m.group(2), set()).add(m.group(3))
    inv = json.load(open(path))
    rng = random.Random(seed)
    current = {}
    for p in inv["packages"]:
        current.setdefault(p["source"], p["source_version"])
    chosen = {}
    for src in sorted(current):
        older = sorted(v for v in fixed.get(src, ()) if dpkg_lt(v, current[src]))
        if older and rng.random() < share:
            chosen[src] = rng.choice(older)
    for p in inv["packages"]:
        new = chosen.get(p["source"])
        if not new:
            continue
        if p["version"] == p["source_version"]:
            p["version"] = new
        p["source_version"] = new
    inv["os"]["pretty_name"] += " (downgraded: seed %d, share %g)" % (seed, share)
    json.dump(inv, sys.stdout, indent=1)
    sys.stdout.write("\n")


main()
