#!/usr/bin/env bash
# `dpipe run` distributed over MPI ranks:
#  1. 1, 2 and 3 ranks on a generated 3-file dataset: one rank byte-identical to the plain
#     process; 2 and 3 ranks equal to it within tests/cli/mpi_compare.py's tolerances, with
#     byte-identical decisions (every column list, columns.json, summary.json); 3 ranks twice give
#     byte-identical outputs; a rerun reuses every pass.
#  2. Fewer row groups (1) than ranks (3): ranks 0 and 2 have no rows.
#  3. A rank that cannot read its file (a damaged page in the last file): the job stops with exit
#     1 and one message naming the rank, its host and the file.
#  4. One rank killed with kill -9 during the pass-4 scan: mpirun ends the job (non-zero) within
#     seconds with a message naming the rank; the rerun resumes from every rank's checkpoint and
#     gives outputs byte-identical to an uninterrupted run with the same rank count.
set -u
DPIPE=$1
ROOT=$2
fail() { echo "FAIL: $*"; exit 1; }
"$DPIPE" --version | grep -q "mpi yes" || { echo "SKIP: this build lacks MPI"; exit 77; }
"$DPIPE" --version | grep -q "zstd" || { echo "SKIP: this build lacks zstd"; exit 77; }
command -v mpirun >/dev/null || { echo "SKIP: no mpirun"; exit 77; }
/usr/bin/python3 -c 'import numpy' 2>/dev/null || { echo "SKIP: /usr/bin/python3 lacks numpy"; exit 77; }
CMP="/usr/bin/python3 $ROOT/tests/cli/mpi_compare.py"
# Under ASan: Open MPI's components (dlopen'ed, unloaded by MPI_Finalize) leak at exit, and
# LeakSanitizer cannot suppress frames of unloaded modules, so leak checking is off for the ranks
# (the one-process paths are leak-checked by every other test; addresses stay checked here).
MPI=(env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" mpirun --allow-run-as-root --oversubscribe)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$DPIPE" gen -q -o "$tmp/g" --rows 6000 --cols 24 --files 3 --row-group-rows 700 --seed 5 || fail "gen"
RUN=(run --n-metadata 1 --threads 1 --exact-distinct 8192)
NUMERIC="pass1_statistics.tsv pass2_spearman_matrix.npy pass2_clusters.json pass3_vif.json
         pass4_hsic_matrix.npy pass4_rdc_matrix.npy pass4_nonlinear.json clusters.json"
DECISIONS="pass1_columns.txt pass2_columns.txt pass3_columns.txt final_descriptors.txt
           columns.json summary.json"
ALL="$NUMERIC $DECISIONS pass1_models.bin"
same() { for f in $ALL; do cmp -s "$1/$f" "$2/$f" || { echo "differs: $f"; return 1; }; done; }

# 1.
"$DPIPE" "${RUN[@]}" -q "$tmp/g" --output-dir "$tmp/ref" || fail "plain run"
for n in 1 2 3; do
  "${MPI[@]}" -n $n "$DPIPE" "${RUN[@]}" -q "$tmp/g" --output-dir "$tmp/r$n" || fail "run with $n ranks"
  $CMP "$tmp/ref" "$tmp/r$n" $NUMERIC $DECISIONS || fail "run with $n ranks differs from the plain run"
done
same "$tmp/ref" "$tmp/r1" || fail "run with 1 rank is not byte-identical to the plain run"
"${MPI[@]}" -n 3 "$DPIPE" "${RUN[@]}" -q "$tmp/g" --output-dir "$tmp/r3b" || fail "run with 3 ranks again"
same "$tmp/r3" "$tmp/r3b" || fail "3 ranks: not byte-identical run to run"
"${MPI[@]}" -n 3 "$DPIPE" "${RUN[@]}" "$tmp/g" --output-dir "$tmp/r3" 2>"$tmp/log" || fail "rerun with 3 ranks"
[ "$(grep -c 'reusing earlier results' "$tmp/log")" -eq 5 ] || fail "rerun did not reuse every pass: $(cat "$tmp/log")"

# 2. One row group for 3 ranks: ranks 0 and 2 scan nothing.
"$DPIPE" gen -q -o "$tmp/small" --rows 500 --cols 10 --files 1 --row-group-rows 1000 --seed 3 || fail "gen small"
"$DPIPE" "${RUN[@]}" -q "$tmp/small" --output-dir "$tmp/sref" || fail "plain run (small)"
"${MPI[@]}" -n 3 "$DPIPE" "${RUN[@]}" -q "$tmp/small" --output-dir "$tmp/s3" || fail "run (small), 3 ranks"
$CMP "$tmp/sref" "$tmp/s3" $NUMERIC $DECISIONS || fail "fewer row groups than ranks"

# 3. Damage the middle of the last file (rank 2's range) but not its footer.
cp -r "$tmp/g" "$tmp/bad"
f="$tmp/bad/part-00002.parquet"
size=$(stat -c %s "$f")
head -c 64 /dev/urandom | dd of="$f" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
start=$(date +%s)
"${MPI[@]}" -n 3 "$DPIPE" "${RUN[@]}" -q "$tmp/bad" --output-dir "$tmp/b" 2>"$tmp/log" </dev/null
rc=$?
[ $rc -eq 1 ] || fail "damaged file: exit $rc, expected 1: $(cat "$tmp/log")"
grep -q "rank 2 (.*): .*part-00002.parquet" "$tmp/log" || fail "message must name the rank, host and file: $(cat "$tmp/log")"
[ "$(grep -c 'part-00002' "$tmp/log")" -eq 1 ] || fail "the failure must be reported once: $(cat "$tmp/log")"
[ $(($(date +%s) - start)) -lt 60 ] || fail "damaged file: the job took too long to stop"

# 4. kill -9 of one rank during the pass-4 scan (checkpoints at every row-group boundary).
"$DPIPE" gen -q -o "$tmp/k" --rows 60000 --cols 40 --files 3 --row-group-rows 2000 --seed 9 || fail "gen k"
KRUN=(run --n-metadata 1 --threads 1 --checkpoint-interval 0)
"${MPI[@]}" -n 3 "$DPIPE" "${KRUN[@]}" -q "$tmp/k" --output-dir "$tmp/kref" || fail "uninterrupted run"
"${MPI[@]}" -n 3 "$DPIPE" "${KRUN[@]}" -q "$tmp/k" --output-dir "$tmp/kk" 2>"$tmp/log" </dev/null &
mp=$!
for _ in $(seq 600); do ls "$tmp/kk"/pass4.checkpoint.rank* >/dev/null 2>&1 && break; sleep 0.05; done
ls "$tmp/kk"/pass4.checkpoint.rank* >/dev/null 2>&1 || { kill $mp; fail "no pass-4 checkpoint appeared"; }
victim=$(pgrep -P $mp | sed -n 2p)
[ -n "$victim" ] || fail "no rank process found under mpirun $mp"
kill -9 "$victim"
t0=$(date +%s)
wait $mp
rc=$?
[ $rc -ne 0 ] || fail "the job survived a killed rank"
[ $(($(date +%s) - t0)) -lt 30 ] || fail "the job took too long to stop after a rank died"
grep -qi "rank" "$tmp/log" || fail "no message about the killed rank: $(cat "$tmp/log")"
"${MPI[@]}" -n 3 "$DPIPE" "${KRUN[@]}" "$tmp/k" --output-dir "$tmp/kk" 2>"$tmp/log" || fail "rerun after kill -9: $(cat "$tmp/log")"
grep -q "ranks resumed from their checkpoints" "$tmp/log" || fail "the rerun did not resume: $(cat "$tmp/log")"
same "$tmp/kref" "$tmp/kk" || fail "outputs after kill -9 and resume differ from the uninterrupted run"
ls "$tmp/kk" | grep -q checkpoint && fail "checkpoints left after the run: $(ls "$tmp/kk")"
echo ok
