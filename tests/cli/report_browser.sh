#!/usr/bin/env bash
# report.html in a real browser (headless Chromium): for the example run, a run whose column
# names are hostile HTML, and a synthetic 1,500-column run directory, the page loads from file://
# with no console message (script errors and Content-Security-Policy refusals both print one),
# every heatmap image decodes, and the search box filters the alternatives table (the page's own
# self-test, run by the #selftest fragment, writes PASS/FAIL into #selftest-result, read back with
# --dump-dom). A screenshot of each is saved in the test's directory (kept, and its path printed,
# when DP_TEST_KEEP_TMP is set or the test fails). Skipped when Chromium is not installed.
set -u
DPIPE=$1
ROOT=$2
fail() {
  echo "FAIL: $*"
  echo "(files kept in $tmp)"
  exit 1
}

CHROME=""
for c in chromium chromium-browser google-chrome; do
  if command -v "$c" >/dev/null 2>&1; then
    CHROME=$(command -v "$c")
    break
  fi
done
[ -n "$CHROME" ] || { echo "SKIP: Chromium is not installed (Debian: apt-get install chromium)"; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/dp_report_browser.XXXXXX")
trap '[ -n "${DP_TEST_KEEP_TMP:-}" ] || [ "${ok:-0}" != 1 ] || rm -rf "$tmp"' EXIT

# One browser run: dump the DOM after the self-test, then a screenshot.
check_report() { # name, report.html path, expected rows pattern
  local name=$1 html=$2
  [ -s "$html" ] || fail "$name: no report at $html"
  local url="file://$html"
  local flags=(--headless --no-sandbox --disable-gpu --disable-background-networking --no-first-run
    --disable-extensions --disable-sync --mute-audio --disable-dev-shm-usage
    --user-data-dir="$tmp/profile-$name")
  timeout 120 "$CHROME" "${flags[@]}" --enable-logging=stderr --v=0 --dump-dom "$url#selftest" \
    >"$tmp/$name.dom.html" 2>"$tmp/$name.log" || fail "$name: chromium --dump-dom failed (see $tmp/$name.log)"
  grep -q 'id="selftest-result">SELFTEST PASS' "$tmp/$name.dom.html" ||
    fail "$name: self-test: $(grep -o 'id="selftest-result">[^<]*' "$tmp/$name.dom.html" || echo 'no result (script did not run)')"
  if grep -q 'CONSOLE' "$tmp/$name.log"; then
    fail "$name: console messages: $(grep 'CONSOLE' "$tmp/$name.log" | head -5)"
  fi
  timeout 120 "$CHROME" "${flags[@]}" --hide-scrollbars --window-size=1280,2200 \
    --screenshot="$tmp/$name.png" "$url" >/dev/null 2>"$tmp/$name.shot.log" ||
    fail "$name: chromium --screenshot failed"
  [ "$(head -c 4 "$tmp/$name.png" | od -An -c | tr -d ' ')" = "211PNG" ] || fail "$name: screenshot is not a PNG"
  echo "ok: $name ($(wc -c <"$html") bytes): $(grep -o 'id="selftest-result">SELFTEST PASS[^<]*' "$tmp/$name.dom.html" | cut -d'>' -f2)"
}

# 1. The example run (its files are ZSTD/SNAPPY compressed).
if "$DPIPE" --version | grep -q "zstd snappy"; then
  "$DPIPE" run -q "$ROOT/examples/nci_rdkit" --output-dir "$tmp/example" 2>"$tmp/run.log" ||
    fail "dpipe run: $(cat "$tmp/run.log")"
  "$DPIPE" report -q "$tmp/example" || fail "dpipe report"
  check_report example "$tmp/example/report.html"
  nfinal=$(wc -l <"$tmp/example/final_descriptors.txt")
  grep -q "rows=$nfinal " "$tmp/example.dom.html" || fail "example: expected $nfinal final descriptors in the table"
else
  echo "note: this build lacks zstd/snappy: the example run is skipped"
fi

# 2. Hostile column names and 3. 1,500 columns: the unit tests build those run directories.
DPTESTS=$(dirname "$DPIPE")/../tests/dp_tests
if [ -x "$DPTESTS" ]; then
  mkdir -p "$tmp/unit"
  for t in report_escapes_names report_size_1500_columns; do
    TMPDIR="$tmp/unit" DP_TEST_KEEP_TMP=1 "$DPTESTS" "$t" >"$tmp/$t.out" 2>&1 || fail "$t: $(cat "$tmp/$t.out")"
  done
  hostile=$(ls -d "$tmp"/unit/dp_test_report_escapes_names_*/run)
  check_report hostile "$hostile/report.html"
  # The name <b>&"x is text in the table, not markup.
  grep -qF '<td class="nm">&lt;b&gt;&amp;"x</td>' "$tmp/hostile.dom.html" || fail "hostile: the escaped name is not in the table"
  big=$(ls -d "$tmp"/unit/dp_test_report_size_1500_columns_*/run1500)
  size=$(wc -c <"$big/report.html")
  [ "$size" -lt 10000000 ] || fail "1,500-column report is $size bytes (limit 10 MB)"
  check_report cols1500 "$big/report.html"
else
  echo "note: $DPTESTS not found: the hostile-name and 1,500-column reports are skipped"
fi
ok=1
if [ -n "${DP_TEST_KEEP_TMP:-}" ]; then echo "screenshots in $tmp"; fi
exit 0
