#include "util/dp_rng.h"
#include "util/dp_checksum.h"

#include <math.h>

static uint64_t dp__splitmix(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void dp_rng_seed(dp_rng *r, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = dp__splitmix(&x);
}

void dp_rng_seed_key(dp_rng *r, uint64_t seed, const char *key, uint64_t salt) {
    dp_rng_seed(r, dp_hash64_combine(dp_hash64_str(key, seed), salt));
}

static inline uint64_t dp__rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

uint64_t dp_rng_next(dp_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = dp__rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = dp__rotl(s[3], 45);
    return result;
}

double dp_rng_uniform(dp_rng *r) {
    return (double) (dp_rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t dp_rng_below(dp_rng *r, uint64_t n) {
    /* Rejection on the top of the range keeps it unbiased. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do {
        x = dp_rng_next(r);
    } while (x >= limit);
    return x % n;
}

double dp_rng_normal(dp_rng *r) {
    double u, v, s;
    do {
        u = 2.0 * dp_rng_uniform(r) - 1.0;
        v = 2.0 * dp_rng_uniform(r) - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    /* One of the pair is used; discarding v keeps the stream position simple to reason about. */
    return u * sqrt(-2.0 * log(s) / s);
}
