#!/bin/sh
# Regenerate examples/nci_rdkit/part-*.parquet from Debian's rdkit-data.
#
# usage: examples/make_examples.sh NODE_DIR
#   NODE_DIR: a directory outside the repository prepared with
#     mkdir -p NODE_DIR && cd NODE_DIR && npm init -y && npm install @duckdb/node-api
# Needs: apt-get install python3-rdkit rdkit-data nodejs (Debian 12: RDKit 2022.09.3).
set -eu
if [ $# -ne 1 ]; then
  echo "usage: $0 NODE_DIR" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Debian's python: the rdkit module is built for it.
/usr/bin/python3 "$here/make_examples.py" "$tmp"
node "$here/make_examples.mjs" "$1" "$tmp" "$here/nci_rdkit"
/usr/bin/python3 "$here/describe_examples.py" "$tmp" --json "$here/nci_rdkit_facts.json"
