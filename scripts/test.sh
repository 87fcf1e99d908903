#!/usr/bin/env bash
# `npm test`: unit tests, then the end-to-end suites in both modes — all-in-one (SQLite, local disk) and
# services (each service its own process on MariaDB + Redis, gateway under Deno). Starts the MariaDB and
# Redis it needs (scripts/test-deps.sh) and ends with the line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

BUN=node_modules/.bin/bun
if [ ! -x "$BUN" ]; then
  echo "== installing dependencies (npm ci)" >&2
  npm ci --no-audit --no-fund >&2 || { echo "0 passed, 1 failed"; exit 1; }
fi

deps=$(bash scripts/test-deps.sh start) || { echo "test-deps.sh could not start MariaDB/Redis/Ceph RGW" >&2; echo "0 passed, 1 failed"; exit 1; }
eval "$deps"
export TEST_MYSQL_URL TEST_REDIS_URL TEST_S3_ENDPOINT TEST_S3_ACCESS_KEY TEST_S3_SECRET_KEY TEST_S3_REGION

results=$(mktemp -d "${TMPDIR:-/tmp}/filestore-test-results.XXXXXX")
status=0
# Each suite writes JUnit XML; the totals are summed from it, not scraped from the console.
suite() {
  local name=$1; shift
  echo
  echo "== $name"
  if ! env "$@" --reporter=junit --reporter-outfile="$results/$name.xml"; then
    status=1
    # A crash before any report (syntax error, failed beforeAll) still has to count as a failure.
    [ -s "$results/$name.xml" ] || echo '<testsuites tests="1" failures="1"></testsuites>' >"$results/$name.xml"
  fi
}
bun_test=("$BUN" test --timeout 60000)

# "./" makes each a folder: a bare "cli" or "web" is a substring filter that also ran e2e/cli-*.test.ts
# and e2e/webdav*.test.ts (two minutes) in the unit suite.
suite unit "${bun_test[@]}" ./core ./workers ./gateway ./deploy ./cli ./web ./tools
suite e2e-allinone FILESTORE_TEST_MODE=allinone "${bun_test[@]}" e2e
suite e2e-services FILESTORE_TEST_MODE=services GATEWAY_RUNTIME=deno "${bun_test[@]}" --path-ignore-patterns='e2e/lifecycle.test.ts' e2e

# Where the time went: the slowest test files of each suite (what to speed up when CI grows).
python3 - "$results" <<'PY' >&2
import glob, os, sys, xml.etree.ElementTree as ET
for path in sorted(glob.glob(sys.argv[1] + "/*.xml")):
    files = [(float(s.get("time", 0)), s.get("file", "?")) for s in ET.parse(path).getroot().findall("testsuite")]
    total = sum(t for t, _ in files)
    print(f"\n== slowest files of {os.path.basename(path)[:-4]} ({total:.0f} s in all)")
    for t, f in sorted(files, reverse=True)[:12]:
        print(f"{t:8.1f} s  {os.path.relpath(f)}")
PY
# The failed tests by name, last before the summary: the part of a CI log that is always shown.
python3 - "$results" <<'PY'
import glob, os, sys, xml.etree.ElementTree as ET
failed = []
for path in sorted(glob.glob(sys.argv[1] + "/*.xml")):
    suite = os.path.basename(path)[:-4]
    for case in ET.parse(path).getroot().iter("testcase"):
        bad = case.find("failure") if case.find("failure") is not None else case.find("error")
        if bad is not None:
            why = (bad.get("message") or bad.get("type") or "").strip().split("\n")[0][:160]
            failed.append(f"  {suite}: {case.get('file', '?')} > {case.get('classname', '?')} > {case.get('name', '?')}: {why}")
if failed:
    print("\n== failed tests")
    print("\n".join(failed[:40]))
PY
read -r passed failed < <(python3 - "$results" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
p = f = 0
for path in glob.glob(sys.argv[1] + "/*.xml"):
    root = ET.parse(path).getroot()
    tests = int(root.get("tests", 0)); fails = int(root.get("failures", 0)) + int(root.get("errors", 0))
    skipped = int(root.get("skipped", 0))
    p += tests - fails - skipped; f += fails
print(p, f)
PY
)
rm -rf "$results"
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo
echo "$passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
