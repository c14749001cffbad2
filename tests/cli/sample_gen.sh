#!/usr/bin/env bash
# dpipe gen and dpipe sample end to end: gen writes the files and truth.json with the asked-for
# rows and columns (counted with dpipe cat); sample is byte-identical for the same seed; adding a
# file leaves the other files' sampled rows unchanged; bad options exit 2.
# Usage: sample_gen.sh DPIPE SOURCE_DIR   (exit 0 pass, 1 fail, 77 skip)
set -u
DPIPE=${1:?dpipe binary}
[ -x "$DPIPE" ] || { echo "no dpipe binary at $DPIPE"; exit 77; }
T=$(mktemp -d "${TMPDIR:-/tmp}/dp_cli_sample_gen.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# Codecs this build can write (a minimal build has none): fall back to none.
probe() { "$DPIPE" gen -o "$T/probe_$1" --rows 1 --cols 1 --codec "$1" -q > /dev/null 2>&1 \
  && echo "$1" || echo none; }
ZSTD=$(probe zstd); SNAPPY=$(probe snappy)

# ---- gen ----
"$DPIPE" gen -o "$T/gen" --rows 3001 --cols 30 --files 3 --seed 5 --row-group-rows 500 -q \
  || fail "gen exited $?"
[ -s "$T/gen/truth.json" ] || fail "truth.json missing"
grep -q '"type": "linear_combination"' "$T/gen/truth.json" || fail "truth.json lacks relations"
rows=0
for f in 0 1 2; do
  p="$T/gen/part-0000$f.parquet"
  [ -s "$p" ] || fail "missing $p"
  n=$("$DPIPE" cat "$p" | tail -n +2 | wc -l)
  rows=$((rows + n))
  cols=$("$DPIPE" cat -n 0 "$p" | head -1 | awk -F'\t' '{print NF}')
  [ "$cols" = 31 ] || fail "$p has $cols columns, expected 31"
done
[ "$rows" = 3001 ] || fail "gen wrote $rows rows, expected 3001"
"$DPIPE" cat -n 1 "$T/gen/part-00000.parquet" | tail -1 | cut -f1 | grep -qx 'MOL000000000' \
  || fail "first mol_id"
# The same data whatever the file count.
"$DPIPE" gen -o "$T/gen1" --rows 3001 --cols 30 --files 1 --seed 5 -q || fail "gen (1 file)"
cat3() { for f in "$@"; do "$DPIPE" cat "$f" | tail -n +2; done; }
cmp -s <(cat3 "$T"/gen/part-0000{0,1,2}.parquet) <(cat3 "$T/gen1/part-00000.parquet") \
  || fail "gen values depend on --files"

# ---- sample ----
"$DPIPE" sample "$T/gen" -o "$T/s1.parquet" --sample-per-file 200 --random-seed 9 -q \
  || fail "sample exited $?"
"$DPIPE" sample "$T/gen" -o "$T/s2.parquet" --sample-per-file 200 --random-seed 9 -q \
  --codec "$ZSTD" || fail "sample (2) exited $?"
cmp -s "$T/s1.parquet" "$T/s2.parquet" || fail "same seed, different bytes"
n=$("$DPIPE" cat "$T/s1.parquet" | tail -n +2 | wc -l)
[ "$n" = 600 ] || fail "sample wrote $n rows, expected 600"
"$DPIPE" sample "$T/gen" -o "$T/s3.parquet" -k 200 --random-seed 10 -q || fail "sample seed 10"
cmp -s "$T/s1.parquet" "$T/s3.parquet" && fail "another seed gave the same sample"
# An extra file (a copy under a name that sorts first) leaves the others' rows as they were.
mkdir "$T/a_extra" && cp "$T/gen/part-00001.parquet" "$T/a_extra/x.parquet"
"$DPIPE" sample "$T/a_extra" "$T/gen" -o "$T/s4.parquet" -k 200 --random-seed 9 -q \
  --codec "$SNAPPY" || fail "sample with extra file"
cmp -s <("$DPIPE" cat "$T/s1.parquet" | tail -n +2) \
  <("$DPIPE" cat "$T/s4.parquet" | tail -n +202) || fail "an added file changed other samples"
# Files with <= K rows are taken whole.
"$DPIPE" sample "$T/gen" -o "$T/s5.parquet" -k 5000 -q --codec none || fail "sample whole"
cmp -s <(cat3 "$T"/gen/part-0000{0,1,2}.parquet) <("$DPIPE" cat "$T/s5.parquet" | tail -n +2) \
  || fail "whole-file sample differs from the inputs"

# ---- usage errors exit 2, data errors 1 ----
expect() { local want=$1; shift; "$@" > /dev/null 2>&1; local rc=$?
  [ "$rc" = "$want" ] || fail "exit $rc (expected $want): $*"; }
expect 2 "$DPIPE" sample "$T/gen" -k 10
expect 2 "$DPIPE" sample "$T/gen" -o "$T/x.parquet"
expect 2 "$DPIPE" sample "$T/gen" -o "$T/x.parquet" -k 0
expect 2 "$DPIPE" sample "$T/gen" -o "$T/x.parquet" -k 10 --codec bogus
expect 2 "$DPIPE" sample "$T/gen" -o "$T/x.parquet" -k 10 --no-such-option
expect 2 "$DPIPE" sample -o "$T/x.parquet" -k 10
expect 2 "$DPIPE" gen -o "$T/g2" --cols 3
expect 2 "$DPIPE" gen -o "$T/g2" --rows 10
expect 2 "$DPIPE" gen --rows 10 --cols 3
expect 2 "$DPIPE" gen -o "$T/g2" --rows 10 --cols 3 --missing 1.5
expect 2 "$DPIPE" gen -o "$T/g2" --rows -1 --cols 3
expect 2 "$DPIPE" gen -o "$T/gen" --rows 10 --cols 3 --files 2   # stale part-00002
expect 1 "$DPIPE" sample "$T/nonexistent.parquet" -o "$T/x.parquet" -k 10
[ -e "$T/x.parquet" ] && fail "a failed sample left its output"
"$DPIPE" sample --help | grep -q -- '--sample-per-file' || fail "sample --help"
"$DPIPE" gen --help | grep -q -- '--missing' || fail "gen --help"
echo "ok"
exit 0
