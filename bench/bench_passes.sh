#!/usr/bin/env bash
# Pass benchmarks (issues 4, 5, 7): on dpipe-generated datasets, per pass: seconds, rows/s, peak
# RSS; pass 1 against the plain scan; the pass-2 Spearman scan against the machine's dsyrk and
# numpy/pandas on the same data; `dpipe run` end to end with RSS sampled every second.
#   bench/bench_passes.sh [BUILD_DIR] [WORK_DIR] [small]
# "small" uses 100,000 rows instead of 1,000,000 / 200,000 (quick check). Prints tables; nothing
# is asserted. Needs /usr/bin/python3 with numpy and pandas for the peers (skipped otherwise).
set -euo pipefail
BUILD=${1:-build}
WORK=${2:-/tmp/dpipe-bench-passes}
SMALL=${3:-}
D=$BUILD/cli/dpipe
mkdir -p "$WORK"
R1=1000000; C1=200; R2=200000; C2=1500
if [ "$SMALL" = small ]; then R1=100000; R2=20000; fi
[ -d "$WORK/a" ] || "$D" gen -q -o "$WORK/a" --rows $R1 --cols $C1 --files 4 --seed 1
[ -d "$WORK/b" ] || "$D" gen -q -o "$WORK/b" --rows $R2 --cols $C2 --files 4 --seed 2
peak() { /usr/bin/time -f '%e %M' "$@" 2>&1 >/dev/null | tail -1; }  # seconds, KiB
row() { printf '%-14s %-34s %9s %12s %10s\n' "$@"; }
row dataset step seconds rows/s peak_MiB
for ds in a b; do
  rows=$([ $ds = a ] && echo $R1 || echo $R2)
  for t in 1 2; do
    read -r s m < <(peak "$D" bench scan --threads $t "$WORK/$ds")
    row "$ds" "plain scan ($t thread$([ $t = 2 ] && echo s))" "$s" "$(awk -v r=$rows -v s=$s 'BEGIN{printf "%.0f", r/s}')" "$(awk -v k=$m 'BEGIN{printf "%.0f", k/1024}')"
    read -r s m < <(peak "$D" stats -q --threads $t --n-metadata 1 "$WORK/$ds" -o /dev/null)
    row "$ds" "pass 1 = dpipe stats ($t thr)" "$s" "$(awk -v r=$rows -v s=$s 'BEGIN{printf "%.0f", r/s}')" "$(awk -v k=$m 'BEGIN{printf "%.0f", k/1024}')"
  done
  read -r s m < <(peak "$D" corr -q --method spearman --n-metadata 1 "$WORK/$ds" -o "$WORK/$ds.npy")
  row "$ds" "pass 1 + pass 2 (dpipe corr)" "$s" "$(awk -v r=$rows -v s=$s 'BEGIN{printf "%.0f", r/s}')" "$(awk -v k=$m 'BEGIN{printf "%.0f", k/1024}')"
done
# dsyrk peak on the same shapes and the numpy/pandas peers on the same data.
if /usr/bin/python3 -c 'import numpy, pandas' 2>/dev/null; then
  for ds in a b; do
    [ -f "$WORK/$ds.data.npy" ] || "$BUILD/bench/bench_dump_npy" "$WORK/$ds" "$WORK/$ds.data.npy" 1 >/dev/null
    # pandas' Spearman is O(p^2 n) in Python-level loops: it runs on the first PEER_ROWS rows only.
    peer_rows=$([ $ds = a ] && echo ${PEER_ROWS_A:-200000} || echo ${PEER_ROWS_B:-20000})
    for how in dsyrk corrcoef pandas_spearman; do
      read -r s m < <(peak /usr/bin/python3 -c "
import numpy as np, pandas as pd, time, sys
X = np.load('$WORK/$ds.data.npy', mmap_mode='r')
X = np.array(X[:$peer_rows] if '$how' == 'pandas_spearman' else X)
t = time.time()
if '$how' == 'dsyrk':
    Z = np.nan_to_num(X - np.nanmean(X, 0))
    G = Z.T @ Z          # BLAS syrk/gemm through numpy
elif '$how' == 'corrcoef':
    C = np.corrcoef(np.nan_to_num(X), rowvar=False)
else:
    C = pd.DataFrame(X).corr(method='spearman')
print(time.time() - t, file=sys.stderr)
")
      label="numpy/pandas: $how"; [ $how = pandas_spearman ] && label="$label ($peer_rows rows)"
      row "$ds" "$label (incl. load)" "$s" "-" "$(awk -v k=$m 'BEGIN{printf "%.0f", k/1024}')"
    done
  done
fi
# dpipe run end to end with RSS sampled every second (the original's memory-leak story).
for ds in a b; do
  rm -rf "$WORK/run-$ds"
  "$D" run -q --n-metadata 1 "$WORK/$ds" --output-dir "$WORK/run-$ds" &
  pid=$!
  : >"$WORK/rss-$ds.txt"
  while kill -0 $pid 2>/dev/null; do
    awk '/VmRSS/ {print $2}' /proc/$pid/status 2>/dev/null >>"$WORK/rss-$ds.txt" || true
    sleep 1
  done
  wait $pid
  /usr/bin/python3 - "$WORK/run-$ds/manifest.json" "$WORK/rss-$ds.txt" "$ds" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
rss = [int(x) / 1024 for x in open(sys.argv[2]).read().split()]
for p, v in m['passes'].items():
    print(f"{sys.argv[3]:<14} run: {p:<29} {v['seconds']:9.2f} {v['rows_read']:>12} {v['peak_rss_bytes'] / 2**20:10.0f}  scans {v['scans']}")
if rss:
    n = len(rss)
    q = [rss[i * (n - 1) // 4] for i in range(5)]
    print(f"{sys.argv[3]:<14} RSS sampled every 1 s over {n} s: at 0/25/50/75/100 % of the run {', '.join(f'{x:.0f}' for x in q)} MiB, max {max(rss):.0f} MiB")
PY
done
