/* CRC-32 with the reflected polynomial 0xEDB88320, slicing-by-8 tables built on first use.
 * Hash: 8-byte words folded with a multiply-xorshift mixer (the splitmix64 finaliser). */
#include "util/dp_checksum.h"
#include "util/dp_cursor.h"

#include <pthread.h>
#include <string.h>

static uint32_t dp__crc_table[8][256];
static pthread_once_t dp__crc_once = PTHREAD_ONCE_INIT;

static void dp__crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        dp__crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            dp__crc_table[t][i] =
                (dp__crc_table[t - 1][i] >> 8) ^ dp__crc_table[0][dp__crc_table[t - 1][i] & 0xff];
}

uint32_t dp_crc32(uint32_t crc, const void *data, size_t len) {
    pthread_once(&dp__crc_once, dp__crc_init);
    const uint8_t *p = data;
    uint32_t c = ~crc;
    while (len >= 8) {
        uint32_t lo = dp_load_u32le(p) ^ c;
        uint32_t hi = dp_load_u32le(p + 4);
        c = dp__crc_table[7][lo & 0xff] ^ dp__crc_table[6][(lo >> 8) & 0xff] ^
            dp__crc_table[5][(lo >> 16) & 0xff] ^ dp__crc_table[4][lo >> 24] ^
            dp__crc_table[3][hi & 0xff] ^ dp__crc_table[2][(hi >> 8) & 0xff] ^
            dp__crc_table[1][(hi >> 16) & 0xff] ^ dp__crc_table[0][hi >> 24];
        p += 8;
        len -= 8;
    }
    while (len--)
        c = dp__crc_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    return ~c;
}

static uint64_t dp__mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t dp_hash64(const void *data, size_t len, uint64_t seed) {
    const uint8_t *p = data;
    uint64_t h = dp__mix(seed ^ 0x9e3779b97f4a7c15ull ^ ((uint64_t) len * 0xff51afd7ed558ccdull));
    while (len >= 8) {
        h = dp__mix(h ^ dp__mix(dp_load_u64le(p) + 0x9e3779b97f4a7c15ull));
        p += 8;
        len -= 8;
    }
    uint64_t tail = 0;
    for (size_t i = 0; i < len; i++)
        tail |= (uint64_t) p[i] << (8 * i);
    h = dp__mix(h ^ dp__mix(tail + 0x632be59bd9b4e019ull + len));
    return h;
}

uint64_t dp_hash64_str(const char *s, uint64_t seed) {
    return dp_hash64(s, strlen(s), seed);
}

uint64_t dp_hash64_combine(uint64_t a, uint64_t b) {
    return dp__mix(a * 0x9e3779b97f4a7c15ull ^ dp__mix(b + 0x632be59bd9b4e019ull));
}
