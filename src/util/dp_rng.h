/* dp_rng.h: deterministic random numbers (xoshiro256** seeded through splitmix64).
 *
 * Every random draw in dpipe comes from a dp_rng seeded by an address, never by call order:
 * dp_rng_seed_key(&r, seed, "column name", salt) gives the same stream for the same
 * (seed, name, salt) whatever else the program does. Thread safety: a dp_rng is a plain value.
 */
#ifndef DP_UTIL_RNG_H
#define DP_UTIL_RNG_H

#include <stdint.h>

typedef struct dp_rng {
    uint64_t s[4];
} dp_rng;

void dp_rng_seed(dp_rng *r, uint64_t seed);
/* Stream addressed by (seed, key string, salt). */
void dp_rng_seed_key(dp_rng *r, uint64_t seed, const char *key, uint64_t salt);
uint64_t dp_rng_next(dp_rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double dp_rng_uniform(dp_rng *r);
/* Uniform integer in [0, n), unbiased (n > 0). */
uint64_t dp_rng_below(dp_rng *r, uint64_t n);
/* Standard normal (Marsaglia polar method; uses log and sqrt only). */
double dp_rng_normal(dp_rng *r);

#endif
