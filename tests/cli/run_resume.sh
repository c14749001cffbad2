#!/usr/bin/env bash
# dpipe run's run directory: reuse of finished passes, exactly the right passes rerun when a
# setting changes, kill -9 at random moments then rerun gives byte-identical outputs, a corrupt
# checkpoint is detected and ignored, a second run on the same directory is refused, and the
# original's production command line is accepted.
set -u
DPIPE=$1
ROOT=$2
fail() { echo "FAIL: $*"; exit 1; }
"$DPIPE" --version | grep -q "zstd" || { echo "SKIP: this build lacks zstd"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$DPIPE" gen -q -o "$tmp/g" --rows 30000 --cols 40 --files 3 --seed 9 --row-group-rows 2000 || fail "gen"
RUN=("$DPIPE" run "$tmp/g" --n-metadata 1 --threads 2)
"${RUN[@]}" -q --output-dir "$tmp/ref" || fail "reference run"
OUTS="final_descriptors.txt pass1_statistics.tsv pass1_models.bin pass2_spearman_matrix.npy
      pass2_clusters.json pass3_vif.json pass4_hsic_matrix.npy pass4_rdc_matrix.npy
      pass4_nonlinear.json clusters.json summary.json"
same() { for f in $OUTS; do cmp -s "$1/$f" "$2/$f" || { echo "differs: $f"; return 1; }; done; }

# 1. Rerun: everything reused, nothing recomputed.
"${RUN[@]}" --output-dir "$tmp/ref" 2>"$tmp/log" || fail "rerun"
[ "$(grep -c 'reusing earlier results' "$tmp/log")" -eq 5 ] || fail "rerun did not reuse all passes: $(cat "$tmp/log")"

# 2. Each pass's setting reruns that pass and the later ones only.
cp -r "$tmp/ref" "$tmp/s"
SET=()
check() { # setting value first_rerun_pass (settings accumulate)
  SET+=("$1" "$2")
  "${RUN[@]}" --output-dir "$tmp/s" "${SET[@]}" 2>"$tmp/log" || fail "run $1 $2"
  for p in 1 2 3 4; do
    if [ "$p" -lt "$3" ]; then
      grep -q "pass$p: reusing" "$tmp/log" || fail "$1: pass $p should be reused: $(cat "$tmp/log")"
    elif [ "$p" -eq "$3" ]; then
      grep -q "pass$p: recomputing: ${1#--} changed" "$tmp/log" || fail "$1: pass $p should say why it reruns: $(cat "$tmp/log")"
    fi
  done
}
check --variance-threshold 0.001 1
check --spearman-threshold 0.9 2
check --vif-threshold 5 3
check --nonlinear-threshold 0.5 4
"${RUN[@]}" --output-dir "$tmp/s" --nonlinear-threshold 0.5 --vif-threshold 5 --spearman-threshold 0.9 --variance-threshold 0.001 --force-recompute 2>"$tmp/log" || fail "--force-recompute"
[ "$(grep -c 'recomputing: --force-recompute' "$tmp/log")" -eq 5 ] || fail "--force-recompute: $(cat "$tmp/log")"

# 3. kill -9 at random moments, rerun, compare with the uninterrupted run.
for trial in 1 2 3; do
  rm -rf "$tmp/k"
  for k in 1 2 3 4; do
    "${RUN[@]}" -q --output-dir "$tmp/k" --checkpoint-interval 0 &
    pid=$!
    sleep "0.$((RANDOM % 9 + 1))"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    rm -f "$tmp/k/dpipe.lock" # a killed process leaves its lock; dpipe would also take it over
  done
  "${RUN[@]}" -q --output-dir "$tmp/k" --checkpoint-interval 0 || fail "resume after kill -9 (trial $trial)"
  same "$tmp/ref" "$tmp/k" || fail "outputs after kill -9 differ from the uninterrupted run (trial $trial)"
done

# 3b. SIGINT during a scan: state saved, exit status 130, the rerun resumes and finishes with the
#     same bytes.
rm -rf "$tmp/i"
"${RUN[@]}" -q --output-dir "$tmp/i" --checkpoint-interval 1000 --batch-rows 500 &
pid=$!
for _ in $(seq 200); do grep -q '"pass2"' "$tmp/i/manifest.json" 2>/dev/null && break; sleep 0.02; done
kill -INT "$pid" 2>/dev/null
wait "$pid"
rc=$?
if [ $rc -ne 0 ]; then
  [ $rc -eq 130 ] || fail "SIGINT: exit status $rc, expected 130"
  ls "$tmp/i"/*.checkpoint >/dev/null 2>&1 || fail "SIGINT left no checkpoint"
  "${RUN[@]}" --output-dir "$tmp/i" 2>"$tmp/log" || fail "resume after SIGINT"
  grep -q "resuming from the checkpoint" "$tmp/log" || fail "no resume after SIGINT: $(cat "$tmp/log")"
  same "$tmp/ref" "$tmp/i" || fail "outputs after SIGINT + resume differ"
else
  echo "note: the run finished before SIGINT arrived; interrupt not exercised"
fi

# 4. A corrupt checkpoint is detected, reported and ignored.
rm -rf "$tmp/c"
"${RUN[@]}" -q --output-dir "$tmp/c" --checkpoint-interval 0 &
pid=$!
for _ in $(seq 100); do ls "$tmp/c"/*.checkpoint >/dev/null 2>&1 && break; sleep 0.05; done
kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
ck=$(ls "$tmp/c"/*.checkpoint 2>/dev/null | head -1)
if [ -n "$ck" ]; then
  printf 'garbage' | dd of="$ck" bs=1 seek=40 conv=notrunc 2>/dev/null
  "${RUN[@]}" --output-dir "$tmp/c" 2>"$tmp/log" || fail "run after a corrupt checkpoint"
  grep -q "ignoring checkpoint" "$tmp/log" || fail "corrupt checkpoint not reported: $(cat "$tmp/log")"
  same "$tmp/ref" "$tmp/c" || fail "outputs after a corrupt checkpoint differ"
fi

# 5. A second run on a directory in use is refused; a stale lock is taken over.
sleep 300 & holder=$!
echo "$holder" > "$tmp/ref/dpipe.lock"
"${RUN[@]}" -q --output-dir "$tmp/ref" 2>"$tmp/log"; rc=$?
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
[ $rc -eq 1 ] && grep -q "in use by another dpipe run" "$tmp/log" || fail "second run not refused (rc $rc): $(cat "$tmp/log")"
echo 999999999 > "$tmp/ref/dpipe.lock"
"${RUN[@]}" -q --output-dir "$tmp/ref" || fail "stale lock not taken over"

# 6. The original's documented production command line is accepted (without --gpu, which needs a
#    GPU build; with it the error must say so), and bad options are usage errors.
PROD=(--batch-rows 50000 --max-missing-ratio 0.9 --spearman-threshold 0.90 --vif-threshold 10
      --nonlinear-threshold 0.7 --w-hsic 0.3 --w-rdc 0.7 --m 8192 --r 5 --hsic-D 8 --rdc-d 12
      --rdc-seeds 2 --topk 40 --n-consensus 10 --random-seed 1557 --checkpoint --n-metadata 1)
"$DPIPE" run -q --parquet-glob "$tmp/g/*.parquet" --output-dir "$tmp/prod" "${PROD[@]}" || fail "production command line"
"$DPIPE" run -q --parquet-glob "$tmp/g/*.parquet" --output-dir "$tmp/prod" "${PROD[@]}" --gpu 2>"$tmp/log"
rc=$?
if ! "$DPIPE" --version | grep -q "cuda yes"; then
  [ $rc -eq 1 ] && grep -qi "cuda" "$tmp/log" || fail "--gpu without CUDA: rc $rc $(cat "$tmp/log")"
fi
"$DPIPE" run "$tmp/g" --output-dir "$tmp/x" --no-such-option 2>/dev/null; [ $? -eq 2 ] || fail "unknown option must exit 2"
"$DPIPE" run "$tmp/g" --output-dir "$tmp/x" --vif-threshold -3 2>/dev/null; [ $? -eq 2 ] || fail "bad value must exit 2"
"$DPIPE" run "$tmp/g" 2>/dev/null; [ $? -eq 2 ] || fail "missing --output-dir must exit 2"
"$DPIPE" run /nonexistent/file.parquet --output-dir "$tmp/x" 2>"$tmp/log"; [ $? -eq 1 ] || fail "unreadable input must exit 1"
grep -q "/nonexistent/file.parquet" "$tmp/log" || fail "error must name the input"
echo ok
