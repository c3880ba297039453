#!/usr/bin/env bash
# An rpm root made with Debian's rpm: the 101 RPMs of claircore's RHEL 8
# image (shared/data/inventories/claircore/rhel8.rpm-packages.tsv: names,
# epochs, versions, architectures, source rpms) plus two kernel-core
# builds are built as empty packages with rpmbuild, installed with
# `rpm --root --justdb`, and `patchwarden inventory` must list each one
# exactly: epoch only where set, source from the source rpm, kernels.
set -uo pipefail
: "${PW_BIN:?}"
. "$(dirname "$0")/lib/test-lib.sh"
test_require_cmd rpm rpmbuild python3
test_require shared-data:inventories/claircore/rhel8.rpm-packages.tsv
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# rpmbuild and Debian's rpm keep state under $HOME (~/.rpmdb, macros).
export HOME=$tmp/home
mkdir -p "$HOME"
tsv=$PW_SHARED_DATA/inventories/claircore/rhel8.rpm-packages.tsv

# One spec per source rpm, a subpackage per binary of another name.
python3 - "$tsv" "$tmp/top/SPECS" <<'PY' || exit 1
import os, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if not l.startswith("#")]
rows = [r for r in rows if r[3]]  # the container images and Go stdlib are no rpms
rows += [["kernel-core", "4.18.0-513.5.1.el8_9", "x86_64", "kernel", "4.18.0-513.5.1.el8_9"],
         ["kernel-core", "4.18.0-553.el8_10", "x86_64", "kernel", "4.18.0-553.el8_10"]]
os.makedirs(sys.argv[2])
specs = {}
for r in rows:
    specs.setdefault((r[3], r[1]), []).append(r)
for i, ((src, evr), bins) in enumerate(specs.items()):
    epoch, _, vr = evr.rpartition(":")
    version, release = vr.rsplit("-", 1)
    noarch = all(b[2] == "noarch" for b in bins)
    out = [f"Name: {src}", f"Version: {version}", f"Release: {release}",
           "Summary: fixture", "License: MIT"]
    out += [f"Epoch: {epoch}"] if epoch else []
    out += ["BuildArch: noarch"] if noarch else []
    out += ["%description", "fixture"]
    for b in bins:
        if b[0] == src:
            out.append("%files")
            continue
        out += [f"%package -n {b[0]}", "Summary: fixture"]
        out += ["BuildArch: noarch"] if b[2] == "noarch" and not noarch else []
        out += [f"%description -n {b[0]}", "fixture", f"%files -n {b[0]}"]
    open(os.path.join(sys.argv[2], f"{i:03d}-{src}.spec"), "w").write("\n".join(out) + "\n")
PY
if rpmbuild --quiet --define "_topdir $tmp/top" -bb "$tmp"/top/SPECS/*.spec >"$tmp/build.log" 2>&1; then
  ok
else
  bad "rpmbuild failed"; tail -20 "$tmp/build.log"; test_done
fi

root=$tmp/root
mkdir -p "$root/etc"
cat >"$root/etc/os-release" <<'OS'
NAME="Red Hat Enterprise Linux"
VERSION="8.10 (Ootpa)"
ID="rhel"
ID_LIKE="fedora"
VERSION_ID="8.10"
PRETTY_NAME="Red Hat Enterprise Linux 8.10 (Ootpa)"
OS
rpm --root "$root" --dbpath /var/lib/rpm --initdb &&
  find "$tmp/top/RPMS" -name '*.rpm' -print0 |
  xargs -0 rpm --root "$root" --dbpath /var/lib/rpm -i --nodeps --justdb >"$tmp/install.log" 2>&1
if [ "$(rpm --root "$root" --dbpath /var/lib/rpm -qa | wc -l)" -eq 103 ]; then ok; else
  bad "rpm root has $(rpm --root "$root" --dbpath /var/lib/rpm -qa | wc -l) packages, not 103"
  cat "$tmp/install.log"; fi

if "$PW_BIN" inventory --root "$root" --json >"$tmp/inv.json" 2>"$tmp/err"; then ok; else
  bad "inventory --root failed"; cat "$tmp/err"; fi
if [ ! -s "$tmp/err" ]; then ok; else bad "unexpected warnings"; cat "$tmp/err"; fi

# Every package, every field, against the table it was built from.
if python3 - "$tsv" "$tmp/inv.json" <<'PY'; then ok; else bad "packages differ from the TSV"; fi
import json, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if not l.startswith("#")]
want = []
for name, evr, arch, src, srcver in (r for r in rows if r[3]):
    epoch = evr.split(":")[0] + ":" if ":" in evr else ""
    want.append({"name": name, "version": evr, "arch": arch, "source": src,
                 "source_version": epoch + srcver, "status": "installed"})
for v in ("4.18.0-513.5.1.el8_9", "4.18.0-553.el8_10"):
    want.append({"name": "kernel-core", "version": v, "arch": "x86_64", "source": "kernel",
                 "source_version": v, "status": "installed"})
d = json.load(open(sys.argv[2]))
key = lambda p: (p["name"], p["version"])
got, want = sorted(d["packages"], key=key), sorted(want, key=key)
for g, w in zip(got, want):
    if g != w:
        print(f"  got  {g}\n  want {w}")
        sys.exit(1)
if len(got) != len(want):
    print(f"  {len(got)} packages, expected {len(want)}")
    sys.exit(1)
ok = (d["scheme"] == "rpm" and d["arch"] == "x86_64" and d["os"]["id"] == "rhel"
      and d["os"]["version_id"] == "8.10" and d["kernel"] == {
          "running": None, "installed": ["4.18.0-513.5.1.el8_9.x86_64", "4.18.0-553.el8_10.x86_64"],
          "needs_reboot": False})
if not ok:
    print("  header:", {k: d[k] for k in ("scheme", "arch", "os", "kernel")})
sys.exit(0 if ok else 1)
PY

# Epochs show in the table as rpm -q prints them.
"$PW_BIN" inventory --root "$root" >"$tmp/table"
if grep -qE '^openssl-libs +1:1\.1\.1k-14\.el8_6 +x86_64 +openssl +installed$' "$tmp/table" &&
   grep -qE '^bash +4\.4\.20-5\.el8 +x86_64 +bash +installed$' "$tmp/table"; then ok; else
  bad "table rows for openssl-libs and bash"; grep -E '^(openssl-libs|bash) ' "$tmp/table"; fi

# A relative --root: rpm itself takes only an absolute one.
if (cd "$tmp" && "$PW_BIN" inventory --root root >"$tmp/table.rel" 2>"$tmp/err") &&
   cmp -s "$tmp/table" "$tmp/table.rel"; then ok; else
  bad "inventory --root with a relative path"; cat "$tmp/err"; fi

# The database is there but rpm is not: a clear error, exit 2.
PATH=/nonexistent "$PW_BIN" inventory --root "$root" >/dev/null 2>"$tmp/err"
status=$?
if [ "$status" -eq 2 ] && grep -qF "an rpm database is there, but the rpm program is not installed" "$tmp/err"; then
  ok; else bad "without rpm: exit $status"; cat "$tmp/err"; fi

# A database rpm cannot open: rpm's own complaint, exit 2.
mkdir -p "$tmp/broken/var/lib/rpm"
echo "not a database" >"$tmp/broken/var/lib/rpm/rpmdb.sqlite"
"$PW_BIN" inventory --root "$tmp/broken" >/dev/null 2>"$tmp/err"
status=$?
if [ "$status" -eq 2 ] && grep -qF -- "--dbpath /var/lib/rpm -qa failed" "$tmp/err"; then ok; else
  bad "broken rpmdb: exit $status"; cat "$tmp/err"; fi

test_done
