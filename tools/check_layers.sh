#!/usr/bin/env bash
# Enforce the layering rule on #include lines:
#   util -> io -> parquet -> batch -> transform -> accum -> backend -> passes -> pipeline -> cli
# A file in layer L may include headers of L and of layers to its left, public headers
# (dpipe/...), and system headers. One documented exception: backend/dp_backend.h is the
# interface (a table of function pointers) that accumulators call through; accum may include it
# without linking any backend. cli/ may include only public headers (dpipe/...).
set -u
cd "$(dirname "$0")/.."
order=(util io parquet batch transform accum backend passes pipeline)
rank() { local i; for i in "${!order[@]}"; do [ "${order[$i]}" = "$1" ] && echo "$i" && return; done; echo -1; }
bad=0
while IFS= read -r -d '' f; do
  layer=$(echo "$f" | cut -d/ -f2)
  lr=$(rank "$layer")
  [ "$lr" -lt 0 ] && continue
  while IFS= read -r inc; do
    hl=$(echo "$inc" | cut -d/ -f1)
    hr=$(rank "$hl")
    [ "$hr" -lt 0 ] && continue
    if [ "$hr" -gt "$lr" ]; then
      if [ "$layer" = accum ] && [ "$inc" = backend/dp_backend.h ]; then continue; fi
      echo "layering: $f (layer $layer) includes $inc (layer $hl)"
      bad=1
    fi
  done < <(grep -oE '^#include "[^"]+"' "$f" | sed -E 's/#include "([^"]+)"/\1/')
done < <(find src -name '*.c' -o -name '*.h' -o -name '*.cu' | tr '\n' '\0')
while IFS= read -r -d '' f; do
  if grep -nE '^#include "' "$f" | grep -vE '#include "(dpipe/|dp_cli)' ; then
    echo "layering: $f must include only public headers (dpipe/...)"; bad=1
  fi
done < <(find cli -name '*.c' -print0)
exit $bad
