#!/usr/bin/python3
"""Compare dpipe outputs of a run with several MPI ranks against the single-process run.

usage: mpi_compare.py REF OTHER FILE...   (FILE relative to both REF and OTHER, or "-" to
compare REF and OTHER themselves as files)

By extension:
  .npy   same shape and NaN pattern; |a - b| <= tol * max(|a|, |b|) elementwise
  .json  same structure, keys and strings; numbers within tol (the "null_level" subtree of
         pass 4 is skipped: see docs/cluster.md)
  .tsv   same fields; numeric fields within tol
  other  byte-identical (column lists and other decisions)
Tolerances: 1e-12 relative (floating-point sums taken in another order: merged accumulators
are exact sums of the same terms, so differences stay at a few units of rounding), except for
files of pass 4 and clusters.json, which carry RDC values: RDC whitens each column's feature
block with (C_ii + lambda I)^(-1/2), lambda = 1e-6 tr(C_ii) / k, whose condition number (up to
~1e6) amplifies the ~1e-16 rounding of the sums to ~1e-10; there 1e-9. Exit status 1 on any
difference, with a line per difference.
"""
import json
import math
import sys

import numpy as np

TOL = 1e-12
TOL_RDC = 1e-9


def tol_for(name):
    return TOL_RDC if ("pass4" in name or "rdc" in name or name.endswith("clusters.json")
                       and not name.endswith("pass2_clusters.json")) else TOL


def close(a, b, tol):
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return abs(a - b) <= tol * max(abs(a), abs(b)) or a == b


def cmp_json(a, b, tol, path, out):
    if isinstance(a, dict) and isinstance(b, dict):
        if sorted(a) != sorted(b):
            out.append(f"{path}: keys {sorted(a)} vs {sorted(b)}")
            return
        for k in a:
            if k == "null_level":
                continue
            cmp_json(a[k], b[k], tol, f"{path}/{k}", out)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{path}: {len(a)} vs {len(b)} items")
            return
        for i, (x, y) in enumerate(zip(a, b)):
            cmp_json(x, y, tol, f"{path}[{i}]", out)
    elif isinstance(a, bool) or isinstance(b, bool) or isinstance(a, str) or a is None:
        if a != b:
            out.append(f"{path}: {a!r} vs {b!r}")
    elif isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if not close(float(a), float(b), tol):
            out.append(f"{path}: {a!r} vs {b!r}")
    elif a != b:
        out.append(f"{path}: {a!r} vs {b!r}")


def number(s):
    try:
        return float(s)
    except ValueError:
        return None


def compare(pa, pb, name):
    out = []
    tol = tol_for(name)
    if name.endswith(".npy"):
        a, b = np.load(pa), np.load(pb)
        if a.shape != b.shape:
            return [f"{name}: shape {a.shape} vs {b.shape}"]
        if not np.array_equal(np.isnan(a), np.isnan(b)):
            return [f"{name}: NaN patterns differ"]
        m = ~np.isnan(a)
        d = np.abs(a[m] - b[m])
        lim = tol * np.maximum(np.abs(a[m]), np.abs(b[m]))
        bad = d > lim
        if bad.any():
            i = np.argmax(d - lim)
            out.append(f"{name}: {bad.sum()} entries differ, e.g. {a[m][i]!r} vs {b[m][i]!r}")
    elif name.endswith(".json"):
        cmp_json(json.load(open(pa)), json.load(open(pb)), tol, name, out)
    elif name.endswith(".tsv"):
        la, lb = open(pa).read().splitlines(), open(pb).read().splitlines()
        if len(la) != len(lb):
            return [f"{name}: {len(la)} vs {len(lb)} lines"]
        for n, (x, y) in enumerate(zip(la, lb)):
            fx, fy = x.split("\t"), y.split("\t")
            if len(fx) != len(fy):
                out.append(f"{name}:{n + 1}: field count")
                continue
            for u, v in zip(fx, fy):
                nu, nv = number(u), number(v)
                if nu is not None and nv is not None:
                    if not close(nu, nv, tol):
                        out.append(f"{name}:{n + 1}: {u} vs {v}")
                elif u != v:
                    out.append(f"{name}:{n + 1}: {u!r} vs {v!r}")
    else:
        if open(pa, "rb").read() != open(pb, "rb").read():
            out.append(f"{name}: differs (must be byte-identical)")
    return out


def main():
    ref, other, names = sys.argv[1], sys.argv[2], sys.argv[3:]
    problems = []
    for name in names:
        if name == "-":
            problems += compare(ref, other, ref)
        else:
            problems += compare(f"{ref}/{name}", f"{other}/{name}", name)
    for p in problems[:20]:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
