#!/usr/bin/env python3
"""The oracle of tests/scripts/exposure.sh: which host of a small fleet is
affected by, fixed of, not affected by or unknown to a CVE or an advisory,
derived from the shipped feed fixtures (Debian's DSA/DLA lists, AlmaLinux
OSV files, KEV, EPSS) and the hosts' inventories alone, comparing versions
with `dpkg --compare-versions`, never with patchwarden.

  exposure_oracle.py pick FEEDS INVENTORY
      a CVE of the Debian 10 inventory for the test: fixed in buster for a
      source package installed at a lower version (its binaries at the
      source's version), named by no AlmaLinux advisory. Prints
      {"cve", "advisory", "sources": {source: highest fixed version}}.
  exposure_oracle.py inventory IN OUT bump|strip|ubuntu [SOURCES-JSON]
      a variant of an inventory: the sources' binaries at the given
      versions, without them, or relabelled Ubuntu 24.04.
  exposure_oracle.py expect FEEDS FLEET-JSON KIND ID [false|true|any [CATEGORY]]
      the expected answer for the fleet [{"hostname", "category",
      "inventories": [older..., current] or [], "state": "in_service" |
      "stale" | "decommissioned"}], the hosts taken as the API's
      `decommissioned` and `category` filters take them: {"known",
      "advisories", "affected": {host: [[advisory, package, installed,
      fixed]...]}, "fixed": [host...], "not_affected": {host:
      release_named}, "unknown": {host: coverage state}} and, for a CVE,
      "kev_due" and "epss".
"""
import glob
import gzip
import json
import os
import re
import subprocess
import sys

RELEASES = {"jessie": "debian:8", "stretch": "debian:9", "buster": "debian:10",
            "bullseye": "debian:11", "bookworm": "debian:12", "trixie": "debian:13"}


def debian_advisories(feeds):
    """[(id, [cves], [(release, source, fixed or None)])] of DSA.list and DLA.list."""
    out = []
    for name in ("DSA.list", "DLA.list"):
        cur = None
        with open(os.path.join(feeds, "debian", name), encoding="utf-8") as f:
            for line in f:
                m = re.match(r"^\[[^]]+\] (\S+) ", line)
                if m:
                    cur = (m.group(1), [], [])
                    out.append(cur)
                    continue
                if cur is None:
                    continue
                m = re.match(r"^\s+\{(.*)\}", line)
                if m:
                    cur[1].extend(m.group(1).split())
                    continue
                m = re.match(r"^\s+\[(\w+)\] - (\S+)(?: (\S+))?", line)
                if m:
                    fixed = m.group(3)
                    if fixed and fixed.startswith("<"):
                        fixed = None
                    cur[2].append((m.group(1), m.group(2), fixed))
    return out


def alma_naming(feeds, ident):
    """Ids of the AlmaLinux OSV advisories whose text names ident."""
    ids = []
    for path in sorted(glob.glob(os.path.join(feeds, "almalinux8", "*.json"))):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if re.search(r'"%s"' % re.escape(ident), text):
            ids.append(json.loads(text)["id"])
    return ids


def dpkg_lt(a, b):
    return subprocess.run(["dpkg", "--compare-versions", a, "lt", b]).returncode == 0


def sources_of(inv):
    """{source: version} of a deb inventory whose binaries carry their
    source's version; sources whose binaries differ map to None."""
    out = {}
    for p in inv["packages"]:
        src = p.get("source") or p["name"]
        same = p["version"] == (p.get("source_version") or p["version"])
        v = p["version"] if same else None
        out[src] = v if out.get(src, v) == v else None
    return out


def findings(feeds_adv, inv, ident, kind):
    """The open findings (advisory, source, installed, fixed) a scan of
    inventory `inv` has that name ident: only Debian 10 has data here."""
    if inv is None or inv["os"]["id"] != "debian" or inv["os"]["version_id"] != "10":
        return []
    srcs = sources_of(inv)
    out = []
    for adv, cves, entries in feeds_adv:
        if not (adv == ident if kind == "advisory" else (ident in cves or adv == ident)):
            continue
        for rel, src, fixed in entries:
            if rel != "buster" or not fixed or src not in srcs:
                continue
            if srcs[src] is None:
                sys.exit("oracle: %s's binaries are not all at its version" % src)
            if dpkg_lt(srcs[src], fixed):
                out.append((adv, src, srcs[src], fixed))
    return sorted(out)


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def pick(feeds, inv_path):
    advs = debian_advisories(feeds)
    inv = load(inv_path)
    srcs = sources_of(inv)
    for adv, cves, entries in advs:
        for rel, src, fixed in entries:
            if rel != "buster" or not fixed or not srcs.get(src) or not dpkg_lt(srcs[src], fixed):
                continue
            for cve in cves:
                if alma_naming(feeds, cve):
                    continue
                try:
                    got = findings(advs, inv, cve, "cve")
                except SystemExit:
                    continue
                bump = {}
                for _, s, _, f in got:
                    if s not in bump or dpkg_lt(bump[s], f):
                        bump[s] = f
                return {"cve": cve, "advisory": adv, "sources": bump}
    sys.exit("oracle: no CVE fits")


def variant(src_path, dst_path, how, arg):
    inv = load(src_path)
    if how == "ubuntu":
        inv["os"] = {"id": "ubuntu", "version_id": "24.04", "codename": "noble",
                     "pretty_name": "Ubuntu 24.04 LTS"}
    else:
        bump = json.loads(arg)
        keep = []
        for p in inv["packages"]:
            src = p.get("source") or p["name"]
            if src in bump:
                if how == "strip":
                    continue
                p["version"] = p["source_version"] = bump[src]
            keep.append(p)
        inv["packages"] = keep
    with open(dst_path, "w", encoding="utf-8") as f:
        json.dump(inv, f)


def release(inv):
    if inv is None:
        return None
    o = inv["os"]
    if o["id"] == "almalinux":
        return "almalinux:" + o["version_id"].split(".")[0]
    return "%s:%s" % (o["id"], o["version_id"])


def expect(feeds, fleet_path, kind, ident, decommissioned, category):
    advs = debian_advisories(feeds)
    naming = [(a, c, e) for a, c, e in advs
              if (a == ident if kind == "advisory" else (ident in c or a == ident))]
    alma = alma_naming(feeds, ident) if kind == "cve" else \
        [a for a in alma_naming(feeds, ident) if a == ident]
    releases = {RELEASES.get(r, r) for _, _, e in naming for r, _, _ in e}
    if alma:
        releases.add("almalinux:8")
    known = bool(naming or alma)
    out = {"known": known, "advisories": sorted({a for a, _, _ in naming} | set(alma)),
           "affected": {}, "fixed": [], "not_affected": {}, "unknown": {}}
    for h in load(fleet_path):
        if (h["state"] == "decommissioned") != decommissioned and decommissioned != "any":
            continue
        if category and h.get("category") != category:
            continue
        invs = [load(p) for p in h["inventories"]]
        cur = invs[-1] if invs else None
        now = findings(advs, cur, ident, kind)
        before = any(findings(advs, i, ident, kind) for i in invs[:-1])
        covered = cur is not None and h["state"] == "in_service" and \
            release(cur) in ("debian:10", "almalinux:8")
        if h["state"] == "decommissioned":  # its findings were closed
            before, now = before or bool(now), []
        if now:
            out["affected"][h["hostname"]] = [list(f) for f in now]
        elif before:
            out["fixed"].append(h["hostname"])
        elif covered and known:
            out["not_affected"][h["hostname"]] = release(cur) in releases
        else:
            out["unknown"][h["hostname"]] = (
                "never_reported" if cur is None else "stale" if h["state"] == "stale"
                else "covered" if covered else "no_feed")
    out["fixed"].sort()
    # KEV and EPSS of a CVE, from the catalogues as shipped.
    if kind == "cve":
        kev = load(os.path.join(feeds, "kev", "known_exploited_vulnerabilities.json"))
        due = [v["dueDate"] for v in kev["vulnerabilities"] if v["cveID"] == ident]
        out["kev_due"] = min(due) if due else None
        out["epss"] = None
        for path in glob.glob(os.path.join(feeds, "epss", "*.csv.gz")):
            with gzip.open(path, "rt") as f:
                for line in f:
                    cells = line.strip().split(",")
                    if cells[0] == ident:
                        out["epss"] = float(cells[1])
    return out


def main():
    cmd = sys.argv[1]
    if cmd == "pick":
        print(json.dumps(pick(sys.argv[2], sys.argv[3])))
    elif cmd == "inventory":
        variant(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] if len(sys.argv) > 5 else "")
    elif cmd == "expect":
        decom = sys.argv[6] if len(sys.argv) > 6 else "false"
        print(json.dumps(expect(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5],
                                {"false": False, "true": True}.get(decom, "any"),
                                sys.argv[7] if len(sys.argv) > 7 else None),
                         sort_keys=True))
    else:
        sys.exit("usage: see the script's docstring")


if __name__ == "__main__":
    main()
