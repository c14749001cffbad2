/* KLL sketch: see dp_kll.h for the algorithm, its guarantee and the determinism rules.
 *
 * Storage: one buffer of total_cap doubles holding every level, DataSketches-style: free space
 * first, then level 0 (unsorted, filled downwards), then levels 1, 2, ... (each ascending), the
 * top level last. start[h] is where level h begins; start[n_levels] is the buffer's end. The
 * buffer is exactly the capacity budget, so a sketch holds ~(3k + 512) doubles however it got
 * there (separate growable level arrays took ~6x that). */
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

struct dp_kll {
    int32_t k;
    int32_t n_levels; /* >= 1 */
    uint64_t seed;
    uint64_t n_compactions;        /* coin address: hash(seed, n_compactions) */
    int64_t n;                     /* total weight = values added */
    double min, max;               /* exact; NaN while n = 0 */
    size_t total_cap;              /* sum of the level capacities for n_levels */
    size_t cap[DP_KLL_MAX_LEVELS]; /* level capacities (derived, not serialised) */
    /* Per-level pending offset of the next compaction: 0 = draw a fresh coin, 1 or 2 = use
     * offset 0 or 1 (the opposite of the previous draw). */
    uint8_t coin[DP_KLL_MAX_LEVELS];
    double *items;                       /* items_cap doubles */
    size_t items_cap;                    /* == total_cap between operations */
    size_t start[DP_KLL_MAX_LEVELS + 1]; /* level h = items[start[h] .. start[h+1]) */
    double *scratch;                     /* promoted items of one compaction */
    size_t scratch_cap;
};

static inline size_t dp__lsize(const dp_kll *s, int32_t h) {
    return s->start[h + 1] - s->start[h];
}

static inline size_t dp__total_size(const dp_kll *s) {
    return s->items_cap - s->start[0];
}

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

/* Order-preserving map of a double's bits to an unsigned key (negative: all bits flipped;
 * otherwise the sign bit set), so that unsigned order is numeric order for non-NaN values. */
static inline uint64_t dp__dkey(double v) {
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return (u >> 63) ? ~u : u | (UINT64_C(1) << 63);
}

static inline double dp__dkey_inv(uint64_t k) {
    uint64_t u = (k >> 63) ? k & ~(UINT64_C(1) << 63) : ~k;
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

#define DP__RADIX_MAX 1024

/* One stable counting pass on the byte at bit `sh`; c is that byte's histogram (turned into
 * offsets here). */
static void dp__radix_pass(const uint64_t *src, uint64_t *dst, size_t n, uint32_t *c, unsigned sh) {
    uint32_t sum = 0;
    for (int v = 0; v < 256; v++) {
        uint32_t t = c[v];
        c[v] = sum;
        sum += t;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t k = src[i];
        dst[c[(k >> sh) & 0xff]++] = k;
    }
}

/* Stable LSD sort of key[0..n) by its 32-bit half at bit `base` (0 or 32), tmp as scratch. A
 * byte that every key shares (a column's sign and exponent, mostly) costs no pass. */
static void dp__radix_half(uint64_t *key, uint64_t *tmp, size_t n, unsigned base) {
    uint32_t cnt[4][256];
    memset(cnt, 0, sizeof cnt);
    for (size_t i = 0; i < n; i++) {
        uint64_t k = key[i] >> base;
        cnt[0][k & 0xff]++;
        cnt[1][(k >> 8) & 0xff]++;
        cnt[2][(k >> 16) & 0xff]++;
        cnt[3][(k >> 24) & 0xff]++;
    }
    uint64_t *src = key, *dst = tmp;
    for (unsigned p = 0; p < 4; p++) {
        unsigned sh = base + 8 * p;
        if (cnt[p][(src[0] >> sh) & 0xff] == n)
            continue;
        dp__radix_pass(src, dst, n, cnt[p], sh);
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != key)
        memcpy(key, src, n * sizeof *key);
}

/* Radix sort for level-0 compactions, which sort ~512 random values: there a comparison sort
 * mispredicts about half of its branches (introsort was ~45 % of Pass 1 on continuous columns;
 * this is ~3x faster). Keys are sorted by their high 32 bits (sign, exponent, 20 mantissa bits),
 * then each run of equal high halves by the low halves: insertion sort for short runs (ties are
 * rare in continuous data, and equal values cost nothing), a second radix sort for long ones, so
 * the worst case stays 8 linear passes. The result is the ascending order, as from the
 * comparison sort. */
static void dp__radix_sort(double *x, size_t n) {
    uint64_t key[DP__RADIX_MAX], tmp[DP__RADIX_MAX];
    for (size_t i = 0; i < n; i++)
        key[i] = dp__dkey(x[i]);
    dp__radix_half(key, tmp, n, 32);
    for (size_t i = 0; i < n;) {
        uint64_t hi = key[i] >> 32;
        size_t j = i + 1;
        while (j < n && key[j] >> 32 == hi)
            j++;
        if (j - i > 32) {
            dp__radix_half(key + i, tmp, j - i, 0);
        } else {
            for (size_t t = i + 1; t < j; t++) {
                uint64_t k = key[t];
                size_t u = t;
                while (u > i && key[u - 1] > k) {
                    key[u] = key[u - 1];
                    u--;
                }
                key[u] = k;
            }
        }
        i = j;
    }
    for (size_t i = 0; i < n; i++)
        x[i] = dp__dkey_inv(key[i]);
}

void dp__sort_doubles(double *x, size_t n) {
    if (n >= 64 && n <= DP__RADIX_MAX) {
        dp__radix_sort(x, n);
        return;
    }
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

/* Capacities for the current level count; level 0 gets at least DP_KLL_L0_CAP (dp_kll.h). */
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
    double *q = dp_reallocarray(*p, need, sizeof(double));
    if (q == NULL)
        return dp_error_set(err, DP_NOMEM, "KLL sketch: cannot allocate %zu items", need);
    *p = q;
    *cap = need;
    return DP_OK;
}

/* Move the levels into a buffer of new_cap (>= items held) items, packed at its end. */
static dp_status dp__resize_buffer(dp_kll *s, size_t new_cap, dp_error *err) {
    size_t used = dp__total_size(s);
    if (new_cap == s->items_cap)
        return DP_OK;
    double *b = dp_mallocarray(new_cap ? new_cap : 1, sizeof(double));
    if (b == NULL)
        return dp_error_set(err, DP_NOMEM, "KLL sketch: cannot allocate %zu items", new_cap);
    if (used > 0)
        memcpy(b + new_cap - used, s->items + s->start[0], used * sizeof(double));
    for (int32_t h = 0; h <= s->n_levels; h++)
        s->start[h] = new_cap - (s->items_cap - s->start[h]); /* same distance from the end */
    dp_free(s->items);
    s->items = b;
    s->items_cap = new_cap;
    return DP_OK;
}

static dp_status dp__add_level(dp_kll *s, dp_error *err) {
    if (s->n_levels >= DP_KLL_MAX_LEVELS)
        return dp_error_set(err, DP_LIMIT, "KLL sketch: more than %d levels (n = %lld)",
                            DP_KLL_MAX_LEVELS, (long long) s->n);
    s->start[s->n_levels + 1] = s->start[s->n_levels]; /* the new top level is empty */
    s->n_levels++;
    dp__recompute_total_cap(s);
    if (s->items_cap < s->total_cap)
        return dp__resize_buffer(s, s->total_cap, err);
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
    s->items = dp_mallocarray(s->total_cap, sizeof(double));
    if (s->items == NULL) {
        dp_free(s);
        return dp_error_set(err, DP_NOMEM, "KLL sketch: out of memory");
    }
    s->items_cap = s->total_cap;
    s->start[0] = s->start[1] = s->items_cap;
    *out = s;
    return DP_OK;
}

void dp_kll_free(dp_kll *s) {
    if (s == NULL)
        return;
    dp_free(s->items);
    dp_free(s->scratch);
    dp_free(s);
}

dp_status dp_kll_clone(const dp_kll *s, dp_kll **out, dp_error *err) {
    *out = NULL;
    dp_kll *c = dp_calloc(1, sizeof *c);
    if (c == NULL)
        return dp_error_set(err, DP_NOMEM, "KLL sketch: out of memory");
    *c = *s;
    c->scratch = NULL;
    c->scratch_cap = 0;
    c->items = dp_mallocarray(s->items_cap ? s->items_cap : 1, sizeof(double));
    if (c->items == NULL) {
        dp_free(c);
        return dp_error_set(err, DP_NOMEM, "KLL sketch: out of memory");
    }
    memcpy(c->items, s->items, s->items_cap * sizeof(double));
    *out = c;
    return DP_OK;
}

/* ---- compaction ------------------------------------------------------------------------ */

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
    double *it = s->items;
    size_t a = s->start[h], b = s->start[h + 1], e = s->start[h + 2], m = b - a;
    if (h == 0)
        dp__sort_doubles(it + a, m);
    size_t odd = m & 1, p = (m - odd) / 2;
    if (p == 0)
        return DP_OK;
    DP_TRY(dp__reserve(&s->scratch, &s->scratch_cap, p, err));
    /* The odd item out is the smallest; it stays at level h (exact, weight unchanged). */
    double leftover = it[a];
    size_t off = a + odd + (size_t) dp__coin(s, h);
    for (size_t t = 0; t < p; t++)
        s->scratch[t] = it[off + 2 * t];
    /* Merge the promoted run with level h+1 into [b - p, e), front to back: the write position
     * never passes the next unread item of level h+1, and when the promoted run is used up the
     * rest of level h+1 is already in place. */
    size_t d = b - p, i = 0, j = b;
    const double *sc = s->scratch;
    while (i < p && j < e) {
        /* Branch-free: which side goes next is a coin flip on random data. */
        double u = it[j], v = sc[i];
        size_t take_j = u < v;
        it[d++] = take_j ? u : v;
        j += take_j;
        i += 1 - take_j;
    }
    while (i < p)
        it[d++] = sc[i++];
    /* Level h keeps `odd` items right below level h+1; the levels under it move up by p. */
    if (odd)
        it[b - p - 1] = leftover;
    size_t below = a - s->start[0];
    if (below > 0)
        memmove(it + s->start[0] + p, it + s->start[0], below * sizeof(double));
    for (int32_t g = 0; g <= h; g++)
        s->start[g] += p;
    s->start[h + 1] = b - p;
    return DP_OK;
}

/* Lazy compression: while the sketch is at or over its total capacity, compact the lowest level
 * that is at or over its own capacity (one exists, since the sizes sum to >= the capacities). */
static dp_status dp__compress(dp_kll *s, dp_error *err) {
    while (dp__total_size(s) >= s->total_cap) {
        int32_t h = 0;
        while (h < s->n_levels && dp__lsize(s, h) < dp__cap(s, h))
            h++;
        /* Cannot happen (capacities are >= DP_KLL_MIN_CAP and sum to total_cap); guards the
         * loop against a bad state. */
        if (h == s->n_levels || dp__lsize(s, h) < 2)
            return dp_error_set(err, DP_STATE,
                                "KLL sketch: no level to compact (%zu items, capacity %zu)",
                                dp__total_size(s), s->total_cap);
        DP_TRY(dp__compact(s, h, err));
    }
    /* Back to a buffer of exactly the budget (after merges it can be larger), and drop a scratch
     * that a merge inflated. */
    if (s->items_cap != s->total_cap)
        DP_TRY(dp__resize_buffer(s, s->total_cap, err));
    if (s->scratch_cap > s->total_cap / 2 + 64) {
        dp_free(s->scratch);
        s->scratch = NULL;
        s->scratch_cap = 0;
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
        size_t room = s->total_cap - dp__total_size(s);
        /* Level 0 grows downwards into the free space in front of it. */
        double *it = s->items;
        size_t pos = s->start[0], stop = pos - room;
        for (; i < n && pos > stop; i++) {
            double v = x[i];
            if (DP_LIKELY(fabs(v) <= DBL_MAX)) {
                v += 0.0; /* -0.0 -> +0.0 */
                it[--pos] = v;
                mn = v < mn ? v : mn;
                mx = v > mx ? v : mx;
            }
        }
        size_t filled = s->start[0] - pos;
        if (s->n > INT64_MAX / 4 - (int64_t) filled)
            DP_FAIL(err, DP_LIMIT, "KLL sketch: more than 2^61 values");
        s->start[0] = pos;
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

/* dst absorbs the items of src (level by level), its count and extremes, then compresses. Used
 * by merge and by weighted updates (src then a temporary sketch). */
static dp_status dp__absorb(dp_kll *dst, const dp_kll *src, dp_error *err) {
    dp_status st = DP_OK;
    double *b = NULL;
    int32_t levels = dst->n_levels > src->n_levels ? dst->n_levels : src->n_levels;
    size_t used = dp__total_size(dst) + dp__total_size(src);
    size_t old_start[DP_KLL_MAX_LEVELS + 1];
    memcpy(old_start, dst->start, sizeof old_start);
    int32_t old_levels = dst->n_levels;
    dst->n_levels = levels;
    dp__recompute_total_cap(dst);
    size_t cap = used > dst->total_cap ? used : dst->total_cap;
    b = dp_mallocarray(cap, sizeof(double));
    if (b == NULL) {
        dst->n_levels = old_levels;
        dp__recompute_total_cap(dst);
        DP_FAIL(err, DP_NOMEM, "KLL merge: cannot allocate %zu items", cap);
    }
    /* Lay the levels out from the top down, at the end of the new buffer. */
    size_t end = cap;
    for (int32_t h = levels - 1; h >= 0; h--) {
        const double *pa = h < old_levels ? dst->items + old_start[h] : NULL;
        size_t na = h < old_levels ? old_start[h + 1] - old_start[h] : 0;
        const double *pb = h < src->n_levels ? src->items + src->start[h] : NULL;
        size_t nb = h < src->n_levels ? dp__lsize(src, h) : 0;
        size_t beg = end - na - nb;
        if (h == 0) {
            if (na)
                memcpy(b + beg, pa, na * sizeof(double));
            if (nb)
                memcpy(b + beg + na, pb, nb * sizeof(double));
        } else {
            size_t i = 0, j = 0, o = beg;
            while (i < na || j < nb)
                b[o++] = (j == nb || (i < na && pa[i] <= pb[j])) ? pa[i++] : pb[j++];
        }
        dst->start[h + 1] = end;
        dst->start[h] = beg;
        end = beg;
    }
    dp_free(dst->items);
    dst->items = b;
    dst->items_cap = cap;
    if (dst->n == 0) {
        dst->min = src->min;
        dst->max = src->max;
    } else if (src->n > 0) {
        dst->min = src->min < dst->min ? src->min : dst->min;
        dst->max = src->max > dst->max ? src->max : dst->max;
    }
    dst->n += src->n;
    dst->n_compactions += src->n_compactions;
    st = dp__compress(dst, err);
cleanup:
    return st;
}

dp_status dp_kll_update_weighted(dp_kll *s, const double *v, const int64_t *w, size_t n,
                                 dp_error *err) {
    if (n == 0)
        return DP_OK;
    int64_t total = 0;
    int32_t top = 0;
    size_t count = 0; /* items: set bits over all weights */
    for (size_t i = 0; i < n; i++) {
        if (!(fabs(v[i]) <= DBL_MAX) || w[i] < 1 || (i > 0 && !(v[i - 1] <= v[i])))
            return dp_error_set(err, DP_INVALID_ARG,
                                "KLL weighted update: entry %zu (value %.17g, weight %lld) is "
                                "not finite, ascending and of positive weight",
                                i, v[i], (long long) w[i]);
        if (w[i] > INT64_MAX / 4 - total || s->n > INT64_MAX / 4 - total - w[i])
            return dp_error_set(err, DP_LIMIT, "KLL sketch: more than 2^61 values");
        total += w[i];
        int32_t bit = 63 - __builtin_clzll((unsigned long long) w[i]);
        top = bit > top ? bit : top;
        count += (size_t) __builtin_popcountll((unsigned long long) w[i]);
    }
    if (top + 1 > DP_KLL_MAX_LEVELS)
        return dp_error_set(err, DP_LIMIT, "KLL sketch: weight needs %d levels", top + 1);
    /* A temporary sketch holding the exact binary decomposition, absorbed by s. */
    dp_kll t;
    memset(&t, 0, sizeof t);
    t.k = s->k;
    t.n_levels = top + 1;
    t.items = dp_mallocarray(count, sizeof(double));
    if (t.items == NULL)
        return dp_error_set(err, DP_NOMEM, "KLL weighted update: out of memory (%zu items)", count);
    t.items_cap = count;
    size_t o = 0;
    for (int32_t h = 0; h <= top; h++) {
        t.start[h] = o;
        for (size_t i = 0; i < n; i++)
            if ((w[i] >> h) & 1)
                t.items[o++] = v[i] + 0.0;
    }
    t.start[top + 1] = o;
    t.n = total;
    t.min = v[0] + 0.0;
    t.max = v[n - 1] + 0.0;
    dp_status st = dp__absorb(s, &t, err);
    dp_free(t.items);
    return st;
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
    return dp__absorb(dst, src, err);
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
    return dp__total_size(s);
}

void dp_kll_items(const dp_kll *s, double *values, int64_t *weights) {
    size_t m = dp__lsize(s, 0);
    if (m > 0)
        memcpy(values, s->items + s->start[0], m * sizeof(double));
    dp__sort_doubles(values, m);
    for (size_t i = 0; i < m; i++)
        weights[i] = 1;
    for (int32_t h = 1; h < s->n_levels; h++) {
        const double *lv = s->items + s->start[h];
        size_t ln = dp__lsize(s, h);
        int64_t wt = (int64_t) 1 << h;
        size_t i = m, j = ln, o = m + ln;
        while (j > 0) {
            if (i > 0 && values[i - 1] > lv[j - 1]) {
                --o;
                --i;
                values[o] = values[i];
                weights[o] = weights[i];
            } else {
                --o;
                --j;
                values[o] = lv[j];
                weights[o] = wt;
            }
        }
        m += ln;
    }
}

size_t dp_kll_sizeof(const dp_kll *s) {
    return sizeof *s + (s->items_cap + s->scratch_cap) * sizeof(double);
}

size_t dp_kll_estimate(int32_t k, int64_t n) {
    int32_t levels = 1;
    while (levels < DP_KLL_MAX_LEVELS && ((int64_t) 1 << levels) * k < n)
        levels++;
    size_t total = DP_KLL_L0_CAP;
    for (int32_t d = 0; d < levels + 1; d++)
        total += dp__level_cap(k, d);
    /* The buffer, a scratch of up to half of it, and a merge's temporary copy. */
    return sizeof(dp_kll) + 3 * total * sizeof(double);
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
        dp_sw_u64(w, dp__lsize(s, h));
        dp_sw_f64_array(w, s->items + s->start[h], dp__lsize(s, h));
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
    /* First pass on a copy of the reader: the level sizes, checked against the bytes present. */
    uint64_t sizes[DP_KLL_MAX_LEVELS], used = 0, weight = 0; /* weight: sum of size * 2^h */
    dp_serial_reader peek = *r;
    for (uint32_t h = 0; h < levels; h++) {
        if (!dp_sr_u64(&peek, &sizes[h]))
            DP_FAIL(err, DP_TRUNCATED, "%s: KLL level %u size cut short", r->what, h);
        if (sizes[h] > dp_sr_remaining(&peek) / 8)
            DP_FAIL(err, DP_TRUNCATED, "%s: KLL level %u claims %llu items, %zu bytes left",
                    r->what, h, (unsigned long long) sizes[h], dp_sr_remaining(&peek));
        if (sizes[h] > 0 &&
            (h >= 62 || sizes[h] > (UINT64_MAX >> h) || sizes[h] << h > UINT64_MAX - weight))
            DP_FAIL(err, DP_CORRUPT, "%s: KLL level %u weight overflows", r->what, h);
        weight += sizes[h] << h;
        used += sizes[h];
        const uint8_t *skip;
        if (!dp_cursor_bytes(&peek.c, (size_t) sizes[h] * 8, &skip))
            DP_FAIL(err, DP_TRUNCATED, "%s: KLL level %u items cut short", r->what, h);
    }
    if (weight != (uint64_t) s->n)
        DP_FAIL(err, DP_CORRUPT, "%s: KLL items weigh %llu but the sketch counts %lld values",
                r->what, (unsigned long long) weight, (long long) s->n);
    /* Lay the levels out (level 0 first, the top last) at the end of a buffer. */
    s->n_levels = (int32_t) levels;
    dp__recompute_total_cap(s);
    size_t cap = used > s->total_cap ? (size_t) used : s->total_cap;
    dp_free(s->items);
    s->items = dp_mallocarray(cap ? cap : 1, sizeof(double));
    if (s->items == NULL)
        DP_FAIL(err, DP_NOMEM, "%s: out of memory for %llu KLL items", r->what,
                (unsigned long long) used);
    s->items_cap = cap;
    size_t pos = cap - (size_t) used;
    for (uint32_t h = 0; h < levels; h++) {
        uint64_t size = 0;
        s->start[h] = pos;
        if (!dp_sr_u64(r, &size) || !dp_sr_f64_array(r, s->items + pos, (size_t) size))
            DP_FAIL(err, DP_TRUNCATED, "%s: KLL level %u cut short", r->what, h);
        for (size_t i = 0; i < size; i++) {
            double v = s->items[pos + i];
            if (!(v >= s->min && v <= s->max) || (h > 0 && i > 0 && s->items[pos + i - 1] > v))
                DP_FAIL(err, DP_CORRUPT,
                        "%s: KLL level %u item %zu (%.17g) unsorted or outside [%.17g, %.17g]",
                        r->what, h, i, v, s->min, s->max);
        }
        pos += (size_t) size;
    }
    s->start[levels] = pos;
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
