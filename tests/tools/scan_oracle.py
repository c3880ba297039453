#!/usr/bin/env python3
"""An independent check of the scan cases' golden files (tests/data/scan/*/expected.txt,
written once by the implementation): recomputes each case's findings from the raw feed
files and the inventory, comparing versions with the native tools only
(`dpkg --compare-versions`; rpm's Lua `rpm.vercmp` through `rpm --eval`), and compares
them with expected.txt. Shares no code with patchwarden.

    scan_oracle.py CASES-DIR [CASE...]

Reads the case file directives (test_scan_cases.c documents them): inventory, dpkg, os,
feed. Feeds understood: the Debian tracker's DSA/DLA lists, Ubuntu CVE tracker files
(`<release>_<source>: released (<version>)`) and OSV JSON (AlmaLinux, Rocky, Ubuntu);
KEV and EPSS files only set priorities and are ignored. Cases of an ecosystem without a
native comparison tool on Debian (Alpine: no apk-tools) are listed as not covered.

The rules, from ../shared/DESIGN.md §4 and the distros' own data:
* dpkg systems match the source package and its version (binNMU suffixes belong to the
  binary version only); rpm systems match the binary package (OSV lists binaries).
* A finding is an advisory entry for the host's release whose fixed version is newer
  than the installed one (OSV: introduced <= installed < fixed).
* rpm modules: a modular build (".module" in its release) meets only modular fixes of
  its own stream, a non-modular one only non-modular fixes. The stream is named in the
  advisory's summary ("nodejs:14", "mariadb:10.3 and mariadb-devel:10.3"): it is the
  host's when the installed version is that stream or a release of it ("13" for 13.18);
  a summary naming no stream matches the fix whose version has the installed one's
  major.minor. Several builds of one fix in one advisory (one per platform minor
  release) are one fix: the host needs it when older than every build, and
  expected.txt may show any of them.
Exit 0 when every covered case agrees, 1 otherwise (the differences are printed).
"""
import fnmatch
import glob
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile

DEBIAN_CODENAMES = {"9": "stretch", "10": "buster", "11": "bullseye", "12": "bookworm"}
UBUNTU_CODENAMES = {"16.04": "xenial", "18.04": "bionic", "20.04": "focal", "22.04": "jammy"}
OSV_DISTROS = {"almalinux": "almalinux", "rocky": "rockylinux", "ubuntu": "ubuntu"}
RPM_DISTROS = {"almalinux", "rocky", "rhel", "centos"}


class Unsupported(Exception):
    pass


# ---- native version comparison, batched ------------------------------------------------

def dpkg_lt(pairs):
    """{(a, b): a < b} by dpkg --compare-versions, one process per pair."""
    out = {}
    for a, b in pairs:
        r = subprocess.run(["dpkg", "--compare-versions", a, "lt", b],
                           stderr=subprocess.DEVNULL)
        if r.returncode not in (0, 1):
            raise SystemExit(f"dpkg --compare-versions refused {a!r} {b!r}")
        out[(a, b)] = r.returncode == 0
    return out


def rpm_lt(pairs):
    """{(a, b): a < b} by rpm.vercmp, all pairs in one rpm process."""
    pairs = list(pairs)
    if not pairs:
        return {}
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "pairs"), "w") as f:
            for a, b in pairs:
                f.write(f"{a} {b}\n")
        lua = os.path.join(d, "cmp.lua")
        with open(lua, "w") as f:
            # rpm's Lua print() joins its output without newlines: print once.
            f.write("local out = {}\n"
                    "for line in io.lines('%s') do\n"
                    "  local a, b = line:match('^(%%S+) (%%S+)$')\n"
                    "  out[#out + 1] = tostring(rpm.vercmp(a, b))\n"
                    "end\n"
                    "print(table.concat(out, ' '))\n" % os.path.join(d, "pairs"))
        r = subprocess.run(["rpm", "--eval", "%%{lua: dofile('%s')}" % lua],
                           capture_output=True, text=True, check=True)
    res = r.stdout.split()
    if len(res) != len(pairs):
        raise SystemExit(f"rpm.vercmp gave {len(res)} results for {len(pairs)} pairs")
    return {p: int(x) < 0 for p, x in zip(pairs, res)}


# ---- the case file and the host ---------------------------------------------------------

def expand(case_dir, arg):
    arg = arg.replace("${PW_SHARED_DATA}", os.environ.get("PW_SHARED_DATA", "../shared/data"))
    arg = arg.replace("${PW_TEST_DATA}", os.environ.get("PW_TEST_DATA", "tests/data"))
    return arg if arg.startswith("/") else os.path.join(case_dir, arg)


def read_case(case_dir):
    d = {"feeds": []}
    for line in open(os.path.join(case_dir, "case")):
        line = line.split("#")[0].strip()
        if not line:
            continue
        key, _, rest = line.partition(" ")
        if key == "feed":
            paths = sorted(glob.glob(expand(case_dir, rest)))
            if not paths:
                raise SystemExit(f"{case_dir}: feed {rest}: no such file")
            d["feeds"] += paths
        elif key in ("inventory", "dpkg", "apk"):
            d[key] = expand(case_dir, rest)
        elif key == "os":
            d["os"] = rest.split()
    return d


def dpkg_status(path):
    pkgs = []
    for stanza in open(path, errors="replace").read().split("\n\n"):
        f = {}
        for line in stanza.splitlines():
            m = re.match(r"^([A-Za-z-]+):\s*(.*)$", line)
            if m:
                f[m.group(1)] = m.group(2)
        if "Package" not in f or not f.get("Status", "").endswith(" installed"):
            continue
        src, srcver = f["Package"], f["Version"]
        if "Source" in f:
            m = re.match(r"^(\S+)(?:\s+\((\S+)\))?$", f["Source"])
            src = m.group(1)
            srcver = m.group(2) or f["Version"]
        pkgs.append({"name": f["Package"], "version": f["Version"], "source": src,
                     "source_version": srcver})
    return pkgs


def host(case):
    if "apk" in case:
        raise Unsupported("apk: no native version comparison on Debian")
    if "inventory" in case:
        inv = json.load(open(case["inventory"]))
        os_id, ver = inv["os"]["id"], inv["os"].get("version_id", "")
        codename = inv["os"].get("codename")
        # "installed" (rpm) or dpkg's "install ok installed"; not config-files and the like.
        pkgs = [p for p in inv["packages"]
                if p.get("status", "installed").split()[-1] == "installed"]
    else:
        os_id, ver = case["os"][0], case["os"][1]
        codename = case["os"][2] if len(case["os"]) > 2 else None
        pkgs = dpkg_status(case["dpkg"])
    if os_id == "alpine":
        raise Unsupported("apk: no native version comparison on Debian")
    if os_id in ("debian", "ubuntu"):
        codename = codename or (DEBIAN_CODENAMES if os_id == "debian"
                                else UBUNTU_CODENAMES).get(ver)
        # One entry per source package and version.
        inst = {(p.get("source") or p["name"], p.get("source_version") or p["version"])
                for p in pkgs}
        return os_id, ver, codename, "deb", inst
    if os_id in RPM_DISTROS:
        return os_id, ver, codename, "rpm", {(p["name"], p["version"]) for p in pkgs}
    raise Unsupported(f"os {os_id}")


# ---- the feeds --------------------------------------------------------------------------

def feed_files(paths):
    """(path, named): named when the case names the file itself, not its directory."""
    for p in paths:
        if os.path.isdir(p):
            for root, _, names in os.walk(p):
                for n in sorted(names):
                    yield os.path.join(root, n), False
        else:
            yield p, True


def read_text(path):
    if path.endswith(".gz"):
        return gzip.open(path, "rt", errors="replace").read()
    return open(path, errors="replace").read()


def debian_list(text, codename):
    """(advisory, package, fixed) of one DSA/DLA list for one release."""
    adv = None
    for line in text.splitlines():
        m = re.match(r"^\[[^]]+\] (D[SL]A-[0-9-]+) ", line)
        if m:
            adv = m.group(1)
            continue
        m = re.match(r"^\s+\[(\w+)\] - (\S+) (\S+)", line)
        if m and adv and m.group(1) == codename and not m.group(3).startswith("<"):
            yield adv, m.group(2), m.group(3)


def uct(text, codename):
    cve = re.search(r"^Candidate:\s*(\S+)", text, re.M)
    for m in re.finditer(r"^%s_(\S+):\s*released \(([^)\s]+)\)" % codename, text, re.M):
        yield cve.group(1), m.group(1), m.group(2)


def osv_entries(j, os_id, ver):
    """(advisory, package, introduced, fixed, summary) for this distro release."""
    want = OSV_DISTROS[os_id]
    major = ver if os_id == "ubuntu" else ver.split(".")[0]
    for a in j.get("affected", []):
        eco = a.get("package", {}).get("ecosystem", "")
        parts = eco.lower().replace(" ", "").split(":")
        if parts[0] != want or "pro" in parts or len(parts) < 2 or parts[1] != major:
            continue
        for r in a.get("ranges", []):
            if r.get("type") != "ECOSYSTEM":
                continue
            intro = None
            for ev in r.get("events", []):
                if "introduced" in ev:
                    intro = ev["introduced"]
                elif "fixed" in ev:
                    yield (j["id"], a["package"]["name"], intro, ev["fixed"],
                           j.get("summary", ""))


# ---- rpm modules -------------------------------------------------------------------------

def modular(v):
    return ".module" in v


def upstream(v):
    return v.split(":", 1)[-1].split("-", 1)[0]


def stream_ok(installed, fixed, summary):
    if modular(installed) != modular(fixed):
        return False
    if not modular(installed):
        return True
    streams = re.findall(r"\b[\w.+-]+:([0-9][\w.]*)", summary)
    up = upstream(installed)
    if streams:
        return any(up == s or up.startswith(s + ".") for s in streams)
    return upstream(fixed).split(".")[:2] == up.split(".")[:2]


# ---- one case -----------------------------------------------------------------------------

def findings(case):
    os_id, ver, codename, scheme, inst = host(case)
    by_name = {}
    for name, v in inst:
        by_name.setdefault(name, set()).add(v)
    cands = []  # (advisory, package, installed, introduced, fixed, summary)
    for path, named in feed_files(case["feeds"]):
        base = os.path.basename(path)
        if "known_exploited" in base or "EPSS" in base.upper():
            continue
        if not named and re.match(r"^(SOURCE|README|LICENSE|00boilerplate)", base):
            continue  # notes beside the data in a walked directory
        text = read_text(path)
        if text.lstrip().startswith("{"):
            if os_id not in OSV_DISTROS:
                continue
            entries = osv_entries(json.loads(text), os_id, ver)
        elif base == "list":
            entries = ((a, p, None, f, "") for a, p, f in debian_list(text, codename))
        elif base.startswith("CVE-"):
            entries = ((a, p, None, f, "") for a, p, f in uct(text, codename))
        else:
            raise SystemExit(f"{path}: unknown feed format")
        for adv, pkg, intro, fixed, summary in entries:
            for v in by_name.get(pkg, ()):
                cands.append((adv, pkg, v, intro, fixed, summary))
    pairs = set()
    for _, _, v, intro, fixed, _ in cands:
        pairs.add((v, fixed))
        if intro not in (None, "0"):
            pairs.add((v, intro))
    lt = dpkg_lt(pairs) if scheme == "deb" else rpm_lt(pairs)
    # One fix per (advisory, package, installed): the builds that apply to the host.
    fixes = {}
    for adv, pkg, v, intro, fixed, summary in cands:
        if scheme == "rpm" and not stream_ok(v, fixed, summary):
            continue
        if intro not in (None, "0") and lt[(v, intro)]:
            continue
        fixes.setdefault((adv, pkg, v), []).append(fixed)
    found = {key: set(builds) for key, builds in fixes.items()
             if all(lt[(key[2], f)] for f in builds)}
    return found, len(inst), len(fixes), len(pairs)


def scheme_tool(case):
    return "dpkg" if host(case)[3] == "deb" else "rpm.vercmp"


def compare(want_lines, got):
    """Differences between expected.txt lines and the oracle's findings: a line agrees
    when its (package, installed, advisory) is a finding and its fixed version one of
    that fix's builds (which build to show is the implementation's choice)."""
    diffs, seen = [], set()
    for line in want_lines:
        pkg, v, fixed, adv = line.split()
        builds = got.get((adv, pkg, v))
        if builds is None:
            diffs.append(f"  only in expected.txt: {line}")
        elif fixed not in builds:
            diffs.append(f"  {line}: the fix's builds are {' '.join(sorted(builds))}")
        seen.add((adv, pkg, v))
    for (adv, pkg, v), builds in sorted(got.items()):
        if (adv, pkg, v) not in seen:
            diffs.append(f"  only in the oracle:   {pkg} {v} {' or '.join(sorted(builds))} {adv}")
    return diffs


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__.split("\n\n")[1])
    root = sys.argv[1]
    names = sys.argv[2:] or sorted(n for n in os.listdir(root)
                                   if os.path.isfile(os.path.join(root, n, "case")))
    bad = checked = 0
    for name in names:
        d = os.path.join(root, name)
        case = read_case(d)
        try:
            got, npkgs, nfixes, npairs = findings(case)
        except Unsupported as e:
            print(f"not covered: {name}: {e}")
            continue
        want = [l.strip() for l in open(os.path.join(d, "expected.txt")) if l.strip()]
        checked += 1
        diffs = compare(want, got)
        if not diffs and len(want) == len(got):
            print(f"ok: {name}: {len(got)} findings agree ({npkgs} packages, {nfixes} fixes "
                  f"of their release, {npairs} versions compared by {scheme_tool(case)})")
            continue
        bad += 1
        print(f"DIFFERS: {name}: expected.txt {len(want)}, the oracle {len(got)}")
        print("\n".join(diffs) or "  (a finding listed twice in expected.txt)")
    print(f"scan oracle: {checked} cases checked, {bad} differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
