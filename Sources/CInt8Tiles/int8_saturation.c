#include <string.h>
#include <immintrin.h>
#include "int8_tiles.h"

// The AVX2 bytes tile's exactness (Int8Gemm.correctSaturation): the scan that flags the pairs
// whose int16 sums vpmaddubsw may have saturated, each flagged pair's correction, and the split
// of a panel with too many into two halves that cannot saturate. Apart from the tiles (the bytes tile
// itself: int8_tiles_avx2.c) because they share none of the tiles' helpers.

// Four bytes of the bounds (a group's 4 k) as one 32-bit lane; memcpy: only 1-byte aligned.
static inline int32_t load32(const void *p) { int32_t v; memcpy(&v, p, 4); return v; }

__attribute__((target("avx2")))
long rt_int8_saturation_scan(const uint8_t *b, long bstride, long kgroups, const int8_t *bound, uint32_t *groups, uint32_t *masks) {
    // Per 32-bit lane (a column's 4 k), vpmaddubsw against the group's 4 bounds gives per pair
    // x0·a0 + x1·a1 (saturating at 32767, which is flagged too); flagged where it passes 32257.
    const __m256i limit = _mm256_set1_epi16(32257);
    long found = 0;
    for (long g = 0; g < kgroups; g++) {
        const uint8_t *row = b + g * bstride;
        __m256i a = _mm256_set1_epi32(load32(bound + 4 * g));
        uint32_t m[4];
        uint32_t any = 0;
        for (int q = 0; q < 4; q++) {
            __m256i s = _mm256_maddubs_epi16(_mm256_loadu_si256((const __m256i *)(row + 32 * q)), a);
            // movemask gives two bits per int16 lane; the even bit stands for the lane.
            m[q] = (uint32_t)_mm256_movemask_epi8(_mm256_cmpgt_epi16(s, limit)) & 0x55555555u;
            any |= m[q];
        }
        if (any) {
            groups[found] = (uint32_t)g;
            for (int q = 0; q < 4; q++) masks[4 * found + q] = m[q];
            found++;
        }
    }
    return found;
}

__attribute__((target("avx2")))
void rt_int8_saturation_correct(const int8_t *pairs, long rows, int x0, int x1, int32_t *c, long ldc) {
    // Per row: the pair's exact sum (vpmaddwd on the weights widened to int16), minus that sum
    // clamped to int16, added to C where nonzero (rarely: only rows with two large weights).
    const __m256i x = _mm256_set1_epi32((int32_t)(((uint32_t)(uint16_t)x1 << 16) | (uint16_t)x0));
    const __m256i top = _mm256_set1_epi32(32767), bottom = _mm256_set1_epi32(-32768);
    for (long i = 0; i < rows; i += 8) {
        __m256i w = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(pairs + 2 * i)));
        __m256i v = _mm256_madd_epi16(w, x);
        __m256i d = _mm256_sub_epi32(v, _mm256_max_epi32(_mm256_min_epi32(v, top), bottom));
        int nonzero = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(d, _mm256_setzero_si256()))) ^ 0xFF;
        if (!nonzero) continue;
        int32_t lanes[8];
        _mm256_storeu_si256((__m256i *)lanes, d);
        for (int l = 0; l < 8 && i + l < rows; l++) if (nonzero >> l & 1) c[(i + l) * ldc] += lanes[l];
    }
}

__attribute__((target("avx2")))
void rt_int8_split_bytes(const uint8_t *b, long bstride, long kgroups, uint8_t *low, uint8_t *high) {
    const __m256i limit = _mm256_set1_epi8(127);
    for (long g = 0; g < kgroups; g++) {
        for (int q = 0; q < 4; q++) {
            __m256i x = _mm256_loadu_si256((const __m256i *)(b + g * bstride + 32 * q));
            _mm256_storeu_si256((__m256i *)(low + 128 * g + 32 * q), _mm256_min_epu8(x, limit));
            _mm256_storeu_si256((__m256i *)(high + 128 * g + 32 * q), _mm256_subs_epu8(x, limit));
        }
    }
}
