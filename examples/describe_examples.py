#!/usr/bin/python3
"""Facts about the example dataset that a dpipe run on it should reproduce.

usage: describe_examples.py TSV_DIR [--json FILE]
TSV_DIR is make_examples.py's output (part-N.tsv, meta.json). Step 3 of make_examples.sh.

Reports constant columns, identical columns, cardinalities, columns with nan / +-inf, and descriptor pairs with
|Spearman rho| > 0.95. Spearman here follows METHODS.md's `pairwise` policy
(scipy.stats.spearmanr with nan_policy='omit' on each pair): +-inf counts as missing, rows
missing in either column are dropped and the rest re-ranked with average ranks.
"""

import argparse
import json
import os

import numpy as np
from scipy.stats import rankdata


def load(tsv_dir):
    with open(os.path.join(tsv_dir, "meta.json"), encoding="ascii") as fh:
        meta = json.load(fh)
    rows = []
    for i in range(len(meta["parts"])):
        with open(os.path.join(tsv_dir, f"part-{i}.tsv"), encoding="ascii") as fh:
            header = fh.readline().rstrip("\n").split("\t")
            assert header[2:] == meta["descriptor_names"], "header differs from meta.json"
            for line in fh:
                rows.append([float(v) for v in line.rstrip("\n").split("\t")[2:]])
    return meta["descriptor_names"], np.array(rows, dtype=np.float64)


def spearman_pairwise(x, y):
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3:
        return np.nan
    rx, ry = rankdata(x[ok]), rankdata(y[ok])
    if rx.std() == 0 or ry.std() == 0:
        return np.nan
    return float(np.corrcoef(rx, ry)[0, 1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("tsv_dir")
    ap.add_argument("--json")
    args = ap.parse_args()

    names, X = load(args.tsv_dir)
    n, p = X.shape
    finite = np.isfinite(X)
    nan_cols = {names[j]: int(np.isnan(X[:, j]).sum()) for j in range(p)
                if np.isnan(X[:, j]).any()}
    inf_cols = {names[j]: int(np.isinf(X[:, j]).sum()) for j in range(p)
                if np.isinf(X[:, j]).any()}

    def is_constant(j):
        v = X[finite[:, j], j]
        return v.size == 0 or v.min() == v.max()

    const = [names[j] for j in range(p) if is_constant(j)]
    live = [j for j in range(p) if not is_constant(j)]
    identical = [[names[j], names[k]] for a, j in enumerate(live) for k in live[a + 1:]
                 if np.array_equal(X[:, j], X[:, k], equal_nan=True)]
    # Distinct finite values per column: low-cardinality columns get exact value tables.
    card = [len(np.unique(X[finite[:, j], j])) for j in range(p)]

    # Columns without missing values: one rank matrix, one correlation matrix.
    full = [j for j in live if finite[:, j].all()]
    part = [j for j in live if not finite[:, j].all()]
    R = np.apply_along_axis(rankdata, 0, X[:, full])
    C = np.corrcoef(R, rowvar=False)
    rho = {}
    for a in range(len(full)):
        for b in range(a + 1, len(full)):
            rho[(full[a], full[b])] = float(C[a, b])
    for j in part:
        for k in live:
            if k != j and (min(j, k), max(j, k)) not in rho:
                rho[(min(j, k), max(j, k))] = spearman_pairwise(X[:, j], X[:, k])

    high = sorted(((abs(r), names[j], names[k], r) for (j, k), r in rho.items()
                   if np.isfinite(r) and abs(r) > 0.95), reverse=True)
    # Connected components of the |rho| > 0.95 graph: a lower bound on what pass 2 merges.
    parent = list(range(p))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    idx = {nm: j for j, nm in enumerate(names)}
    for _, a, b, _ in high:
        parent[find(idx[a])] = find(idx[b])
    groups = {}
    for _, a, b, _ in high:
        for nm in (a, b):
            groups.setdefault(find(idx[nm]), set()).add(nm)
    groups = sorted((sorted(g) for g in groups.values()), key=lambda g: (-len(g), g))

    print(f"{n} rows x {p} descriptor columns")
    print(f"constant (all finite values equal): {len(const)}: {', '.join(const)}")
    print(f"identical non-constant pairs: {identical}")
    print(f"distinct finite values per column: <= 2: {sum(c <= 2 for c in card)}, "
          f"<= 10: {sum(c <= 10 for c in card)}, <= 100: {sum(c <= 100 for c in card)}, "
          f"max {max(card)}")
    print(f"columns with nan: {len(nan_cols)}: {nan_cols}")
    print(f"columns with +-inf: {len(inf_cols)}: {inf_cols}")
    print(f"rows with any nan/inf: {int((~finite).any(axis=1).sum())}")
    print(f"pairs with |Spearman| > 0.95 (pairwise complete, {len(rho)} pairs of "
          f"{len(live)} non-constant columns): {len(high)}")
    for a, b_, c, r in high[:25]:
        print(f"  {b_:24s} {c:24s} {r:+.6f}")
    print(f"connected groups of the |rho| > 0.95 graph: {len(groups)}, "
          f"{sum(len(g) for g in groups)} columns, sizes {[len(g) for g in groups]}")

    if args.json:
        facts = {
            "rows": n,
            "descriptor_columns": p,
            "constant_columns": const,
            "identical_nonconstant_pairs": identical,
            "distinct_finite_values": dict(zip(names, card)),
            "nan_counts": nan_cols,
            "inf_counts": inf_cols,
            "spearman_policy": "pairwise complete, +-inf as missing, average ranks",
            "spearman_abs_gt_0_95": [[b_, c, round(r, 9)] for _, b_, c, r in high],
            "spearman_groups_0_95": groups,
        }
        with open(args.json, "w", encoding="ascii") as out:
            json.dump(facts, out, indent=1)
            out.write("\n")


if __name__ == "__main__":
    main()
