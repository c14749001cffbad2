#!/usr/bin/env bash
# dpipe stats on the example dataset: the table, the known facts of the data, options, errors.
set -u
DPIPE=$1
ROOT=$2
EX=$ROOT/examples/nci_rdkit
fail() { echo "FAIL: $*"; exit 1; }
# The test files are ZSTD/SNAPPY compressed: a build without those codecs cannot read them.
"$DPIPE" --version | grep -q "zstd snappy" || { echo "SKIP: this build lacks zstd/snappy"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$DPIPE" stats --help | grep -q -- "--variance-threshold" || fail "stats --help lacks pass-1 options"
"$DPIPE" stats --help | grep -q -- "--gpu" && fail "stats --help offers --gpu, which stats ignores"
"$DPIPE" stats >/dev/null 2>&1; [ $? -eq 2 ] || fail "no input must exit 2"
"$DPIPE" stats --max-missing-ratio 2 "$EX" >/dev/null 2>&1; [ $? -eq 2 ] || fail "out-of-range option must exit 2"
"$DPIPE" stats --range-mode median "$EX" >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad choice must exit 2"
"$DPIPE" stats /nonexistent/x.parquet >/dev/null 2>"$tmp/err"; [ $? -ne 0 ] || fail "missing input must fail"

"$DPIPE" stats -q "$EX" -o "$tmp/s.tsv" 2>"$tmp/err" || fail "stats failed: $(cat "$tmp/err")"
[ ! -s "$tmp/err" ] || fail "-q must silence stderr: $(cat "$tmp/err")"
# 208 descriptors (mol_id and smiles are text) + header.
[ "$(wc -l <"$tmp/s.tsv")" -eq 209 ] || fail "expected 209 lines, got $(wc -l <"$tmp/s.tsv")"
head -1 "$tmp/s.tsv" | grep -q "^name	kept	reason	rows" || fail "header"
# The six all-zero columns of the example are removed as constant (examples/README.md).
for c in SMR_VSA8 SlogP_VSA9 fr_benzodiazepine fr_diazo fr_lactam fr_prisulfonamd; do
  awk -F'\t' -v c="$c" '$1==c {exit ($2=="no" && $3 ~ /^constant/) ? 0 : 1}' "$tmp/s.tsv" || fail "$c not removed as constant"
done
# MaxPartialCharge: 171 NaN and 2 +inf rows (examples facts) -> n_nan 171, n_inf 2, n_valid 4820.
awk -F'\t' 'NR==1{for(i=1;i<=NF;i++) h[$i]=i} $1=="MaxPartialCharge" {exit ($h["n_nan"]==171 && $h["n_inf"]==2 && $h["n_valid"]==4820) ? 0 : 1}' "$tmp/s.tsv" || fail "MaxPartialCharge counts"
# JSON form parses and has the same number of columns.
"$DPIPE" stats -q --json "$EX" >"$tmp/s.json" || fail "stats --json"
if /usr/bin/python3 -c 'import json' 2>/dev/null; then
  /usr/bin/python3 -c "import json; d=json.load(open('$tmp/s.json')); assert len(d)==208, len(d)" || fail "stats --json"
fi
# A config file and flags combine; flags win.
printf 'variance_threshold = 0.5\nmax-missing-ratio = 0.01\n' >"$tmp/c.conf"
"$DPIPE" stats -q --config "$tmp/c.conf" --variance-threshold 0 "$EX" -o "$tmp/c.tsv" || fail "stats --config"
awk -F'\t' '$3 ~ /^variance/' "$tmp/c.tsv" | grep -q . && fail "flag did not override the config file"
awk -F'\t' '$3 ~ /^missing/' "$tmp/c.tsv" | grep -q . || fail "config file value not applied"
# Column selection.
"$DPIPE" stats -q --columns 'fr_*' --exclude 'fr_benz*' "$EX" -o "$tmp/f.tsv" || fail "--columns"
cut -f1 "$tmp/f.tsv" | tail -n +2 | grep -v '^fr_' && fail "--columns let other columns through"
grep -q "^fr_benzene" "$tmp/f.tsv" && fail "--exclude ignored"
# The per-file sample: 100 rows from each of the 3 files.
"$DPIPE" stats -q --sample-per-file 100 "$EX" -o "$tmp/p.tsv" || fail "--sample-per-file"
awk -F'\t' 'NR==2 {exit ($4==300) ? 0 : 1}' "$tmp/p.tsv" || fail "sampled stats must count 300 rows"
echo ok
