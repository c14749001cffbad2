#!/usr/bin/env bash
# --hsic-estimator sketch / corr --method hsic-sketch end to end: the CountSketch HSIC matrix is deterministic across thread
# counts and batch sizes, agrees with the exact Mercer HSIC within the sketch's error, finds the
# planted nonlinear pairs of `dpipe gen`, refuses bad --m / --r / --hsic-D with a message naming
# them, and `dpipe run` uses it for pass 4.
set -u
DPIPE=$1
ROOT=$2
fail() { echo "FAIL: $*"; exit 1; }
"$DPIPE" --version | grep -q "zstd" || { echo "SKIP: this build lacks zstd"; exit 77; }
/usr/bin/python3 -c 'import numpy' 2>/dev/null || { echo "SKIP: /usr/bin/python3 lacks numpy"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$DPIPE" gen -q -o "$tmp/g" --rows 8000 --cols 24 --files 2 --seed 7 --missing 0.05 --row-group-rows 1500 || fail gen
common=(--n-metadata 1 --method hsic --hsic-estimator sketch --hsic-D 64 --m 8 --r 5)
"$DPIPE" corr -q "$tmp/g" "${common[@]}" --threads 1 --batch-rows 1000 -o "$tmp/s1.npy" || fail "sketch a"
# --method hsic-sketch is the same matrix as --method hsic --hsic-estimator sketch.
"$DPIPE" corr -q "$tmp/g" --n-metadata 1 --method hsic-sketch --hsic-D 64 --m 8 --r 5 --threads 3 --batch-rows 65536 -o "$tmp/s2.npy" || fail "sketch b"
cmp -s "$tmp/s1.npy" "$tmp/s2.npy" || fail "sketch HSIC differs between 1 thread / 1,000-row batches and 3 threads / 65,536-row batches (or between the two ways to ask for it)"
"$DPIPE" corr -q "$tmp/g" --n-metadata 1 --method hsic -o "$tmp/m.npy" || fail mercer
"$DPIPE" corr -q "$tmp/g" "${common[@]}" --random-seed 99 -o "$tmp/s3.npy" || fail "sketch seed"
cmp -s "$tmp/s1.npy" "$tmp/s3.npy" && fail "--random-seed does not change the sketch draws"

# Tolerances: the sketch estimates the RBF-kernel HSIC, the Mercer path the same kernel through
# 10 Hermite terms; with D = 64 features, 8 buckets and the median of 5 repetitions the per-pair
# error at n = 8000 is a few 1e-2 (the bench table gives mean |e| 0.029 for D=256, m=16, r=8), so
# the mean difference must stay under 0.05 and the two matrices must rank pairs alike.
/usr/bin/python3 - "$tmp" <<'PY' || fail "sketch HSIC does not match the Mercer HSIC / planted truth"
import json, sys
import numpy as np
t = sys.argv[1]
s = np.load(t + "/s1.npy"); m = np.load(t + "/m.npy")
names = [l.strip() for l in open(t + "/s1.npy.columns.txt")]
assert names == [l.strip() for l in open(t + "/m.npy.columns.txt")]
assert s.shape == m.shape and np.allclose(s, s.T) and np.allclose(np.diag(s), 1)
iu = np.triu_indices_from(s, 1)
d = np.abs(s - m)[iu]
r = np.corrcoef(s[iu], m[iu])[0, 1]
print("mean |sketch - mercer| %.4f, max %.4f, corr %.4f" % (d.mean(), d.max(), r))
assert d.mean() < 0.05, d.mean()
assert r > 0.9, r
truth = json.load(open(t + "/g/truth.json"))
idx = {n: i for i, n in enumerate(names)}
noise = s[iu].copy()
planted = []
for rel in truth["relations"]:
    if rel["type"] != "nonlinear":
        continue
    a, b = rel["members"][:2]
    if a in idx and b in idx:
        planted.append((rel["function"], s[idx[a], idx[b]]))
assert planted, "no nonlinear pair survived pass 1"
med = float(np.median(noise))
for f, v in planted:
    print("planted %s: sketch HSIC %.3f (median of all pairs %.3f)" % (f, v, med))
    assert v > med + 0.05, (f, v, med)
PY

# Bad sketch sizes are refused before any scan, naming the option.
"$DPIPE" corr -q "$tmp/g" --n-metadata 1 --method hsic --hsic-estimator sketch --hsic-D 8 --m 16 -o "$tmp/x.npy" 2>"$tmp/err" && fail "--m > --hsic-D accepted"
grep -q -- "--m 16" "$tmp/err" || fail "m > D message: $(cat "$tmp/err")"
"$DPIPE" corr -q "$tmp/g" --n-metadata 1 --method hsic --hsic-estimator sketch --m 1 -o "$tmp/x.npy" 2>"$tmp/err" && fail "--m 1 accepted"
grep -q -- "--m" "$tmp/err" || fail "--m 1 message: $(cat "$tmp/err")"

# dpipe run with the sketch estimator: pass 4 reports it and writes its matrices.
"$DPIPE" run -q "$tmp/g" --n-metadata 1 --output-dir "$tmp/run" --hsic-estimator sketch --hsic-D 64 --m 8 --r 3 2>"$tmp/runerr" || fail "run: $(tail -5 "$tmp/runerr")"
test -s "$tmp/run/final_descriptors.txt" || fail "run wrote no final_descriptors.txt"
ls "$tmp/run" | grep -qi "hsic" || ls "$tmp/run"/*/ 2>/dev/null | grep -qi "hsic" || fail "run wrote no HSIC matrix: $(ls -R "$tmp/run" | head -30)"
grep -rq "sketch" "$tmp/run" --include=*.json || fail "run's reports do not record the sketch estimator"
echo ok
