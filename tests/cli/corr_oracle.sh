#!/usr/bin/env bash
# dpipe corr on the example dataset against the numpy/scipy oracle (tests/oracle/oracle.py):
# with exact value tables for every column (--exact-distinct large) the Spearman, Gaussian-rank
# and Pearson matrices must equal the oracle's definitions with the `marginal` NaN policy (each
# column ranked over its own valid values, pairs on their common rows) to 1e-10. Tolerance: the
# oracle computes in float64 with a different summation order over <= 4,993 rows of values in
# [0, 1] or raw values with |x| <= 1e36 scaled by their sd; both are ~1e-13 accurate.
set -u
DPIPE=$1
ROOT=$2
fail() { echo "FAIL: $*"; exit 1; }
"$DPIPE" --version | grep -q "zstd" || { echo "SKIP: this build lacks zstd"; exit 77; }
/usr/bin/python3 -c 'import numpy, scipy' 2>/dev/null || { echo "SKIP: /usr/bin/python3 lacks numpy/scipy"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
EX=$ROOT/examples/nci_rdkit
for f in "$EX"/part-*.parquet; do
  "$DPIPE" cat "$f" | if [ -s "$tmp/all.tsv" ]; then tail -n +2; else cat; fi >>"$tmp/all.tsv" || fail "cat $f"
done
for m in spearman gaussian pearson; do
  "$DPIPE" corr -q "$EX" --method $m --exact-distinct 1048576 --variance-threshold 0 \
    --threads 2 -o "$tmp/$m.npy" || fail "corr --method $m"
done
# Default settings: columns with more than 4,096 distinct values use the KLL sketch, whose rank
# error eps <= 0.5 % bounds the Spearman error by 2 (1 + |rho|) eps / sigma_u <= 14 eps = 0.07
# (METHODS.md §2.3); the measured error is printed.
"$DPIPE" corr -q "$EX" --method spearman --variance-threshold 0 -o "$tmp/sketch.npy" || fail "corr (sketch)"
/usr/bin/python3 - "$ROOT/tests/oracle" "$tmp" <<'PY' || fail "matrices differ from the oracle"
import sys, numpy as np
sys.path.insert(0, sys.argv[1])
import oracle
tmp = sys.argv[2]
rows = [l.rstrip('\n').split('\t') for l in open(tmp + '/all.tsv')]
head, body = rows[0], rows[1:]
def num(s):
    if s in ('', 'nan', 'inf', '-inf'):
        return np.nan  # NULL, NaN and +-Inf are all missing
    return float(s)
for m, fn in (('spearman', oracle.spearman_exact), ('gaussian', oracle.gaussian_rank),
              ('pearson', oracle.pearson)):
    names = open(f'{tmp}/{m}.npy.columns.txt').read().split('\n')[:-1]
    idx = [head.index(n) for n in names]
    X = np.array([[num(r[i]) for i in idx] for r in body])
    R = np.load(f'{tmp}/{m}.npy')
    policy = 'pairwise' if m == 'pearson' else 'marginal'
    O = fn(X, nan_policy=policy)
    both = ~np.isnan(O) & ~np.isnan(R)
    # dpipe gives NaN (undefined) where a column is constant on the pair's common rows; the
    # oracle then returns rounding noise (|r| ~ 1e-17) instead of NaN.
    only_dp = np.isnan(R) & ~np.isnan(O)
    assert (np.abs(O[only_dp]) < 1e-12).all(), (m, O[only_dp][:5])
    assert not (np.isnan(O) & ~np.isnan(R)).any(), m
    d = np.abs(O - R)[both].max()
    print(f'{m}: {len(names)} columns, max |dpipe - oracle| = {d:.3g}')
    assert d <= 1e-10, (m, d)
names = open(f'{tmp}/sketch.npy.columns.txt').read().split('\n')[:-1]
idx = [head.index(n) for n in names]
X = np.array([[num(r[i]) for i in idx] for r in body])
R = np.load(f'{tmp}/sketch.npy')
O = oracle.spearman_exact(X, nan_policy='marginal')
d = np.nanmax(np.abs(O - R))
print(f'spearman with sketch columns: max |dpipe - oracle| = {d:.3g} (bound 0.07)')
assert d <= 0.07, d
PY
echo ok
