// What the AVX2 tiles' epilogues (int8_tiles_avx2.c) and the elementwise int8 kernels (int8_elementwise.c)
// share: the requantization (one rounding, then the zero point, then the range, on 8 lanes or one)
// and the conversion of its float-coded results to a byte image (8 lanes or one).
#ifndef RT_INT8_VECTOR_H
#define RT_INT8_VECTOR_H
#include <immintrin.h>
#include <stdint.h>

__attribute__((target("avx2")))
static inline __m256 quantize8(__m256 scaled, __m256 zp, __m256 lo, __m256 hi) {
    __m256 q = _mm256_add_ps(_mm256_round_ps(scaled, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), zp);
    // vmaxps returns its second operand when either is NaN: NaN becomes lo, as in the twin.
    return _mm256_min_ps(_mm256_max_ps(q, lo), hi);
}

static inline float quantize1(float scaled, float zp, float lo, float hi) {
    float q = __builtin_nearbyintf(scaled) + zp;
    if (q != q) return lo;
    return q < lo ? lo : (q > hi ? hi : q);
}

// Eight float-coded values plus `offset` as bytes: clamped to [0, 255] (max(v, 0) with v NaN gives 0,
// the second operand), then truncated, which is exact for the integers these are.
__attribute__((target("avx2")))
static inline void store_bytes8(__m256 x, __m256 offset, uint8_t *out) {
    __m256 v = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(x, offset), _mm256_setzero_ps()), _mm256_set1_ps(255));
    __m256i w = _mm256_cvttps_epi32(v);
    __m128i lo = _mm256_castsi256_si128(w), hi = _mm256_extracti128_si256(w, 1);
    _mm_storel_epi64((__m128i *)out, _mm_packus_epi16(_mm_packus_epi32(lo, hi), _mm_setzero_si128()));
}

// 16 values (two vectors of 8) as store_bytes8 converts them, in one 16-byte store: the packs saturate
// to [0, 255] (after the min, which keeps a NaN: cvttps makes it INT_MIN, packed to 0), and one lane
// permutation puts the two vectors' bytes in order. (A tile row's byte image; two store_bytes8 took
// twice the instructions, in the epilogue of products as short as 64 k.)
__attribute__((target("avx2")))
static inline void store_bytes16(__m256 x0, __m256 x1, __m256 offset, uint8_t *out) {
    const __m256 top = _mm256_set1_ps(255);
    __m256i w0 = _mm256_cvttps_epi32(_mm256_min_ps(top, _mm256_add_ps(x0, offset)));
    __m256i w1 = _mm256_cvttps_epi32(_mm256_min_ps(top, _mm256_add_ps(x1, offset)));
    // Per 128-bit lane, words then bytes: lane 0 starts x0[0..3] x1[0..3], lane 1 x0[4..7] x1[4..7].
    __m256i w = _mm256_packus_epi32(w0, w1), b = _mm256_packus_epi16(w, w);
    __m256i ordered = _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 0, 0, 0, 0));
    _mm_storeu_si128((__m128i *)out, _mm256_castsi256_si128(ordered));
}

// One value as store_bytes8 converts it.
static inline uint8_t byte1(float x, float offset) {
    float f = x + offset;
    return f != f ? 0 : (uint8_t)(f < 0 ? 0 : (f > 255 ? 255 : f));
}

#endif
