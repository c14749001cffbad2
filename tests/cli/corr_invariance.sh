#!/usr/bin/env bash
# dpipe corr gives identical bits for 1 and 4 threads and for batches of 1,000 and 65,536 rows
# (the accumulators re-block rows on global row offsets; the backend tiles by shape only), for a
# dataset with missing values spread over several files and row groups.
set -u
DPIPE=$1
ROOT=$2
fail() { echo "FAIL: $*"; exit 1; }
"$DPIPE" --version | grep -q "zstd" || { echo "SKIP: this build lacks zstd"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$DPIPE" gen -q -o "$tmp/g" --rows 40000 --cols 30 --files 3 --seed 4 --missing 0.1 --row-group-rows 3000 || fail gen
for m in spearman gaussian pearson rdc; do
  "$DPIPE" corr -q "$tmp/g" --n-metadata 1 --method $m --threads 1 --batch-rows 1000 -o "$tmp/a.npy" || fail "$m a"
  "$DPIPE" corr -q "$tmp/g" --n-metadata 1 --method $m --threads 4 --batch-rows 65536 -o "$tmp/b.npy" || fail "$m b"
  cmp -s "$tmp/a.npy" "$tmp/b.npy" || fail "$m: results differ between 1 thread / 1,000-row batches and 4 threads / 65,536-row batches"
done
"$DPIPE" stats -q "$tmp/g" --n-metadata 1 --threads 1 --batch-rows 1000 -o "$tmp/a.tsv" || fail stats
"$DPIPE" stats -q "$tmp/g" --n-metadata 1 --threads 4 --batch-rows 65536 -o "$tmp/b.tsv" || fail stats
cmp -s "$tmp/a.tsv" "$tmp/b.tsv" || fail "stats differ between thread counts / batch sizes"
echo ok
