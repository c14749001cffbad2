#!/usr/bin/env bash
# Scale path of dpipe gen (opt-in: DP_SCALE_TESTS=1; skipped otherwise, as it writes ~1.4 GB):
# 1,000,000 rows x 200 descriptors in 4 files, then a 1-row-per-file sample to read every file
# back. Prints the elapsed time and peak RSS; asserts only completeness, never timing.
# Usage: gen_scale.sh DPIPE SOURCE_DIR   (exit 0 pass, 1 fail, 77 skip)
set -u
DPIPE=${1:?dpipe binary}
[ "${DP_SCALE_TESTS:-0}" = 1 ] || { echo "skipped: set DP_SCALE_TESTS=1 to run"; exit 77; }
T=$(mktemp -d "${TMPDIR:-/tmp}/dp_cli_gen_scale.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
TIME=""
[ -x /usr/bin/time ] && TIME="/usr/bin/time -f %e_s_wall_%U_s_user_%M_KiB_peak"
start=$(date +%s.%N)
$TIME "$DPIPE" gen -o "$T/g" --rows 1000000 --cols 200 --files 4 -q || fail "gen exited $?"
end=$(date +%s.%N)
echo "gen 1,000,000 x 200: $(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.1f", b - a}') s"
[ -s "$T/g/truth.json" ] || fail "truth.json missing"
"$DPIPE" sample "$T/g" -o "$T/s.parquet" -k 1 -q || fail "sample exited $?"
n=$("$DPIPE" cat "$T/s.parquet" | tail -n +2 | wc -l)
[ "$n" = 4 ] || fail "sample of 4 files gave $n rows"
ids=$("$DPIPE" cat -c mol_id "$T/s.parquet" | tail -n +2 | tr '\n' ' ')
echo "sampled ids: $ids"
echo "ok"
