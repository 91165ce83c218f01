// The AVX2 integer tiles (6 x 16, on int16 pairs or on bytes) and the row requantization, for
// CPUs without AVX-512 VNNI (Zen 3 served this project): split from int8_tiles.c, which keeps the
// VNNI tiles. Each function is compiled for AVX2 alone (target attributes), so this file builds for
// any x86-64 and a function runs only where CPUID says it may.
#include <stdint.h>
#include <string.h>
#include <immintrin.h>
#include "int8_tiles.h"
#include "int8_vector.h"

// No fused multiply-adds: the Swift twins round after each multiply and each add.
#pragma STDC FP_CONTRACT OFF

// Four bytes of A (one row's k-group) as a broadcast 32-bit lane; memcpy: A's rows are only 1-byte aligned.
static inline int32_t load32(const void *p) { int32_t v; memcpy(&v, p, 4); return v; }

__attribute__((target("avx2")))
static inline __m256i lane_mask(int n) {
    // Lanes 0..<n all ones (n in 0...8).
    const __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), index);
}

// A full row of 16 columns (every row of a panel but a partly filled last one) is loaded and
// stored plainly: AMD's Zen 3 takes about 13 cycles per vmaskmov store (a standalone loop: 3.9-4.2
// ns a store against 0.93 for vmovups), which for a shallow K (resnet's 64-channel 1x1s: 32 steps
// of the tile) cost as much as the products.
__attribute__((target("avx2")))
static inline void store_avx2(__m256i lo, __m256i hi, int32_t *row, int cols, int accumulate) {
    if (cols == 16) {
        if (accumulate) {
            lo = _mm256_add_epi32(lo, _mm256_loadu_si256((const __m256i *)row));
            hi = _mm256_add_epi32(hi, _mm256_loadu_si256((const __m256i *)(row + 8)));
        }
        _mm256_storeu_si256((__m256i *)row, lo);
        _mm256_storeu_si256((__m256i *)(row + 8), hi);
        return;
    }
    int nlo = cols >= 8 ? 8 : cols, nhi = cols >= 16 ? 8 : cols <= 8 ? 0 : cols - 8;
    __m256i mlo = lane_mask(nlo), mhi = lane_mask(nhi);
    if (accumulate) {
        lo = _mm256_add_epi32(lo, _mm256_maskload_epi32(row, mlo));
        hi = _mm256_add_epi32(hi, _mm256_maskload_epi32(row + 8, mhi));
    }
    _mm256_maskstore_epi32(row, mlo, lo);
    _mm256_maskstore_epi32(row + 8, mhi, hi);
}

__attribute__((target("avx2")))
static inline void store_requantized_avx2(__m256i lo, __m256i hi, const int32_t *c, int cols, int accumulate, int r,
                                          const rt_requant_tile *rq) {
    // A full row plainly (store_avx2 says why).
    int full = cols == 16, nlo = cols >= 8 ? 8 : cols, nhi = cols >= 16 ? 8 : cols <= 8 ? 0 : cols - 8;
    __m256i mlo = lane_mask(nlo), mhi = lane_mask(nhi);
    if (accumulate) {
        lo = _mm256_add_epi32(lo, full ? _mm256_loadu_si256((const __m256i *)c) : _mm256_maskload_epi32(c, mlo));
        hi = _mm256_add_epi32(hi, full ? _mm256_loadu_si256((const __m256i *)(c + 8)) : _mm256_maskload_epi32(c + 8, mhi));
    }
    __m256i k = _mm256_set1_epi32(rq->constant[r]);
    __m256 s = _mm256_set1_ps(rq->multiplier[r]), z = _mm256_set1_ps(rq->zp), l = _mm256_set1_ps(rq->lo), h = _mm256_set1_ps(rq->hi);
    __m256 qlo = quantize8(_mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(lo, k)), s), z, l, h);
    __m256 qhi = quantize8(_mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(hi, k)), s), z, l, h);
    if (rq->out) {
        float *out = rq->out + r * rq->ldo;
        if (full) {
            _mm256_storeu_ps(out, qlo);
            _mm256_storeu_ps(out + 8, qhi);
        } else {
            _mm256_maskstore_ps(out, mlo, qlo);
            _mm256_maskstore_ps(out + 8, mhi, qhi);
        }
    }
    if (rq->bytes) {
        // The byte image as rt_bytes_from_floats_avx2 makes it: a full row at once, a partial one value by value.
        uint8_t *bytes = rq->bytes + r * rq->ldo;
        __m256 o = _mm256_set1_ps(rq->byte_offset);
        if (full) {
            store_bytes16(qlo, qhi, o, bytes);
        } else {
            float q[16];
            _mm256_storeu_ps(q, qlo);
            _mm256_storeu_ps(q + 8, qhi);
            for (int j = 0; j < cols; j++) bytes[j] = byte1(q[j], rq->byte_offset);
        }
    }
}

// A tile's six rows finished: requantized into rq's outputs when rq is given, else their int32 sums
// stored. Always inlined: called from two tiles, the compiler kept it out of line, passing the twelve
// accumulators through memory, and the full tile's 64-deep products ran 6-10% slower.
__attribute__((target("avx2"), always_inline))
static inline void finish_avx2(__m256i c00, __m256i c01, __m256i c10, __m256i c11, __m256i c20, __m256i c21,
                               __m256i c30, __m256i c31, __m256i c40, __m256i c41, __m256i c50, __m256i c51,
                               int32_t *c, long ldc, int rows, int cols, int accumulate, const rt_requant_tile *rq) {
    if (rq) {
        if (rows > 0) store_requantized_avx2(c00, c01, c, cols, accumulate, 0, rq);
        if (rows > 1) store_requantized_avx2(c10, c11, c + ldc, cols, accumulate, 1, rq);
        if (rows > 2) store_requantized_avx2(c20, c21, c + 2 * ldc, cols, accumulate, 2, rq);
        if (rows > 3) store_requantized_avx2(c30, c31, c + 3 * ldc, cols, accumulate, 3, rq);
        if (rows > 4) store_requantized_avx2(c40, c41, c + 4 * ldc, cols, accumulate, 4, rq);
        if (rows > 5) store_requantized_avx2(c50, c51, c + 5 * ldc, cols, accumulate, 5, rq);
        return;
    }
    if (rows > 0) store_avx2(c00, c01, c, cols, accumulate);
    if (rows > 1) store_avx2(c10, c11, c + ldc, cols, accumulate);
    if (rows > 2) store_avx2(c20, c21, c + 2 * ldc, cols, accumulate);
    if (rows > 3) store_avx2(c30, c31, c + 3 * ldc, cols, accumulate);
    if (rows > 4) store_avx2(c40, c41, c + 4 * ldc, cols, accumulate);
    if (rows > 5) store_avx2(c50, c51, c + 5 * ldc, cols, accumulate);
}

// The tile's left half alone (cols <= 8), as the VNNI tile has one: six accumulators, B's second 32
// bytes never read. Why: resnet50's layer4 (49 positions: 3 full panels and 1 column) and a
// classifier at batch 1 (1 column) spent as long on that column as on 16; this AVX2 set has no
// transposed tile to take those products instead. The driver picks it (Int8Gemm.gemm), not a
// branch at the top of rt_int8_tile_avx2 as the VNNI tile does: built that way, the full tile's
// products measured 4-8% slower (best of 8 alternations, int8-gemm-bench --tile avx2, Zen 3).
__attribute__((target("avx2")))
void rt_int8_tile_avx2_half(long kpairs, const int16_t *a, const int16_t *b, long bstride, int32_t *c, long ldc,
                            int rows, int cols, int accumulate, const rt_requant_tile *rq) {
    __m256i c0 = _mm256_setzero_si256(), c1 = _mm256_setzero_si256(), c2 = _mm256_setzero_si256();
    __m256i c3 = _mm256_setzero_si256(), c4 = _mm256_setzero_si256(), c5 = _mm256_setzero_si256();
    for (long p = 0; p < kpairs; p++) {
        __m256i b0 = _mm256_loadu_si256((const __m256i *)(b + p * bstride));
        const int16_t *ap = a + p * 12;
        c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(b0, _mm256_set1_epi32(load32(ap))));
        c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(b0, _mm256_set1_epi32(load32(ap + 2))));
        c2 = _mm256_add_epi32(c2, _mm256_madd_epi16(b0, _mm256_set1_epi32(load32(ap + 4))));
        c3 = _mm256_add_epi32(c3, _mm256_madd_epi16(b0, _mm256_set1_epi32(load32(ap + 6))));
        c4 = _mm256_add_epi32(c4, _mm256_madd_epi16(b0, _mm256_set1_epi32(load32(ap + 8))));
        c5 = _mm256_add_epi32(c5, _mm256_madd_epi16(b0, _mm256_set1_epi32(load32(ap + 10))));
    }
    // The right half's sums are zero and masked off (cols <= 8) by both stores.
    const __m256i z = _mm256_setzero_si256();
    finish_avx2(c0, z, c1, z, c2, z, c3, z, c4, z, c5, z, c, ldc, rows, cols, accumulate, rq);
}

__attribute__((target("avx2")))
void rt_int8_tile_avx2(long kpairs, const int16_t *a, const int16_t *b, long bstride, int32_t *c, long ldc,
                       int rows, int cols, int accumulate, const rt_requant_tile *rq) {
    __m256i c00 = _mm256_setzero_si256(), c01 = _mm256_setzero_si256(), c10 = _mm256_setzero_si256(), c11 = _mm256_setzero_si256();
    __m256i c20 = _mm256_setzero_si256(), c21 = _mm256_setzero_si256(), c30 = _mm256_setzero_si256(), c31 = _mm256_setzero_si256();
    __m256i c40 = _mm256_setzero_si256(), c41 = _mm256_setzero_si256(), c50 = _mm256_setzero_si256(), c51 = _mm256_setzero_si256();
    for (long p = 0; p < kpairs; p++) {
        // vpmaddwd: per int32 lane, x0*w0 + x1*w1 of int16s (at most 2 * 255 * 128: exact).
        __m256i b0 = _mm256_loadu_si256((const __m256i *)(b + p * bstride)), b1 = _mm256_loadu_si256((const __m256i *)(b + p * bstride + 16));
        const int16_t *ap = a + p * 12;
        __m256i x = _mm256_set1_epi32(load32(ap));
        c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(b0, x)); c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(b1, x));
        x = _mm256_set1_epi32(load32(ap + 2)); c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(b0, x)); c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(b1, x));
        x = _mm256_set1_epi32(load32(ap + 4)); c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(b0, x)); c21 = _mm256_add_epi32(c21, _mm256_madd_epi16(b1, x));
        x = _mm256_set1_epi32(load32(ap + 6)); c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(b0, x)); c31 = _mm256_add_epi32(c31, _mm256_madd_epi16(b1, x));
        x = _mm256_set1_epi32(load32(ap + 8)); c40 = _mm256_add_epi32(c40, _mm256_madd_epi16(b0, x)); c41 = _mm256_add_epi32(c41, _mm256_madd_epi16(b1, x));
        x = _mm256_set1_epi32(load32(ap + 10)); c50 = _mm256_add_epi32(c50, _mm256_madd_epi16(b0, x)); c51 = _mm256_add_epi32(c51, _mm256_madd_epi16(b1, x));
    }
    finish_avx2(c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c, ldc, rows, cols, accumulate, rq);
}


// The bytes tile's step for one accumulator: vpmaddubsw (uint8 x int8 pairs, summed with signed
// saturation to int16), then vpmaddwd by ones (the two int16 of a 32-bit lane summed to int32).
#define RT_MADDUBS(acc, bv, x) acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(bv, x), ones))

// rt_int8_tile_avx2_bytes for cols <= 8: B's first 32 bytes of each group alone.
__attribute__((target("avx2")))
void rt_int8_tile_avx2_bytes_half(long kgroups, const int8_t *a, const uint8_t *b, long bstride, int32_t *c, long ldc,
                                  int rows, int cols, int accumulate, const rt_requant_tile *rq) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i c0 = _mm256_setzero_si256(), c1 = _mm256_setzero_si256(), c2 = _mm256_setzero_si256();
    __m256i c3 = _mm256_setzero_si256(), c4 = _mm256_setzero_si256(), c5 = _mm256_setzero_si256();
    for (long g = 0; g < kgroups; g++) {
        __m256i b0 = _mm256_loadu_si256((const __m256i *)(b + g * bstride));
        const int8_t *ap = a + g * 24;
        RT_MADDUBS(c0, b0, _mm256_set1_epi32(load32(ap)));
        RT_MADDUBS(c1, b0, _mm256_set1_epi32(load32(ap + 4)));
        RT_MADDUBS(c2, b0, _mm256_set1_epi32(load32(ap + 8)));
        RT_MADDUBS(c3, b0, _mm256_set1_epi32(load32(ap + 12)));
        RT_MADDUBS(c4, b0, _mm256_set1_epi32(load32(ap + 16)));
        RT_MADDUBS(c5, b0, _mm256_set1_epi32(load32(ap + 20)));
    }
    const __m256i z = _mm256_setzero_si256();
    finish_avx2(c0, z, c1, z, c2, z, c3, z, c4, z, c5, z, c, ldc, rows, cols, accumulate, rq);
}

__attribute__((target("avx2")))
void rt_int8_tile_avx2_bytes(long kgroups, const int8_t *a, const uint8_t *b, long bstride, int32_t *c, long ldc,
                             int rows, int cols, int accumulate, const rt_requant_tile *rq) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i c00 = _mm256_setzero_si256(), c01 = _mm256_setzero_si256(), c10 = _mm256_setzero_si256(), c11 = _mm256_setzero_si256();
    __m256i c20 = _mm256_setzero_si256(), c21 = _mm256_setzero_si256(), c30 = _mm256_setzero_si256(), c31 = _mm256_setzero_si256();
    __m256i c40 = _mm256_setzero_si256(), c41 = _mm256_setzero_si256(), c50 = _mm256_setzero_si256(), c51 = _mm256_setzero_si256();
    for (long g = 0; g < kgroups; g++) {
        __m256i b0 = _mm256_loadu_si256((const __m256i *)(b + g * bstride)), b1 = _mm256_loadu_si256((const __m256i *)(b + g * bstride + 32));
        const int8_t *ap = a + g * 24;
        __m256i x = _mm256_set1_epi32(load32(ap));
        RT_MADDUBS(c00, b0, x); RT_MADDUBS(c01, b1, x);
        x = _mm256_set1_epi32(load32(ap + 4)); RT_MADDUBS(c10, b0, x); RT_MADDUBS(c11, b1, x);
        x = _mm256_set1_epi32(load32(ap + 8)); RT_MADDUBS(c20, b0, x); RT_MADDUBS(c21, b1, x);
        x = _mm256_set1_epi32(load32(ap + 12)); RT_MADDUBS(c30, b0, x); RT_MADDUBS(c31, b1, x);
        x = _mm256_set1_epi32(load32(ap + 16)); RT_MADDUBS(c40, b0, x); RT_MADDUBS(c41, b1, x);
        x = _mm256_set1_epi32(load32(ap + 20)); RT_MADDUBS(c50, b0, x); RT_MADDUBS(c51, b1, x);
    }
    finish_avx2(c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c, ldc, rows, cols, accumulate, rq);
}

__attribute__((target("avx2")))
void rt_requantize_row_avx2(const int32_t *acc, long n, int32_t constant, float scale, float zp, float lo, float hi, float *out) {
    __m256i k = _mm256_set1_epi32(constant);
    __m256 s = _mm256_set1_ps(scale), z = _mm256_set1_ps(zp), l = _mm256_set1_ps(lo), h = _mm256_set1_ps(hi);
    long j = 0;
    for (; j + 8 <= n; j += 8) {
        __m256i v = _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(acc + j)), k);  // wraps, as &+
        _mm256_storeu_ps(out + j, quantize8(_mm256_mul_ps(_mm256_cvtepi32_ps(v), s), z, l, h));
    }
    for (; j < n; j++) {
        int32_t v = (int32_t)((uint32_t)acc[j] + (uint32_t)constant);
        out[j] = quantize1((float)v * scale, zp, lo, hi);
    }
}
