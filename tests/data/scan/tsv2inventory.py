#!/usr/bin/env python3
"""Converts the package lists derived from claircore's index reports
(shared/data/inventories/claircore/*.tsv: name, version, arch, source_name,
source_version) into the `patchwarden inventory --json` format.

usage: tsv2inventory.py FILE.tsv SCHEME OS_ID VERSION_ID CODENAME PRETTY_NAME > inventory.json

An empty source means the binary is its own source (dpkg leaves Source:
out then); a source written the dpkg way, "util-linux (2.33.1-0.1)", gives
its own version."""
import json
import re
import sys


def main():
    path, scheme, os_id, version_id, codename, pretty = sys.argv[1:7]
    pkgs = []
    for line in open(path, encoding="utf-8"):
        if line.startswith("#") or not line.strip():
            continue
        name, version, arch, src, srcver = (line.rstrip("\n").split("\t") + [""] * 5)[:5]
        m = re.match(r"^(\S+) \((\S+)\)$", src)
        if m:
            src, srcver = m.group(1), m.group(2)
        pkgs.append({"name": name, "version": version, "arch": arch,
                     "source": src or name, "source_version": srcver or version,
                     "status": "install ok installed" if scheme == "deb" else "installed"})
    inv = {"os": {"id": os_id, "version_id": version_id, "codename": codename or None,
                  "pretty_name": pretty},
           "arch": pkgs[0]["arch"] if pkgs else None, "scheme": scheme,
           "kernel": {"running": None, "installed": [], "needs_reboot": False},
           "packages": pkgs, "warnings": []}
    json.dump(inv, sys.stdout, indent=1)
    sys.stdout.write("\n")


main()
