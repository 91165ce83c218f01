// The requantization shared by the AVX2 tiles' epilogues (int8_tiles.c) and the elementwise int8
// kernels (int8_elementwise.c): one rounding, then the zero point, then the range, on 8 lanes or one.
#ifndef RT_INT8_VECTOR_H
#define RT_INT8_VECTOR_H
#include <immintrin.h>

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

#endif
