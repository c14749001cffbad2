#!/usr/bin/python3
"""Compute RDKit 2D descriptors for the NCI molecules shipped in Debian's rdkit-data.

Step 1 of examples/make_examples.sh. Run with Debian's /usr/bin/python3 (python3-rdkit).
Writes one tab-separated file per output part into OUTDIR (part-0.tsv, ...) plus
meta.json; make_examples.mjs turns the TSV files into Parquet with DuckDB.

Columns: mol_id, smiles (canonical RDKit SMILES), then every descriptor of
rdkit.Chem.Descriptors.descList in that order. A descriptor that raises is written as nan;
values RDKit itself returns as nan/inf are kept as they are: the dataset is meant to show
dpipe real-world missing and infinite values.

Selection: the first --count molecules of the input file, in file order, that RDKit parses.
"""

import argparse
import json
import os
import sys

import numpy

# Debian's RDKit 2022.09.3 computes Ipc with numpy.float, an alias numpy 1.24 removed; without
# this shim every Ipc value would be a spurious nan. Restoring the alias changes nothing else.
if not hasattr(numpy, "float"):
    numpy.float = float

import rdkit  # noqa: E402 - must follow the shim
from rdkit import Chem, RDLogger  # noqa: E402
from rdkit.Chem import Descriptors  # noqa: E402

DEFAULT_INPUT = "/usr/share/RDKit/Data/NCI/first_5K.smi"


def fmt(x):
    # repr() round-trips a double exactly; nan/inf/-inf are spelled so DuckDB can cast them.
    return repr(float(x))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--input", default=DEFAULT_INPUT)
    ap.add_argument("--count", type=int, default=4993, help="molecules to keep")
    ap.add_argument("--parts", default="2400,1600,993",
                    help="rows per output file, comma separated; must sum to --count")
    args = ap.parse_args()

    parts = [int(p) for p in args.parts.split(",")]
    if sum(parts) != args.count or min(parts) <= 0:
        sys.exit("--parts must be positive and sum to --count")

    RDLogger.DisableLog("rdApp.*")  # parse/sanitise warnings would flood stderr
    names = [n for n, _ in Descriptors.descList]
    funcs = [f for _, f in Descriptors.descList]

    rows = []
    read = rejected = raised = 0
    rejected_ids = []
    with open(args.input, encoding="ascii") as fh:
        for line in fh:
            if len(rows) == args.count:
                break
            line = line.rstrip("\n")
            if not line:
                continue
            read += 1
            fields = line.split("\t")
            if len(fields) != 2:
                sys.exit(f"{args.input}: line {read}: expected 'SMILES<TAB>id'")
            smi, mol_id = fields
            mol = Chem.MolFromSmiles(smi)
            if mol is None or mol.GetNumAtoms() == 0:
                rejected += 1
                rejected_ids.append(mol_id)
                continue
            vals = []
            for f in funcs:
                try:
                    vals.append(fmt(f(mol)))
                except Exception:  # noqa: BLE001 - any RDKit failure becomes a missing value
                    raised += 1
                    vals.append("nan")
            rows.append([mol_id, Chem.MolToSmiles(mol)] + vals)

    if len(rows) < args.count:
        sys.exit(f"only {len(rows)} valid molecules in {args.input}, wanted {args.count}")

    os.makedirs(args.outdir, exist_ok=True)
    header = "\t".join(["mol_id", "smiles"] + names) + "\n"
    start = 0
    for i, n in enumerate(parts):
        with open(os.path.join(args.outdir, f"part-{i}.tsv"), "w", encoding="ascii") as out:
            out.write(header)
            for r in rows[start:start + n]:
                out.write("\t".join(r) + "\n")
        start += n

    meta = {
        "source": args.input,
        "lines_read": read,
        "rejected_by_rdkit": rejected,
        "rejected_ids": rejected_ids,
        "molecules": len(rows),
        "parts": parts,
        "rdkit_version": rdkit.__version__,
        "descriptors": len(names),
        "descriptor_calls_raised": raised,
        "descriptor_names": names,
    }
    with open(os.path.join(args.outdir, "meta.json"), "w", encoding="ascii") as out:
        json.dump(meta, out, indent=1)
        out.write("\n")
    print(f"rdkit {rdkit.__version__}: {len(rows)} molecules from {read} lines "
          f"({rejected} rejected), {len(names)} descriptors, {raised} descriptor calls raised",
          file=sys.stderr)


if __name__ == "__main__":
    main()
