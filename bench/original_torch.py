#!/usr/bin/env python3
"""original_torch.py: the original pipeline's two float32 GPU passes, re-stated in PyTorch.

Written from /work/shared/ORIGINAL.md (the reconstructed specification of the original Python
system), not from its code:
  section 2.3  the shared copula transform: winsorise at the pass-1 clip bounds, u = np.interp on a
               1000-point quantile table (left 0, right 1), clip to [1e-12, 1 - 1e-12],
               z = ndtri(u), missing -> 0; a Python loop over the columns on the CPU, then float32
               on the device;
  section 2.4  pass 2 "Spearman": chunk = 0.8 * 40e9 / (p * 4 * 3) rows clamped to
               [10,000, 1,000,000]; stage A (mean / std with the original's update
               mean += (chunk_mean - mean) n_c / n, M2 += sum (x - mean_new)^2), stage B
               (standardise, G.addmm_(X^T, X) in float32), G / n, clamp, unit diagonal,
               symmetrised; torch.cuda.empty_cache() after every chunk, gc every 10 chunks;
  section 2.6  pass 4 "HSIC" (r = 8 repetitions of D = 50 features) and "RDC" (r = 8 x 3 seeds of
               d = 20 features): per column a row W[i, :] ~ N(0, 1), features sin(z_i W_ik) built
               by a Python loop over the columns, stage A (per-feature mean / std), stage B
               (standardise, M += Z_flat Z_flat^T over (p, n_chunk d)), M / (n d), clamp; the
               element-wise median over repetitions (RDC: the mean over seeds first). Every
               repetition (and seed) reads the data twice: 2 r + 2 r seeds = 64 passes.
Pass 1 (the quantile tables and clip bounds) is computed once from the rows read and not timed,
as dpipe's pass 1 is not timed in bench/gpu_check.sh's pass comparisons.

Used by bench/gpu_check.sh as the baseline on the same data and GPU. Needs numpy, pyarrow and
torch (scipy optional: torch.special.ndtri otherwise); exits with status 3 and a message when one
is missing, so the script can report "not run".

usage: original_torch.py --pass {2,4} [--max-rows N] [--n-metadata N] [--device cuda:0] INPUT...
Prints one line: pass=.. rows=.. cols=.. seconds=.. rows_per_s=.. data_passes=..
"""

import argparse
import gc
import glob
import os
import sys
import time


def need(module):
    try:
        return __import__(module)
    except ImportError:
        print(f"original_torch.py: {module} is not installed; not run", file=sys.stderr)
        sys.exit(3)


np = need("numpy")
pa = need("pyarrow")
need("pyarrow.dataset")
need("pyarrow.parquet")
torch = need("torch")
import pyarrow.dataset as ds  # noqa: E402

try:
    from scipy.special import ndtri as _ndtri
except ImportError:
    _ndtri = None

MAX_GPU_MEMORY_GB = 40.0  # the original's default (ORIGINAL.md 3.1)
N_POINTS = 1000  # rdc_cdf_resolution
CLIP_LOW, CLIP_HIGH = 0.025, 0.975  # percentile_low / percentile_high


def ndtri(u):
    if _ndtri is not None:
        return _ndtri(u)
    return torch.special.ndtri(torch.from_numpy(u)).numpy()


def input_paths(inputs):
    paths = []
    for item in inputs:
        if os.path.isdir(item):
            paths += sorted(glob.glob(os.path.join(item, "*.parquet")))
        else:
            paths += sorted(glob.glob(item))
    if not paths:
        sys.exit("original_torch.py: no Parquet input")
    return paths


def descriptor_columns(dataset, n_metadata):
    cols = []
    for f in list(dataset.schema)[n_metadata:]:
        if pa.types.is_integer(f.type) or pa.types.is_floating(f.type):
            cols.append(f.name)
    return cols


def chunk_rows(p):
    """GPUMemoryManager.estimate_chunk_size(p, 4) (ORIGINAL.md 2.4)."""
    c = int(0.8 * MAX_GPU_MEMORY_GB * 1e9 / (p * 4 * 3))
    return max(10_000, min(1_000_000, c))


def batches(dataset, cols, chunk, max_rows):
    """One full read of the data (the original re-read the files in every pass)."""
    done = 0
    for b in dataset.to_batches(columns=cols, batch_size=chunk):
        x = np.column_stack(
            [b.column(i).to_numpy(zero_copy_only=False).astype(np.float64) for i in range(len(cols))]
        )
        if done + len(x) > max_rows:
            x = x[: max_rows - done]
        done += len(x)
        if len(x):
            yield x
        if done >= max_rows:
            return


def pass1_tables(dataset, cols, max_rows):
    """Clip bounds and CDF lookup tables (ORIGINAL.md 2.2), from the rows the passes read."""
    x = np.concatenate(list(batches(dataset, cols, 1_000_000, max_rows)))
    q = np.array([i / (N_POINTS - 1) for i in range(N_POINTS)])
    lookups, lo, hi = [], np.zeros(len(cols)), np.zeros(len(cols))
    for j in range(len(cols)):
        v = x[:, j][np.isfinite(x[:, j])]
        if len(v) == 0:
            lookups.append(np.linspace(0, 0, N_POINTS))
            continue
        vals = np.maximum.accumulate(np.quantile(v, q))
        lookups.append(vals)
        lo[j], hi[j] = np.quantile(v, [CLIP_LOW, CLIP_HIGH])
    return lookups, q, lo, hi, len(x)


def copula(x, tables, device):
    """ORIGINAL.md 2.3: clip, interpolate, clip, ndtri; CPU loop over columns; float32 on device."""
    lookups, q, lo, hi = tables
    x = np.clip(x, lo, hi)
    z = np.zeros_like(x)
    for j in range(x.shape[1]):
        col = x[:, j]
        fin = np.isfinite(col)
        u = np.interp(col[fin], lookups[j], q, left=0, right=1)
        u = np.clip(u, 1e-12, 1 - 1e-12)
        z[fin, j] = ndtri(u)
    t = torch.from_numpy(z).to(device=device, dtype=torch.float32)
    return torch.nan_to_num(t, nan=0.0, posinf=0.0, neginf=0.0)


def pass2(dataset, cols, tables, max_rows, device):
    p = len(cols)
    chunk = chunk_rows(p)
    n, mean, m2 = 0, torch.zeros(p, device=device), torch.zeros(p, device=device)
    for k, x in enumerate(batches(dataset, cols, chunk, max_rows)):  # stage A
        t = copula(x, tables, device)
        nc = t.shape[0]
        n += nc
        mean += (t.mean(0) - mean) * nc / n
        m2 += ((t - mean) ** 2).sum(0)
        del t
        torch.cuda.empty_cache()
        if k % 10 == 9:
            gc.collect()
    std = torch.sqrt(m2 / max(n - 1, 1))
    std[std < 1e-10] = 1
    g = torch.zeros(p, p, device=device)
    for k, x in enumerate(batches(dataset, cols, chunk, max_rows)):  # stage B
        t = (copula(x, tables, device) - mean) / std
        g.addmm_(t.T, t)
        del t
        torch.cuda.empty_cache()
        if k % 10 == 9:
            gc.collect()
    g /= n
    g.clamp_(-1, 1)
    g.fill_diagonal_(1)
    g = (g + g.T) / 2
    return g.cpu().numpy(), n, 2


def features(t, w):
    """Z[i, :, k] = sin(z_i W_ik), one column at a time (the original's Python loop)."""
    p, d = w.shape
    z = torch.empty(p, t.shape[0], d, device=t.device)
    for i in range(p):
        z[i] = torch.sin(t[:, i : i + 1] * w[i : i + 1, :])
    return z


def z_correlation(dataset, cols, tables, max_rows, device, w):
    """Two passes: per-feature statistics, then the same-index feature correlation sum."""
    p, d = w.shape
    chunk = chunk_rows(p)
    n, mean, m2 = 0, torch.zeros(p, 1, d, device=device), torch.zeros(p, 1, d, device=device)
    for x in batches(dataset, cols, chunk, max_rows):
        z = features(copula(x, tables, device), w)
        nc = z.shape[1]
        n += nc
        mean += (z.mean(1, keepdim=True) - mean) * nc / n
        m2 += ((z - mean) ** 2).sum(1, keepdim=True)
        del z
        torch.cuda.empty_cache()
    std = torch.sqrt(m2 / max(n - 1, 1))
    std[std < 1e-10] = 1
    m = torch.zeros(p, p, device=device)
    for x in batches(dataset, cols, chunk, max_rows):
        z = (features(copula(x, tables, device), w) - mean) / std
        flat = z.reshape(p, -1)
        m += flat @ flat.T
        del z, flat
        torch.cuda.empty_cache()
    return (m / (n * d)).clamp(-1, 1), n


def pass4(dataset, cols, tables, max_rows, device, seed, r=8, hsic_d=50, rdc_d=20, rdc_seeds=3):
    p = len(cols)
    reps, passes, n = [], 0, 0
    for rep in range(r):
        rng = np.random.default_rng([seed, 1, rep])  # seed_mgr.get_rng('hsic', rep)
        w = torch.from_numpy(rng.standard_normal((p, hsic_d))).float().to(device)
        m, n = z_correlation(dataset, cols, tables, max_rows, device, w)
        reps.append(m)
        passes += 2
    hsic = torch.stack(reps).median(0).values
    reps = []
    for rep in range(r):
        acc = torch.zeros(p, p, device=device)
        for s in range(rdc_seeds):
            rng = np.random.default_rng([seed, 2, rep * rdc_seeds + s])  # get_rng('rdc', ...)
            w = torch.from_numpy(rng.standard_normal((p, rdc_d))).float().to(device)
            m, n = z_correlation(dataset, cols, tables, max_rows, device, w)
            acc += m
            passes += 2
        reps.append(acc / rdc_seeds)
    rdc = torch.stack(reps).median(0).values
    out = []
    for mat in (hsic, rdc):
        mat = (mat + mat.T) / 2
        mat.fill_diagonal_(1)
        out.append(mat.cpu().numpy())
    return out, n, passes


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pass", dest="which", type=int, choices=(2, 4), required=True)
    ap.add_argument("--max-rows", type=int, default=10**15)
    ap.add_argument("--n-metadata", type=int, default=1)
    ap.add_argument("--device", default="cuda:0")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("inputs", nargs="+")
    a = ap.parse_args()
    if a.device.startswith("cuda") and not torch.cuda.is_available():
        print("original_torch.py: torch has no CUDA device; not run", file=sys.stderr)
        sys.exit(3)
    dataset = ds.dataset(input_paths(a.inputs), format="parquet")
    cols = descriptor_columns(dataset, a.n_metadata)
    lookups, q, lo, hi, rows = pass1_tables(dataset, cols, a.max_rows)
    tables = (lookups, q, lo, hi)
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    if a.which == 2:
        _, n, passes = pass2(dataset, cols, tables, a.max_rows, a.device)
    else:
        _, n, passes = pass4(dataset, cols, tables, a.max_rows, a.device, a.seed)
    torch.cuda.synchronize()
    sec = time.perf_counter() - t0
    print(
        f"pass={a.which} rows={n} cols={len(cols)} seconds={sec:.3f} rows_per_s={n / sec:.0f} "
        f"data_passes={passes} device={torch.cuda.get_device_name(0)}"
    )


if __name__ == "__main__":
    main()
