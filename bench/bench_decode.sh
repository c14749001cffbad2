#!/usr/bin/env bash
# Decode throughput of dpipe's Parquet reader against DuckDB's scan of the same columns (issue 2),
# and multi-file scan throughput and peak RSS with 1 and 2 threads (issue 3).
#   bench/bench_decode.sh [BUILD_DIR] [WORK_DIR]
# Needs node and the npm package @duckdb/node-api (DP_DUCKDB_NODE_MODULES=<dir>/node_modules).
# Data: 1,000,000 rows x 200 DOUBLE columns written by DuckDB (ZSTD and SNAPPY, one file), and
# the same in 4 ZSTD files. Prints one table; nothing is asserted.
set -euo pipefail
BUILD=${1:-build}
WORK=${2:-/tmp/dpipe-bench}
ROWS=${ROWS:-1000000}
COLS=${COLS:-200}
NM=${DP_DUCKDB_NODE_MODULES:-/work/scratch-examples/node_modules}
HERE=$(cd "$(dirname "$0")" && pwd)
DPIPE=$BUILD/cli/dpipe
[ -x "$DPIPE" ] || { echo "build dpipe first ($DPIPE)"; exit 1; }
[ -d "$NM/@duckdb/node-api" ] || { echo "DuckDB for Node not found in $NM (npm install @duckdb/node-api)"; exit 1; }
mkdir -p "$WORK"
export DP_DUCKDB_NODE_MODULES=$NM
duck() { node "$HERE/duckdb_tool.mjs" "$@"; }
for codec in zstd snappy; do
  f=$WORK/d_${ROWS}x${COLS}_$codec.parquet
  [ -f "$f" ] || duck gen-doubles "$f" "$ROWS" "$COLS" "$codec" >/dev/null
done
d4=$WORK/d_${ROWS}x${COLS}_zstd_4files
[ -d "$d4" ] || duck gen-doubles "$d4" "$ROWS" "$COLS" zstd 4 >/dev/null

rss() { /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -1; }
best() { # best of 3 seconds of a command printing JSON with "seconds"
  local b=1e9
  for _ in 1 2 3; do
    s=$("$@" | sed -E 's/.*"seconds":([0-9.e+-]+).*/\1/')
    b=$(awk -v a="$b" -v c="$s" 'BEGIN{print (c<a)?c:a}')
  done
  echo "$b"
}
printf '%-28s %-8s %8s %10s %12s %10s\n' dataset reader threads seconds rows/s peak_RSS_MB
for spec in "zstd:$WORK/d_${ROWS}x${COLS}_zstd.parquet" "snappy:$WORK/d_${ROWS}x${COLS}_snappy.parquet" "zstd-4files:$d4"; do
  name=${spec%%:*}; path=${spec#*:}
  glob=$path; [ -d "$path" ] && glob="$path/*.parquet"
  for t in 1 2; do
    s=$(best "$DPIPE" bench scan --json --threads "$t" "$path")
    m=$(rss "$DPIPE" bench scan --json --threads "$t" "$path")
    printf '%-28s %-8s %8s %10.3f %12.0f %10.1f\n' "$name" dpipe "$t" "$s" "$(awk -v r=$ROWS -v s=$s 'BEGIN{print r/s}')" "$(awk -v k=$m 'BEGIN{print k/1024}')"
    s=$(best duck scan "$t" "$glob")
    m=$(rss node "$HERE/duckdb_tool.mjs" scan "$t" "$glob")
    printf '%-28s %-8s %8s %10.3f %12.0f %10.1f\n' "$name" duckdb "$t" "$s" "$(awk -v r=$ROWS -v s=$s 'BEGIN{print r/s}')" "$(awk -v k=$m 'BEGIN{print k/1024}')"
  done
done
