/* KLL sketch: see dp_kll.h for the algorithm, its guarantee and the determinism rules. */
#include "transform/dp_kll.h"
#include "util/dp_alloc.h"
#include "util/dp_checksum.h"

#include <float.h>
#include <math.h>
#include <string.h>

#ifndef DP_KLL_L0_CAP
#define DP_KLL_L0_CAP 512
#endif
#define DP_KLL_MAGIC   0x314c4c4bu /* "KLL1" */
#define DP_KLL_VERSION 1u

typedef struct dp_kll_level {
    double *v;   /* level 0: unsorted; levels >= 1: ascending */
    size_t size; /* items held */
    size_t cap;  /* allocated items */
} dp_kll_level;

struct dp_kll {
    int32_t k;
    int32_t n_levels; /* >= 1 */
    uint64_t seed;
    uint64_t n_compactions; /* coin address: hash(seed, n_compactions) */
    int64_t n;              /* total weight = values added */
    double min, max;        /* exact; NaN while n = 0 */
    size_t total_size;      /* items held over all levels */
    size_t total_cap;       /* sum of the level capacities for n_levels */
    /* Per-level pending offset of the next compaction: 0 = draw a fresh coin, 1 or 2 = use
     * offset 0 or 1 (the opposite of the previous draw). */
    uint8_t coin[DP_KLL_MAX_LEVELS];
    size_t cap[DP_KLL_MAX_LEVELS]; /* level capacities for n_levels (derived, not serialised) */
    dp_kll_level lv[DP_KLL_MAX_LEVELS];
    double *scratch; /* promoted items of one compaction */
    size_t scratch_cap;
};

/* ---- sorting --------------------------------------------------------------------------- */

static void dp__insertion_sort(double *x, size_t n) {
    for (size_t i = 1; i < n; i++) {
        double v = x[i];
        size_t j = i;
        while (j > 0 && x[j - 1] > v) {
            x[j] = x[j - 1];
            j--;
        }
        x[j] = v;
    }
}

static inline void dp__swapd(double *a, double *b) {
    double t = *a;
    *a = *b;
    *b = t;
}

static void dp__sift_down(double *x, size_t i, size_t n) {
    double v = x[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && x[c + 1] > x[c])
            c++;
        if (!(x[c] > v))
            break;
        x[i] = x[c];
        i = c;
    }
    x[i] = v;
}

static void dp__heap_sort(double *x, size_t n) {
    for (size_t i = n / 2; i-- > 0;)
        dp__sift_down(x, i, n);
    for (size_t e = n; e-- > 1;) {
        dp__swapd(&x[0], &x[e]);
        dp__sift_down(x, 0, e);
    }
}

/* Introsort with a branch-free Lomuto partition: level-0 compactions sort random data, where a
 * branchy partition mispredicts about half of its comparisons (measured ~15 % faster here).
 * Median-of-three pivots; recursion only into the smaller side; after 2 log2(n) partitions of
 * one range (adversarial input) the range is heap-sorted, so the worst case is O(n log n).
 * Inputs are finite (no NaN), so < is a total order. */
static void dp__introsort(double *x, size_t n, int budget) {
    while (n > 12) {
        if (budget-- <= 0) {
            dp__heap_sort(x, n);
            return;
        }
        size_t m = n / 2;
        if (x[m] < x[0])
            dp__swapd(&x[m], &x[0]);
        if (x[n - 1] < x[m]) {
            dp__swapd(&x[n - 1], &x[m]);
            if (x[m] < x[0])
                dp__swapd(&x[m], &x[0]);
        }
        dp__swapd(&x[m], &x[n - 1]);
        double p = x[n - 1];
        size_t j = 0;
        for (size_t i = 0; i + 1 < n; i++) {
            double v = x[i];
            size_t lt = v < p;
            x[i] = x[j];
            x[j] = v;
            j += lt;
        }
        dp__swapd(&x[j], &x[n - 1]);
        if (j == 0) {
            /* The pivot is the minimum of the range: move every copy of it to the front and
             * drop them, so that long runs of equal values cost O(n) instead of O(n^2). */
            size_t e = 0;
            for (size_t i = 0; i < n; i++) {
                double v = x[i];
                size_t eq = v <= p;
                x[i] = x[e];
                x[e] = v;
                e += eq;
            }
            x += e;
            n -= e;
            continue;
        }
        size_t nl = j, nr = n - j - 1;
        if (nl < nr) {
            dp__introsort(x, nl, budget);
            x += j + 1;
            n = nr;
        } else {
            dp__introsort(x + j + 1, nr, budget);
            n = nl;
        }
    }
    dp__insertion_sort(x, n);
}

void dp__sort_doubles(double *x, size_t n) {
    int budget = 0;
    for (size_t m = n; m > 1; m >>= 1)
        budget += 2;
    dp__introsort(x, n, budget);
}

/* ---- capacities ------------------------------------------------------------------------ */

/* Capacity of the level at depth d below the top: max(MIN_CAP, floor(k (2/3)^d)), in integer
 * arithmetic so that it is identical on every platform. */
static size_t dp__level_cap(int32_t k, int32_t depth) {
    if (depth > 30)
        return DP_KLL_MIN_CAP;
    uint64_t num = (uint64_t) k << depth, den = 1;
    for (int32_t i = 0; i < depth; i++)
        den *= 3;
    uint64_t c = num / den;
    return c < DP_KLL_MIN_CAP ? DP_KLL_MIN_CAP : (size_t) c;
}

static size_t dp__cap(const dp_kll *s, int32_t h) {
    return s->cap[h];
}

/* Capacities for the current level count. Level 0 gets at least DP_KLL_L0_CAP (see there). */
static void dp__recompute_total_cap(dp_kll *s) {
    size_t t = 0;
    for (int32_t h = 0; h < s->n_levels; h++) {
        size_t c = dp__level_cap(s->k, s->n_levels - 1 - h);
        if (h == 0 && c < DP_KLL_L0_CAP)
            c = DP_KLL_L0_CAP;
        s->cap[h] = c;
        t += c;
    }
    s->total_cap = t;
}

/* ---- storage --------------------------------------------------------------------------- */

static dp_status dp__reserve(double **p, size_t *cap, size_t need, dp_error *err) {
    if (need <= *cap)
        return DP_OK;
    size_t nc = *cap ? *cap : 16;
    while (nc < need) {
        if (nc > SIZE_MAX / 16)
            return dp_error_set(err, DP_LIMIT, "KLL sketch: %zu items requested", need);
        nc *= 2;
    }
    double *q = dp_reallocarray(*p, nc, sizeof(double));
    if (q == NULL)
        return dp_error_set(err, DP_NOMEM, "KLL sketch: cannot grow a level to %zu items", nc);
    *p = q;
    *cap = nc;
    return DP_OK;
}

static dp_status dp__level_reserve(dp_kll_level *l, size_t need, dp_error *err) {
    return dp__reserve(&l->v, &l->cap, need, err);
}

static dp_status dp__add_level(dp_kll *s, dp_error *err) {
    if (s->n_levels >= DP_KLL_MAX_LEVELS)
        return dp_error_set(err, DP_LIMIT, "KLL sketch: more than %d levels (n = %lld)",
                            DP_KLL_MAX_LEVELS, (long long) s->n);
    s->n_levels++;
    dp__recompute_total_cap(s);
    return DP_OK;
}

dp_status dp_kll_create(dp_kll **out, int32_t k, uint64_t seed, dp_error *err) {
    *out = NULL;
    if (k < DP_KLL_K_MIN || k > DP_KLL_K_MAX)
        return dp_error_set(err, DP_INVALID_ARG, "KLL sketch: k = %d outside [%d, %d]", (int) k,
                            DP_KLL_K_MIN, DP_KLL_K_MAX);
    dp_kll *s = dp_calloc(1, sizeof *s);
    if (s == NULL)
        return dp_error_set(err, DP_NOMEM, "KLL sketch: out of memory");
    s->k = k;
    s->n_levels = 1;
    s->seed = seed;
    s->min = NAN;
    s->max = NAN;
    dp__recompute_total_cap(s);
    *out = s;
    return DP_OK;
}

void dp_kll_free(dp_kll *s) {
    if (s == NULL)
        return;
    for (int32_t h = 0; h < DP_KLL_MAX_LEVELS; h++)
        dp_free(s->lv[h].v);
    dp_free(s->scratch);
    dp_free(s);
}

dp_status dp_kll_clone(const dp_kll *s, dp_kll **out, dp_error *err) {
    dp_status st = DP_OK;
    dp_kll *c = NULL;
    *out = NULL;
    DP_CHECK(dp_kll_create(&c, s->k, s->seed, err));
    c->n_levels = s->n_levels;
    c->n_compactions = s->n_compactions;
    c->n = s->n;
    c->min = s->min;
    c->max = s->max;
    c->total_size = s->total_size;
    dp__recompute_total_cap(c);
    memcpy(c->coin, s->coin, sizeof c->coin);
    for (int32_t h = 0; h < s->n_levels; h++) {
        DP_CHECK(dp__level_reserve(&c->lv[h], s->lv[h].size, err));
        if (s->lv[h].size > 0)
            memcpy(c->lv[h].v, s->lv[h].v, s->lv[h].size * sizeof(double));
        c->lv[h].size = s->lv[h].size;
    }
    *out = c;
    c = NULL;
cleanup:
    dp_kll_free(c);
    return st;
}

/* ---- compaction ------------------------------------------------------------------------ */

/* Merge sorted b[0..nb) into sorted level l (ascending), in place from the back. */
static dp_status dp__merge_into_level(dp_kll_level *l, const double *b, size_t nb, dp_error *err) {
    if (nb == 0)
        return DP_OK;
    DP_TRY(dp__level_reserve(l, l->size + nb, err));
    double *a = l->v;
    size_t i = l->size, j = nb, o = l->size + nb;
    while (j > 0) {
        if (i > 0 && a[i - 1] > b[j - 1])
            a[--o] = a[--i];
        else
            a[--o] = b[--j];
    }
    l->size += nb;
    return DP_OK;
}

static int dp__coin(dp_kll *s, int32_t h) {
    int off;
    if (s->coin[h] == 0) {
        off = (int) (dp_hash64_combine(s->seed, s->n_compactions) >> 63);
        s->coin[h] = (uint8_t) (2 - off); /* next time: the other offset */
    } else {
        off = s->coin[h] - 1;
        s->coin[h] = 0;
    }
    s->n_compactions++;
    return off;
}

/* Compact level h into level h+1 (creating it when h is the top). */
static dp_status dp__compact(dp_kll *s, int32_t h, dp_error *err) {
    if (h + 1 >= s->n_levels)
        DP_TRY(dp__add_level(s, err));
    dp_kll_level *l = &s->lv[h];
    if (h == 0)
        dp__sort_doubles(l->v, l->size);
    size_t m = l->size, odd = m & 1, pairs = (m - odd) / 2;
    if (pairs == 0)
        return DP_OK;
    DP_TRY(dp__reserve(&s->scratch, &s->scratch_cap, pairs, err));
    /* The odd item out is the smallest; it stays at level h (exact, weight unchanged). */
    size_t off = odd + (size_t) dp__coin(s, h);
    for (size_t t = 0; t < pairs; t++)
        s->scratch[t] = l->v[off + 2 * t];
    l->size = odd;
    DP_TRY(dp__merge_into_level(&s->lv[h + 1], s->scratch, pairs, err));
    s->total_size -= pairs;
    return DP_OK;
}

/* Lazy compression: while the sketch is at or over its total capacity, compact the lowest level
 * that is at or over its own capacity (one exists, since the sizes sum to >= the capacities). */
static dp_status dp__compress(dp_kll *s, dp_error *err) {
    while (s->total_size >= s->total_cap) {
        int32_t h = 0;
        while (h < s->n_levels && s->lv[h].size < dp__cap(s, h))
            h++;
        /* Cannot happen (capacities are >= DP_KLL_MIN_CAP and sum to total_cap); guards the
         * loop against a bad state. */
        if (h == s->n_levels || s->lv[h].size < 2)
            return dp_error_set(err, DP_STATE,
                                "KLL sketch: no level to compact (%zu items, "
                                "capacity %zu)",
                                s->total_size, s->total_cap);
        DP_TRY(dp__compact(s, h, err));
    }
    return DP_OK;
}

/* ---- updates --------------------------------------------------------------------------- */

dp_status dp_kll_update(dp_kll *s, const double *x, size_t n, dp_error *err) {
    size_t i = 0;
    double mn = s->min, mx = s->max;
    if (s->n == 0) {
        mn = INFINITY;
        mx = -INFINITY;
    }
    dp_status st = DP_OK;
    while (i < n) {
        DP_CHECK(dp__compress(s, err));
        size_t room = s->total_cap - s->total_size;
        dp_kll_level *l = &s->lv[0];
        DP_CHECK(dp__level_reserve(l, l->size + room, err));
        double *dst = l->v + l->size;
        size_t filled = 0;
        for (; i < n && filled < room; i++) {
            double v = x[i];
            if (DP_LIKELY(fabs(v) <= DBL_MAX)) {
                v += 0.0; /* -0.0 -> +0.0 */
                dst[filled++] = v;
                mn = v < mn ? v : mn;
                mx = v > mx ? v : mx;
            }
        }
        if (s->n > INT64_MAX / 4 - (int64_t) filled)
            DP_FAIL(err, DP_LIMIT, "KLL sketch: more than 2^61 values");
        l->size += filled;
        s->total_size += filled;
        s->n += (int64_t) filled;
    }
    st = dp__compress(s, err);
cleanup:
    if (s->n > 0) {
        s->min = mn;
        s->max = mx;
    }
    return st;
}

dp_status dp_kll_update_weighted(dp_kll *s, const double *v, const int64_t *w, size_t n,
                                 dp_error *err) {
    if (n == 0)
        return DP_OK;
    int64_t total = 0;
    int32_t top = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(fabs(v[i]) <= DBL_MAX) || w[i] < 1 || (i > 0 && !(v[i - 1] <= v[i])))
            return dp_error_set(err, DP_INVALID_ARG,
                                "KLL weighted update: entry %zu (value %.17g, weight %lld) is "
                                "not finite, ascending and of positive weight",
                                i, v[i], (long long) w[i]);
        if (w[i] > INT64_MAX / 4 - total || s->n > INT64_MAX / 4 - total - w[i])
            return dp_error_set(err, DP_LIMIT, "KLL sketch: more than 2^61 values");
        total += w[i];
        int32_t b = 63 - __builtin_clzll((unsigned long long) w[i]);
        top = b > top ? b : top;
    }
    while (s->n_levels < top + 1)
        DP_TRY(dp__add_level(s, err));
    DP_TRY(dp__reserve(&s->scratch, &s->scratch_cap, n, err));
    for (int32_t h = 0; h <= top; h++) {
        size_t c = 0;
        for (size_t i = 0; i < n; i++)
            if ((w[i] >> h) & 1)
                s->scratch[c++] = v[i] + 0.0;
        if (c == 0)
            continue;
        if (h == 0) {
            dp_kll_level *l = &s->lv[0];
            DP_TRY(dp__level_reserve(l, l->size + c, err));
            memcpy(l->v + l->size, s->scratch, c * sizeof(double));
            l->size += c;
        } else {
            DP_TRY(dp__merge_into_level(&s->lv[h], s->scratch, c, err));
        }
        s->total_size += c;
    }
    double lo = v[0] + 0.0, hi = v[n - 1] + 0.0;
    if (s->n == 0) {
        s->min = lo;
        s->max = hi;
    } else {
        s->min = lo < s->min ? lo : s->min;
        s->max = hi > s->max ? hi : s->max;
    }
    s->n += total;
    return dp__compress(s, err);
}

dp_status dp_kll_merge(dp_kll *dst, const dp_kll *src, dp_error *err) {
    if (dst == src)
        return dp_error_set(err, DP_INVALID_ARG, "KLL merge: a sketch cannot absorb itself");
    if (dst->k != src->k)
        return dp_error_set(err, DP_INVALID_ARG, "KLL merge: k differs (%d vs %d)", (int) dst->k,
                            (int) src->k);
    if (src->n == 0)
        return DP_OK;
    if (dst->n > INT64_MAX / 4 - src->n)
        return dp_error_set(err, DP_LIMIT, "KLL sketch: more than 2^61 values");
    while (dst->n_levels < src->n_levels)
        DP_TRY(dp__add_level(dst, err));
    for (int32_t h = 0; h < src->n_levels; h++) {
        const dp_kll_level *b = &src->lv[h];
        if (b->size == 0)
            continue;
        if (h == 0) {
            dp_kll_level *a = &dst->lv[0];
            DP_TRY(dp__level_reserve(a, a->size + b->size, err));
            memcpy(a->v + a->size, b->v, b->size * sizeof(double));
            a->size += b->size;
        } else {
            DP_TRY(dp__merge_into_level(&dst->lv[h], b->v, b->size, err));
        }
        dst->total_size += b->size;
    }
    if (dst->n == 0) {
        dst->min = src->min;
        dst->max = src->max;
    } else {
        dst->min = src->min < dst->min ? src->min : dst->min;
        dst->max = src->max > dst->max ? src->max : dst->max;
    }
    dst->n += src->n;
    dst->n_compactions += src->n_compactions;
    return dp__compress(dst, err);
}

/* ---- queries --------------------------------------------------------------------------- */

int64_t dp_kll_n(const dp_kll *s) {
    return s->n;
}
int32_t dp_kll_k(const dp_kll *s) {
    return s->k;
}
uint64_t dp_kll_seed(const dp_kll *s) {
    return s->seed;
}
double dp_kll_min(const dp_kll *s) {
    return s->n > 0 ? s->min : NAN;
}
double dp_kll_max(const dp_kll *s) {
    return s->n > 0 ? s->max : NAN;
}
size_t dp_kll_retained(const dp_kll *s) {
    return s->total_size;
}

void dp_kll_items(const dp_kll *s, double *values, int64_t *weights) {
    size_t m = s->lv[0].size;
    if (m > 0)
        memcpy(values, s->lv[0].v, m * sizeof(double));
    dp__sort_doubles(values, m);
    for (size_t i = 0; i < m; i++)
        weights[i] = 1;
    for (int32_t h = 1; h < s->n_levels; h++) {
        const dp_kll_level *l = &s->lv[h];
        int64_t wt = (int64_t) 1 << h;
        size_t i = m, j = l->size, o = m + l->size;
        while (j > 0) {
            if (i > 0 && values[i - 1] > l->v[j - 1]) {
                --o;
                --i;
                values[o] = values[i];
                weights[o] = weights[i];
            } else {
                --o;
                --j;
                values[o] = l->v[j];
                weights[o] = wt;
            }
        }
        m += l->size;
    }
}

size_t dp_kll_sizeof(const dp_kll *s) {
    size_t b = sizeof *s + s->scratch_cap * sizeof(double);
    for (int32_t h = 0; h < DP_KLL_MAX_LEVELS; h++)
        b += s->lv[h].cap * sizeof(double);
    return b;
}

size_t dp_kll_estimate(int32_t k, int64_t n) {
    int32_t levels = 1;
    while (levels < DP_KLL_MAX_LEVELS && ((int64_t) 1 << levels) * k < n)
        levels++;
    size_t total = 0;
    for (int32_t d = 0; d < levels + 1; d++)
        total += dp__level_cap(k, d);
    /* Levels grow by doubling (<= 2x), level 0 may hold the whole budget, plus the scratch. */
    return sizeof(dp_kll) + 4 * total * sizeof(double);
}

/* ---- serialisation --------------------------------------------------------------------- */

void dp__kll_write(const dp_kll *s, dp_serial_writer *w) {
    dp_sw_u32(w, (uint32_t) s->k);
    dp_sw_u32(w, (uint32_t) s->n_levels);
    dp_sw_u64(w, s->seed);
    dp_sw_u64(w, s->n_compactions);
    dp_sw_i64(w, s->n);
    dp_sw_f64(w, s->min);
    dp_sw_f64(w, s->max);
    dp_sw_bytes(w, s->coin, (size_t) s->n_levels);
    for (int32_t h = 0; h < s->n_levels; h++) {
        dp_sw_u64(w, s->lv[h].size);
        dp_sw_f64_array(w, s->lv[h].v, s->lv[h].size);
    }
}

dp_status dp__kll_read(dp_serial_reader *r, dp_kll **out, dp_error *err) {
    dp_status st = DP_OK;
    dp_kll *s = NULL;
    uint32_t k = 0, levels = 0;
    uint64_t seed = 0;
    *out = NULL;
    if (!dp_sr_u32(r, &k) || !dp_sr_u32(r, &levels) || !dp_sr_u64(r, &seed))
        DP_FAIL(err, DP_TRUNCATED, "%s: KLL sketch header cut short", r->what);
    if (k < DP_KLL_K_MIN || k > DP_KLL_K_MAX || levels < 1 || levels > DP_KLL_MAX_LEVELS)
        DP_FAIL(err, DP_CORRUPT, "%s: KLL sketch with k = %u and %u levels", r->what, k, levels);
    DP_CHECK(dp_kll_create(&s, (int32_t) k, seed, err));
    s->n_levels = (int32_t) levels;
    dp__recompute_total_cap(s);
    if (!dp_sr_u64(r, &s->n_compactions) || !dp_sr_i64(r, &s->n) || !dp_sr_f64(r, &s->min) ||
        !dp_sr_f64(r, &s->max) || !dp_sr_bytes(r, s->coin, levels))
        DP_FAIL(err, DP_TRUNCATED, "%s: KLL sketch fields cut short", r->what);
    if (s->n < 0 || s->n > INT64_MAX / 4)
        DP_FAIL(err, DP_CORRUPT, "%s: KLL sketch count %lld", r->what, (long long) s->n);
    if (s->n > 0 && !(fabs(s->min) <= DBL_MAX && fabs(s->max) <= DBL_MAX && s->min <= s->max))
        DP_FAIL(err, DP_CORRUPT, "%s: KLL sketch extremes %.17g, %.17g", r->what, s->min, s->max);
    for (uint32_t h = 0; h < levels; h++)
        if (s->coin[h] > 2)
            DP_FAIL(err, DP_CORRUPT, "%s: KLL coin state %u at level %u", r->what, s->coin[h], h);
    uint64_t weight = 0; /* sum of size * 2^h, compared with n */
    for (uint32_t h = 0; h < levels; h++) {
        uint64_t size = 0;
        if (!dp_sr_u64(r, &size))
            DP_FAIL(err, DP_TRUNCATED, "%s: KLL level %u size cut short", r->what, h);
        if (size > dp_sr_remaining(r) / 8)
            DP_FAIL(err, DP_TRUNCATED, "%s: KLL level %u claims %llu items, %zu bytes left",
                    r->what, h, (unsigned long long) size, dp_sr_remaining(r));
        if (size > 0 && (h >= 62 || size > (UINT64_MAX >> h) || size << h > UINT64_MAX - weight))
            DP_FAIL(err, DP_CORRUPT, "%s: KLL level %u weight overflows", r->what, h);
        weight += size << h;
        dp_kll_level *l = &s->lv[h];
        DP_CHECK(dp__level_reserve(l, (size_t) size, err));
        if (!dp_sr_f64_array(r, l->v, (size_t) size))
            DP_FAIL(err, DP_TRUNCATED, "%s: KLL level %u items cut short", r->what, h);
        l->size = (size_t) size;
        s->total_size += l->size;
        for (size_t i = 0; i < l->size; i++) {
            double v = l->v[i];
            if (!(v >= s->min && v <= s->max) || (h > 0 && i > 0 && l->v[i - 1] > v))
                DP_FAIL(err, DP_CORRUPT,
                        "%s: KLL level %u item %zu (%.17g) unsorted or outside [%.17g, %.17g]",
                        r->what, h, i, v, s->min, s->max);
        }
    }
    if (weight != (uint64_t) s->n)
        DP_FAIL(err, DP_CORRUPT, "%s: KLL items weigh %llu but the sketch counts %lld values",
                r->what, (unsigned long long) weight, (long long) s->n);
    if (s->n == 0) {
        s->min = NAN;
        s->max = NAN;
    }
    *out = s;
    s = NULL;
cleanup:
    dp_kll_free(s);
    return st;
}

dp_status dp_kll_serialize(const dp_kll *s, dp_buf *out, dp_error *err) {
    dp_serial_writer w;
    dp_sw_begin(&w, out, DP_KLL_MAGIC, DP_KLL_VERSION);
    dp__kll_write(s, &w);
    return dp_sw_end(&w, err);
}

dp_status dp_kll_deserialize(const void *data, size_t len, dp_kll **out, dp_error *err) {
    dp_serial_reader r;
    *out = NULL;
    DP_TRY(dp_sr_begin(&r, data, len, DP_KLL_MAGIC, DP_KLL_VERSION, "KLL sketch", NULL, err));
    dp_kll *s = NULL;
    DP_TRY(dp__kll_read(&r, &s, err));
    dp_status st = dp_sr_end(&r, err);
    if (st != DP_OK) {
        dp_kll_free(s);
        return st;
    }
    *out = s;
    return DP_OK;
}
