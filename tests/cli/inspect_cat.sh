#!/usr/bin/env bash
# dpipe inspect / cat / bench scan from the command line: output, exit codes, errors.
set -u
DPIPE=$1
ROOT=$2
GEN=$ROOT/tests/data/shared/generated
PT=$ROOT/tests/data/shared/parquet-testing
fail() { echo "FAIL: $*"; exit 1; }
# The test files are ZSTD/SNAPPY compressed: a build without those codecs cannot read them.
"$DPIPE" --version | grep -q "zstd snappy" || { echo "SKIP: this build lacks zstd/snappy"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --help and usage errors.
"$DPIPE" --help | grep -q "inspect" || fail "dpipe --help lists no commands"
"$DPIPE" cat --help | grep -q -- "--columns" || fail "cat --help"
"$DPIPE" inspect --help | grep -q -- "--json" || fail "inspect --help"
"$DPIPE" frobnicate >/dev/null 2>&1; [ $? -eq 2 ] || fail "unknown command must exit 2"
"$DPIPE" cat >/dev/null 2>&1; [ $? -eq 2 ] || fail "cat without a file must exit 2"
"$DPIPE" cat --limit x "$GEN/duckdb_mixed_zstd.parquet" >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad --limit must exit 2"
"$DPIPE" inspect --bogus "$GEN/duckdb_mixed_zstd.parquet" >/dev/null 2>&1; [ $? -eq 2 ] || fail "unknown option must exit 2"

# Data errors exit 1 and name the file.
"$DPIPE" cat /nonexistent.parquet 2>"$tmp/err" >/dev/null; [ $? -eq 1 ] || fail "missing file must exit 1"
grep -q "/nonexistent.parquet" "$tmp/err" || fail "error must name the file"
"$DPIPE" inspect "$PT/data/uniform_encryption.parquet.encrypted" 2>"$tmp/err" >/dev/null; [ $? -eq 1 ] || fail "encrypted must exit 1"
grep -qi "encrypted" "$tmp/err" || fail "encrypted file message"
"$DPIPE" cat "$PT/bad_data/PARQUET-1481.parquet" 2>"$tmp/err" >/dev/null; [ $? -eq 1 ] || fail "corrupt file must exit 1"
"$DPIPE" cat "$GEN/duckdb_mixed_zstd.parquet" --columns no_such 2>"$tmp/err" >/dev/null; [ $? -eq 2 ] || fail "unknown column must exit 2"
grep -q "no_such" "$tmp/err" || fail "unknown column message"

# cat: header, row count, formats (expected.json: first rows of d_val, i64, dec_9_3, flag).
"$DPIPE" cat "$GEN/duckdb_mixed_zstd.parquet" --columns d_val,i64,dec_9_3,flag,smiles --limit 3 >"$tmp/out" || fail "cat failed"
[ "$(head -1 "$tmp/out")" = "$(printf 'd_val\ti64\tdec_9_3\tflag\tsmiles')" ] || fail "cat header: $(head -1 "$tmp/out")"
[ "$(wc -l <"$tmp/out")" -eq 4 ] || fail "cat --limit 3 printed $(wc -l <"$tmp/out") lines"
line2=$(sed -n 2p "$tmp/out")
[ "$line2" = "$(printf '105.87428179742338\t-9223372036854775808\t999999.999\ttrue\t')" ] || fail "cat row 1: $line2"
"$DPIPE" cat "$GEN/duckdb_mixed_zstd.parquet" >"$tmp/all" || fail "cat all"
[ "$(wc -l <"$tmp/all")" -eq 3001 ] || fail "cat printed $(wc -l <"$tmp/all") lines, want 3001"
"$DPIPE" cat "$GEN/duckdb_mixed_zstd.parquet" --offset 2998 --columns i64_seq >"$tmp/tail"
[ "$(sed -n 2p "$tmp/tail")" = "1000000008994" ] || fail "cat --offset: $(sed -n 2p "$tmp/tail")"
[ "$(wc -l <"$tmp/tail")" -eq 3 ] || fail "cat --offset 2998 must print 2 rows"
# Nested columns are refused with a clear message.
"$DPIPE" cat "$PT/data/datapage_v2.snappy.parquet" 2>"$tmp/err" >/dev/null; [ $? -eq 1 ] || fail "nested must exit 1"
grep -q "nested" "$tmp/err" || fail "nested message"
# A corrupt page CRC is refused unless --no-verify-crc.
"$DPIPE" cat "$PT/data/datapage_v1-corrupt-checksum.parquet" >/dev/null 2>"$tmp/err"; [ $? -eq 1 ] || fail "CRC mismatch must exit 1"
grep -q "CRC" "$tmp/err" || fail "CRC message"
"$DPIPE" cat --no-verify-crc "$PT/data/datapage_v1-corrupt-checksum.parquet" >/dev/null || fail "--no-verify-crc"

# inspect: text and JSON.
"$DPIPE" inspect "$GEN/duckdb_mixed_zstd.parquet" >"$tmp/i" || fail "inspect failed"
grep -q "3000" "$tmp/i" || fail "inspect shows no row count"
grep -q "ZSTD" "$tmp/i" || fail "inspect shows no codec"
"$DPIPE" inspect --json "$GEN/duckdb_mixed_zstd.parquet" "$GEN/duckdb_schema_a.parquet" >"$tmp/j" || fail "inspect --json"
if /usr/bin/python3 -c 'import json' 2>/dev/null; then
  /usr/bin/python3 -c "import json,sys; d=json.load(open('$tmp/j')); assert len(d)==2, d" || fail "inspect --json is not a JSON array of 2 files"
fi

# bench scan decodes every numeric column.
"$DPIPE" bench scan --json "$GEN/duckdb_long_130k_snappy.parquet" >"$tmp/b" || fail "bench scan"
grep -q '"rows":130000' "$tmp/b" || fail "bench scan rows: $(cat "$tmp/b")"
echo "ok"
