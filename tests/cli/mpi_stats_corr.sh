#!/usr/bin/env bash
# `dpipe stats` and `dpipe corr` (every method) distributed over 1, 2 and 3 MPI ranks on a
# generated 3-file dataset (9 row groups): one rank is byte-identical to the plain process; 2 and 3
# ranks equal it within the tolerances of tests/cli/mpi_compare.py with identical decisions
# (kept columns, cluster members); a fixed rank count is byte-identical run to run; datasets
# with fewer row groups than ranks (ranks with no rows, rank 0 among them) agree too. Every column has an exact
# value table (--exact-distinct above the row count): a KLL sketch's merge order would change its
# quantiles within the sketch's rank error (docs/cluster.md), which is checked separately below.
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
"$DPIPE" gen -q -o "$tmp/small" --rows 500 --cols 10 --files 1 --row-group-rows 300 --seed 3 || fail "gen small"
COMMON=(--n-metadata 1 --threads 1 --exact-distinct 8192)
METHODS="pearson spearman gaussian hsic rdc"

# corr/stats: DIR TAG [launcher...]
one() {
  local data=$1 tag=$2
  shift 2
  "$@" "$DPIPE" stats -q "$tmp/$data" "${COMMON[@]}" -o "$tmp/$tag.stats.tsv" || fail "stats $tag"
  for m in $METHODS; do
    "$@" "$DPIPE" corr -q "$tmp/$data" "${COMMON[@]}" -m $m --clusters -o "$tmp/$tag.$m.npy" \
      >"$tmp/$tag.$m.out" || fail "corr -m $m $tag"
  done
}
# The printed clusters with their similarities (4 decimals) replaced: the members must agree.
names_only() { sed -E 's/\([-0-9.e]+\)//g' "$1"; }

one g ref
for n in 1 2 3; do
  one g mpi$n "${MPI[@]}" -n $n
done
for n in 1 2 3; do
  if [ $n -eq 1 ]; then
    cmp -s "$tmp/ref.stats.tsv" "$tmp/mpi1.stats.tsv" || fail "stats with 1 rank is not byte-identical"
  fi
  $CMP "$tmp/ref.stats.tsv" "$tmp/mpi$n.stats.tsv" - || fail "stats with $n ranks"
  for m in $METHODS; do
    if [ $n -eq 1 ]; then
      cmp -s "$tmp/ref.$m.npy" "$tmp/mpi1.$m.npy" || fail "corr -m $m with 1 rank is not byte-identical"
    fi
    $CMP "$tmp/ref.$m.npy" "$tmp/mpi$n.$m.npy" - || fail "corr -m $m with $n ranks"
    cmp -s "$tmp/ref.$m.npy.columns.txt" "$tmp/mpi$n.$m.npy.columns.txt" || fail "corr -m $m columns, $n ranks"
    [ "$(names_only "$tmp/ref.$m.out")" = "$(names_only "$tmp/mpi$n.$m.out")" ] ||
      fail "corr -m $m clusters with $n ranks: $(diff "$tmp/ref.$m.out" "$tmp/mpi$n.$m.out")"
  done
done

# Byte-identical run to run for a fixed rank count.
one g again3 "${MPI[@]}" -n 3
cmp -s "$tmp/mpi3.stats.tsv" "$tmp/again3.stats.tsv" || fail "stats, 3 ranks: not byte-identical run to run"
for m in $METHODS; do
  cmp -s "$tmp/mpi3.$m.npy" "$tmp/again3.$m.npy" || fail "corr -m $m, 3 ranks: not byte-identical run to run"
done

# Fewer row groups than ranks: "small" has 2 row groups (rank 1 of 3 scans nothing), "one" has
# one (its middle row falls in rank 1's share: ranks 0 and 2 scan nothing).
"$DPIPE" gen -q -o "$tmp/one" --rows 500 --cols 10 --files 1 --row-group-rows 1000 --seed 4 || fail "gen one"
for d in small one; do
  "$DPIPE" stats -q "$tmp/$d" "${COMMON[@]}" -o "$tmp/$d.ref.tsv" || fail "stats $d"
  "${MPI[@]}" -n 3 "$DPIPE" stats -q "$tmp/$d" "${COMMON[@]}" -o "$tmp/$d.3.tsv" || fail "stats $d, 3 ranks"
  $CMP "$tmp/$d.ref.tsv" "$tmp/$d.3.tsv" - || fail "stats with fewer row groups than ranks ($d)"
  for m in spearman hsic; do
    "$DPIPE" corr -q "$tmp/$d" "${COMMON[@]}" -m $m -o "$tmp/$d.ref.$m.npy" || fail "corr $d"
    "${MPI[@]}" -n 3 "$DPIPE" corr -q "$tmp/$d" "${COMMON[@]}" -m $m -o "$tmp/$d.3.$m.npy" || fail "corr $d, 3 ranks"
    $CMP "$tmp/$d.ref.$m.npy" "$tmp/$d.3.$m.npy" - || fail "corr -m $m with fewer row groups than ranks ($d)"
  done
done

# KLL-sketched columns (default --exact-distinct 4096 < 6000 rows): byte-identical for a fixed
# rank count; counts, extremes and means still within 1e-12 of the plain process (the
# quantile-based fields move within the sketch's rank error).
S=(--n-metadata 1 --threads 1)
"$DPIPE" stats -q "$tmp/g" "${S[@]}" -o "$tmp/k.ref.tsv" || fail "stats (sketch)"
"${MPI[@]}" -n 2 "$DPIPE" stats -q "$tmp/g" "${S[@]}" -o "$tmp/k.2a.tsv" || fail "stats (sketch), 2 ranks"
"${MPI[@]}" -n 2 "$DPIPE" stats -q "$tmp/g" "${S[@]}" -o "$tmp/k.2b.tsv" || fail "stats (sketch), 2 ranks again"
cmp -s "$tmp/k.2a.tsv" "$tmp/k.2b.tsv" || fail "stats with sketches, 2 ranks: not byte-identical run to run"
for f in ref 2a; do cut -f1-13 "$tmp/k.$f.tsv" >"$tmp/k.$f.moments.tsv"; done
$CMP "$tmp/k.ref.moments.tsv" "$tmp/k.2a.moments.tsv" - || fail "stats (sketch): moments differ"
echo ok
