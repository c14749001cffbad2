#!/usr/bin/env bash
# gpu_check.sh [RESULTS_DIR]: the CUDA backend on a machine with an NVIDIA GPU, in one run that
# fits a 15-minute device budget (about 6-8 minutes at the default size):
#   1. build (Release, CUDA on) dpipe, the GPU tests and bench_gpu; list the cubin architectures;
#   2. run tests/gpu (GPU vs CPU on the same data: float64 to 1e-12, identical decisions,
#      fp32/tf32 within their stated bounds; "measured" lines give the differences seen);
#   3. generate data on local disk with `dpipe gen`: ROWS x 1000 (pass 2) and ROWS x 300
#      (pass 4); ROWS = $DP_GPU_CHECK_ROWS (default 2,000,000); when generating the pass-2 data
#      takes longer than $DP_GPU_CHECK_GEN_SECONDS (90) it falls back to
#      $DP_GPU_CHECK_FALLBACK_ROWS (400,000) rows;
#   4. bench_gpu: decode rate, pass 2 on the GPU (fp64, fp32, tf32) over all rows and on the CPU
#      (all cores) over the first $DP_GPU_CHECK_CPU_FILES (2) of the 16 files, where the GPU runs
#      again for the differences; pass 4 on the CPU ($DP_GPU_CHECK_P4_CPU_ROWS rows, default
#      ROWS/10) and the GPU (all rows; fp64 and fp32), the GPU checked against the CPU on the
#      same rows; cuBLAS DSYRK / SSYRK / TF32-GEMM rates on the accumulators' shapes and pinned
#      H2D bandwidth, in the same runs;
#   5. the PyTorch re-statement of the original (bench/original_torch.py) on the same data and
#      GPU, when python3 has numpy, pyarrow and torch (row limits $DP_GPU_CHECK_TORCH_P2_ROWS,
#      default 200,000, and $DP_GPU_CHECK_TORCH_P4_ROWS, default 20,000: it reads the data 64
#      times in pass 4);
#   6. one table (results.md) and the raw outputs in RESULTS_DIR (default ./gpu_results).
# Steps past $DP_GPU_CHECK_BUDGET seconds (default 480) are skipped and marked so.
# Work directory (build, data): $DP_GPU_CHECK_WORK (default /tmp/dpipe_gpu_check).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RES=${1:-$PWD/gpu_results}
mkdir -p "$RES"
RES=$(cd "$RES" && pwd)
WORK=${DP_GPU_CHECK_WORK:-/tmp/dpipe_gpu_check}
BUILD=$WORK/build
ROWS=${DP_GPU_CHECK_ROWS:-2000000}
FALLBACK=${DP_GPU_CHECK_FALLBACK_ROWS:-400000}
GEN_LIMIT=${DP_GPU_CHECK_GEN_SECONDS:-90}
BUDGET=${DP_GPU_CHECK_BUDGET:-480}
GPU_ID=${DP_GPU_CHECK_GPU_ID:-0}
JOBS=$(nproc 2>/dev/null || echo 8)
START=$(date +%s)
mkdir -p "$WORK"
: >"$RES/log.txt"

log() { echo "[gpu_check +$(($(date +%s) - START))s] $*" | tee -a "$RES/log.txt" >&2; }
left() { echo $((BUDGET - ($(date +%s) - START))); }
# run_step NAME SECONDS CMD...: run with a timeout, output to RESULTS_DIR/NAME.txt
run_step() {
  local name=$1 limit=$2
  shift 2
  if [ "$(left)" -le 20 ]; then
    log "$name: skipped (time budget spent)"
    echo "skipped: time budget" >"$RES/$name.txt"
    return 99
  fi
  [ "$limit" -gt "$(left)" ] && limit=$(left)
  log "$name (limit ${limit}s): $*"
  local t0=$(date +%s)
  timeout "$limit" "$@" >"$RES/$name.txt" 2>"$RES/$name.err"
  local rc=$?
  log "$name: exit $rc after $(($(date +%s) - t0))s"
  return $rc
}

log "results in $RES, work in $WORK, $JOBS cores, rows $ROWS (fallback $FALLBACK)"
{ nvidia-smi 2>&1 || echo "nvidia-smi not found"; } >"$RES/nvidia-smi.txt"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader -i "$GPU_ID" \
  >"$RES/gpu.txt" 2>/dev/null || echo "unknown (no nvidia-smi)" >"$RES/gpu.txt"
log "GPU $GPU_ID: $(cat "$RES/gpu.txt")"

# 1. build
run_step configure 120 cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DDP_WITH_CUDA=ON \
  -DDP_BUILD_BENCH=ON -DDP_BUILD_TESTS=ON || { log "configure failed"; cat "$RES/configure.err" >&2; exit 1; }
run_step build 300 cmake --build "$BUILD" -j"$JOBS" --target dpipe dp_gpu_tests bench_gpu ||
  { log "build failed"; tail -30 "$RES/build.txt" >&2; exit 1; }
DPIPE=$BUILD/cli/dpipe
if command -v cuobjdump >/dev/null 2>&1; then
  cuobjdump --list-elf "$BUILD/src/backend/libdp_backend.a" >"$RES/cubins.txt" 2>&1
  cuobjdump --list-ptx "$BUILD/src/backend/libdp_backend.a" >>"$RES/cubins.txt" 2>&1
  log "cubins: $(grep -o 'sm_[0-9]*' "$RES/cubins.txt" | sort -u | tr '\n' ' ')"
fi

# 2. GPU tests
export DP_TEST_GPU_ID=$GPU_ID
(cd "$BUILD" && run_step gpu_tests 200 ctest -L gpu -V --timeout 180)
grep -hE "measured|Test +#[0-9]+: |SKIP |FAIL " "$RES/gpu_tests.txt" >"$RES/gpu_tests_summary.txt"
log "gpu tests: $(grep -cE 'Test +#[0-9]+: .* Passed' "$RES/gpu_tests.txt") passed," \
  "$(grep -cE 'Test +#[0-9]+: .*Failed' "$RES/gpu_tests.txt") failed," \
  "$(grep -cE 'Test +#[0-9]+: .*Skipped' "$RES/gpu_tests.txt") skipped"

# 3. data
gen() { # gen DIR ROWS COLS SECONDS
  rm -rf "$1"
  run_step "gen_$(basename "$1")" "$4" "$DPIPE" gen -o "$1" -n "$2" -p "$3" --files 16 --seed 7 -q
}
gen "$WORK/p2" "$ROWS" 1000 "$GEN_LIMIT"
if [ $? -ne 0 ]; then
  log "pass-2 data of $ROWS rows did not finish in ${GEN_LIMIT}s: falling back to $FALLBACK rows"
  ROWS=$FALLBACK
  gen "$WORK/p2" "$ROWS" 1000 120 || { log "data generation failed"; exit 1; }
fi
gen "$WORK/p4" "$ROWS" 300 120 || { log "data generation failed"; exit 1; }
du -sh "$WORK/p2" "$WORK/p4" | tee -a "$RES/log.txt" >&2
P4_CPU_ROWS=${DP_GPU_CHECK_P4_CPU_ROWS:-$((ROWS / 10))}
[ "$P4_CPU_ROWS" -lt 1000 ] && P4_CPU_ROWS=1000

# 4. dpipe CPU vs GPU
B="$BUILD/bench/bench_gpu --gpu-id $GPU_ID --threads $JOBS"
run_step bench_p2 180 $B --cases decode,p2-gpu,p2-gpu-fp32,p2-gpu-tf32,peak2 "$WORK/p2"
CPU_FILES=$(ls "$WORK"/p2/*.parquet | head -"${DP_GPU_CHECK_CPU_FILES:-2}")
run_step bench_p2_cpu 150 $B --cases p2-cpu,p2-gpu,p2-gpu-fp32,p2-gpu-tf32 $CPU_FILES
run_step bench_p4 180 $B --cases decode,p4-cpu,p4-check,p4-gpu,p4-gpu-fp32,peak4 \
  --cpu-rows "$P4_CPU_ROWS" "$WORK/p4"

# 5. the original, re-stated in PyTorch
T2=${DP_GPU_CHECK_TORCH_P2_ROWS:-200000}
T4=${DP_GPU_CHECK_TORCH_P4_ROWS:-20000}
if python3 -c "import numpy, pyarrow, torch; assert torch.cuda.is_available()" 2>"$RES/torch_check.err"; then
  run_step torch_p2 60 python3 "$ROOT/bench/original_torch.py" --pass 2 --max-rows "$T2" \
    --device "cuda:$GPU_ID" "$WORK/p2"
  run_step torch_p4 90 python3 "$ROOT/bench/original_torch.py" --pass 4 --max-rows "$T4" \
    --device "cuda:$GPU_ID" "$WORK/p4"
else
  log "PyTorch baseline not run: $(tail -1 "$RES/torch_check.err")"
  echo "not run: $(tail -1 "$RES/torch_check.err")" >"$RES/torch_p2.txt"
  cp "$RES/torch_p2.txt" "$RES/torch_p4.txt"
fi

# 6. the table
python3 - "$RES" "$ROWS" <<'EOF' | tee "$RES/results.md"
import os, re, sys
res, rows = sys.argv[1], sys.argv[2]

def lines(name):
    path = os.path.join(res, name + ".txt")
    out = []
    if os.path.exists(path):
        for ln in open(path, errors="replace"):
            kv = dict(re.findall(r"(\w+)=(\S+)", ln))
            if kv:
                out.append(kv)
    return out

def f(x, fmt="{:.3g}"):
    try:
        return fmt.format(float(x))
    except (TypeError, ValueError):
        return "-" if x is None else str(x)

print(f"# dpipe CUDA backend check ({rows} rows)\n")
print("GPU:", open(os.path.join(res, "gpu.txt"), errors="replace").read().strip())
summ = os.path.join(res, "gpu_tests_summary.txt")
if os.path.exists(summ):
    txt = open(summ, errors="replace").read()
    res_lines = re.findall(r"Test +#\d+: \S+ .*", txt)
    n = lambda w: sum(1 for ln in res_lines if w in ln)
    print(f"\ntests/gpu: {n('Passed')} passed, {n('Failed')} failed, {n('Skipped')} skipped")
    for ln in res_lines:
        if "Failed" in ln:
            print("   FAILED:", ln)
    for ln in txt.splitlines():
        if "measured" in ln:
            print("  ", ln.split("measured", 1)[1].strip())
print()
hdr = ["pass", "case", "prec", "rows", "cols", "seconds", "rows/s", "GFLOP/s (wall)",
       "GFLOP/s (GPU busy)", "% of cuBLAS", "GPU waited %", "H2D GB/s", "max diff vs CPU"]
print("| " + " | ".join(hdr) + " |")
print("|" + "---|" * len(hdr))
summary = []
for pas, name in ((2, "bench_p2"), (2, "bench_p2_cpu"), (4, "bench_p4")):
    cases = lines(name)
    if name == "bench_p2_cpu":  # the peaks of the full-data run apply
        cases += [c for c in lines("bench_p2") if c.get("case", "").startswith("peak")]
    peaks = {c.get("op"): float(c.get("gflops", 0) or 0) for c in cases if c.get("case", "").startswith("peak")}
    h2d = next((c.get("gbps") for c in cases if c.get("op") == "h2d-pinned"), None)
    decode = next((c for c in cases if c.get("case") == "decode"), None)
    for c in cases:
        cs = c.get("case", "")
        if cs.startswith("peak") or cs == "pass1":
            continue
        prec = c.get("prec", "")
        peak = None
        if cs.startswith("p2-gpu"):
            peak = peaks.get({"fp64": "dsyrk", "fp32": "ssyrk", "tf32": "tf32-gemm"}.get(prec, ""))
        elif cs.startswith("p4") and "gpu" in cs or cs == "p4-check":
            peak = peaks.get("dsyrk-rdc")
        busy = c.get("gflops_busy")
        pct = f(100 * float(busy) / peak, "{:.0f}") if busy and peak else "-"
        diff = c.get("max_diff") or ("/".join(x for x in (c.get("max_diff_hsic"), c.get("max_diff_rdc")) if x) or "-")
        print(f"| {pas} | {cs} | {prec or '-'} | {c.get('rows','-')} | {c.get('cols','-')} | "
              f"{f(c.get('seconds'))} | {f(c.get('rows_per_s'), '{:.0f}')} | {f(c.get('gflops'), '{:.1f}')} | "
              f"{f(busy, '{:.1f}')} | {pct} | {f(c.get('gpu_wait_pct'), '{:.0f}')} | {f(c.get('h2d_gbps'), '{:.1f}')} | {diff} |")
    for op, g in peaks.items():
        if op != "h2d-pinned" and name != "bench_p2_cpu":
            print(f"| {pas} | cuBLAS {op} peak | - | - | - | - | - | {g:.1f} | - | 100 | - | - | - |")
    if h2d and name != "bench_p2_cpu":
        summary.append(f"pass {pas}: pinned H2D peak {f(h2d, '{:.1f}')} GB/s")
    gpu64 = next((c for c in cases if c.get("case") in ("p2-gpu", "p4-gpu")), None)
    cpu = next((c for c in cases if c.get("case") in ("p2-cpu", "p4-cpu")), None)
    if cpu and gpu64:
        summary.append(f"pass {pas}: GPU fp64 {float(gpu64['rows_per_s']) / float(cpu['rows_per_s']):.1f}x the "
                       f"rows/s of the CPU backend ({name})")
    if decode and gpu64:
        summary.append(f"pass {pas}: GPU fp64 scan at {100 * float(gpu64['rows_per_s']) / float(decode['rows_per_s']):.0f} % "
                       f"of the decode-only rate ({f(decode['rows_per_s'], '{:.0f}')} rows/s); "
                       f"GPU waited for batches {f(gpu64.get('gpu_wait_pct'), '{:.0f}')} % of the scan")
for pas in (2, 4):
    t = lines(f"torch_p{pas}")
    d = [c for c in lines(f"bench_p{pas}") if c.get("case") == f"p{pas}-gpu"]
    if t and d and "rows_per_s" in t[0]:
        print(f"| {pas} | PyTorch original (float32) | fp32 | {t[0]['rows']} | {t[0]['cols']} | {f(t[0]['seconds'])} | "
              f"{f(t[0]['rows_per_s'], '{:.0f}')} | - | - | - | - | - | - |")
        summary.append(f"pass {pas}: dpipe GPU {float(d[0]['rows_per_s']) / float(t[0]['rows_per_s']):.1f}x the rows/s of "
                       f"the PyTorch re-statement of the original ({t[0].get('data_passes')} data passes)")
    else:
        summary.append(f"pass {pas}: PyTorch baseline not run")
print()
for s in summary:
    print("-", s)
EOF
log "done in $(($(date +%s) - START))s; table in $RES/results.md"
