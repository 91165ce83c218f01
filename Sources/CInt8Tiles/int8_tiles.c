#include <stdint.h>
#include <string.h>
#include <immintrin.h>
#include "int8_tiles.h"

// No fused multiply-adds: the Swift twins round after each multiply and each add.
#pragma STDC FP_CONTRACT OFF

int rt_cpu_has_avx512_vnni(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")
        && __builtin_cpu_supports("avx512vnni");
}

// Four bytes of A (one row's k-group) as a broadcast 32-bit lane; memcpy: A's rows are
// only 1-byte aligned.
static inline int32_t load32(const void *p) { int32_t v; memcpy(&v, p, 4); return v; }

__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
static inline void store_vnni(__m512i lo, __m512i hi, int32_t *row, int cols, int accumulate) {
    // Columns past `cols` are masked off: C is only written where the tile is real.
    __mmask16 mlo = cols >= 16 ? 0xFFFF : (__mmask16)((1u << cols) - 1);
    __mmask16 mhi = cols >= 32 ? 0xFFFF : cols <= 16 ? 0 : (__mmask16)((1u << (cols - 16)) - 1);
    if (accumulate) {
        lo = _mm512_add_epi32(lo, _mm512_maskz_loadu_epi32(mlo, row));
        hi = _mm512_add_epi32(hi, _mm512_maskz_loadu_epi32(mhi, row + 16));
    }
    _mm512_mask_storeu_epi32(row, mlo, lo);
    _mm512_mask_storeu_epi32(row + 16, mhi, hi);
}

// A tile's rows of int32 sums stored (rows 1...8; C += them when accumulating), masked to `cols`.
// The rows as named values, not an array: an array of them was kept on the stack (16 stores and
// loads a tile).
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"), always_inline))
static inline void store_rows_vnni(__m512i c00, __m512i c01, __m512i c10, __m512i c11, __m512i c20, __m512i c21, __m512i c30, __m512i c31,
                                   __m512i c40, __m512i c41, __m512i c50, __m512i c51, __m512i c60, __m512i c61, __m512i c70, __m512i c71,
                                   int32_t *c, long ldc, int rows, int cols, int accumulate) {
    if (rows > 0) store_vnni(c00, c01, c, cols, accumulate);
    if (rows > 1) store_vnni(c10, c11, c + ldc, cols, accumulate);
    if (rows > 2) store_vnni(c20, c21, c + 2 * ldc, cols, accumulate);
    if (rows > 3) store_vnni(c30, c31, c + 3 * ldc, cols, accumulate);
    if (rows > 4) store_vnni(c40, c41, c + 4 * ldc, cols, accumulate);
    if (rows > 5) store_vnni(c50, c51, c + 5 * ldc, cols, accumulate);
    if (rows > 6) store_vnni(c60, c61, c + 6 * ldc, cols, accumulate);
    if (rows > 7) store_vnni(c70, c71, c + 7 * ldc, cols, accumulate);
}

// One row of a tile requantized (AVX-512): quantize8's arithmetic on 16 lanes. vmaxps returns
// its second operand when either is NaN, so NaN becomes lo, as in the twin.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
static inline __m512 quantize16(__m512i sums, int32_t constant, float multiplier, const rt_requant_tile *rq) {
    __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(sums, _mm512_set1_epi32(constant))), _mm512_set1_ps(multiplier));
    __m512 q = _mm512_add_ps(_mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), _mm512_set1_ps(rq->zp));
    return _mm512_min_ps(_mm512_max_ps(q, _mm512_set1_ps(rq->lo)), _mm512_set1_ps(rq->hi));
}

// A tile row's 32 bytes (two 16-lane halves narrowed in registers) stored once, masked to `cols`:
// vpmovdb's store form, masked, measured slower on Zen 4 than the requantization around it
// (int8-gemm-bench --bytes).
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
static inline void store_row_bytes(__m512i lo, __m512i hi, uint8_t *bytes, int cols) {
    __m256i row = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm512_cvtepi32_epi8(lo)), _mm512_cvtepi32_epi8(hi), 1);
    if (cols >= 32) _mm256_storeu_si256((__m256i *)bytes, row);
    else _mm256_mask_storeu_epi8(bytes, (__mmask32)((1u << cols) - 1), row);
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
static inline void store_requantized_vnni(__m512i lo, __m512i hi, const int32_t *c, int cols, int accumulate, int r,
                                          const rt_requant_tile *rq) {
    __mmask16 mlo = cols >= 16 ? 0xFFFF : (__mmask16)((1u << cols) - 1);
    __mmask16 mhi = cols >= 32 ? 0xFFFF : cols <= 16 ? 0 : (__mmask16)((1u << (cols - 16)) - 1);
    if (accumulate) {
        lo = _mm512_add_epi32(lo, _mm512_maskz_loadu_epi32(mlo, c));
        hi = _mm512_add_epi32(hi, _mm512_maskz_loadu_epi32(mhi, c + 16));
    }
    __m512 qlo = quantize16(lo, rq->constant[r], rq->multiplier[r], rq), qhi = quantize16(hi, rq->constant[r], rq->multiplier[r], rq);
    if (rq->out) {
        float *out = rq->out + r * rq->ldo;
        _mm512_mask_storeu_ps(out, mlo, qlo);
        _mm512_mask_storeu_ps(out + 16, mhi, qhi);
    }
    if (rq->bytes) {
        // As store_bytes8: + offset, clamped to [0, 255] (q is never NaN), truncated to the low bytes.
        __m512 o = _mm512_set1_ps(rq->byte_offset), zero = _mm512_setzero_ps(), top = _mm512_set1_ps(255);
        store_row_bytes(_mm512_cvttps_epi32(_mm512_min_ps(_mm512_max_ps(_mm512_add_ps(qlo, o), zero), top)),
                        _mm512_cvttps_epi32(_mm512_min_ps(_mm512_max_ps(_mm512_add_ps(qhi, o), zero), top)), rq->bytes + r * rq->ldo, cols);
    }
}

// One row of a tile requantized to bytes alone (no float output), where the byte offset keeps
// [lo, hi] inside [0, 255] (so the byte clamp is a no-op): v clamped to [lo - zp, hi - zp]
// in float, rounded half to even by the conversion itself, then + (zp + offset) in integers.
// The same bytes as quantize16 and the clamp: rounding is monotone and fixes the integer bounds
// (lo - zp and hi - zp are exact: all below 2^24), and NaN takes vmaxps's second operand, lo - zp.
// Why: 8 vector ops a half-row instead of 12, and no vrndscaleps; K = 64 products (resnet's
// 1x1s out of 64 channels) spent as long here as in their sums.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
static inline void store_bytes_vnni(__m512i lo, __m512i hi, const int32_t *c, int cols, int accumulate, int r,
                                    const rt_requant_tile *rq, __m512 lower, __m512 upper, __m512i add) {
    __mmask16 mlo = cols >= 16 ? 0xFFFF : (__mmask16)((1u << cols) - 1);
    __mmask16 mhi = cols >= 32 ? 0xFFFF : cols <= 16 ? 0 : (__mmask16)((1u << (cols - 16)) - 1);
    if (accumulate) {
        lo = _mm512_add_epi32(lo, _mm512_maskz_loadu_epi32(mlo, c));
        hi = _mm512_add_epi32(hi, _mm512_maskz_loadu_epi32(mhi, c + 16));
    }
    const __m512i constant = _mm512_set1_epi32(rq->constant[r]);
    const __m512 multiplier = _mm512_set1_ps(rq->multiplier[r]);
    __m512 vlo = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(lo, constant)), multiplier);
    __m512 vhi = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(hi, constant)), multiplier);
    vlo = _mm512_min_ps(_mm512_max_ps(vlo, lower), upper);
    vhi = _mm512_min_ps(_mm512_max_ps(vhi, lower), upper);
    __m512i ilo = _mm512_add_epi32(_mm512_cvt_roundps_epi32(vlo, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), add);
    __m512i ihi = _mm512_add_epi32(_mm512_cvt_roundps_epi32(vhi, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), add);
    store_row_bytes(ilo, ihi, rq->bytes + r * rq->ldo, cols);
}

// Whether store_bytes_vnni applies: bytes alone, whole-number figures of at most 2^16 (zero points,
// ranges and offsets are: so lo - zp, hi - zp and zp + offset are exact and fit int32), and a byte
// offset that keeps [lo, hi] inside [0, 255].
static inline int writes_bytes_alone(const rt_requant_tile *rq) {
    return !rq->out && rq->bytes && rq->zp == __builtin_truncf(rq->zp) && rq->byte_offset == __builtin_truncf(rq->byte_offset)
        && rq->lo == __builtin_truncf(rq->lo) && rq->hi == __builtin_truncf(rq->hi) && __builtin_fabsf(rq->zp) <= 65536
        && __builtin_fabsf(rq->lo) <= 65536 && __builtin_fabsf(rq->hi) <= 65536 && __builtin_fabsf(rq->byte_offset) <= 65536
        && rq->lo + rq->byte_offset >= 0 && rq->hi + rq->byte_offset <= 255;
}

// A tile's rows (1...8) finished: requantized into rq's outputs when rq is given, else their int32 sums stored.
// Forced inline: with two callers (the full tile and its left half) the compiler kept it out of line and
// passed the accumulators through the stack, 24 moves and a call per tile (as finish_avx2 once did).
// int8-gemm-bench --bytes, medians: 64 -> 256 1x1 305 -> 355 GOP/s, 128 -> 512 366 -> 403, l1 3x3 407 -> 420.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"), always_inline))
static inline void finish_vnni(__m512i c00, __m512i c01, __m512i c10, __m512i c11, __m512i c20, __m512i c21, __m512i c30, __m512i c31,
                               __m512i c40, __m512i c41, __m512i c50, __m512i c51, __m512i c60, __m512i c61, __m512i c70, __m512i c71,
                               int32_t *c, long ldc, int rows, int cols, int accumulate, const rt_requant_tile *rq) {
    if (rq && writes_bytes_alone(rq)) {
        const __m512 lower = _mm512_set1_ps(rq->lo - rq->zp), upper = _mm512_set1_ps(rq->hi - rq->zp);
        const __m512i add = _mm512_set1_epi32((int32_t)(rq->zp + rq->byte_offset));
        if (rows > 0) store_bytes_vnni(c00, c01, c, cols, accumulate, 0, rq, lower, upper, add);
        if (rows > 1) store_bytes_vnni(c10, c11, c + ldc, cols, accumulate, 1, rq, lower, upper, add);
        if (rows > 2) store_bytes_vnni(c20, c21, c + 2 * ldc, cols, accumulate, 2, rq, lower, upper, add);
        if (rows > 3) store_bytes_vnni(c30, c31, c + 3 * ldc, cols, accumulate, 3, rq, lower, upper, add);
        if (rows > 4) store_bytes_vnni(c40, c41, c + 4 * ldc, cols, accumulate, 4, rq, lower, upper, add);
        if (rows > 5) store_bytes_vnni(c50, c51, c + 5 * ldc, cols, accumulate, 5, rq, lower, upper, add);
        if (rows > 6) store_bytes_vnni(c60, c61, c + 6 * ldc, cols, accumulate, 6, rq, lower, upper, add);
        if (rows > 7) store_bytes_vnni(c70, c71, c + 7 * ldc, cols, accumulate, 7, rq, lower, upper, add);
        return;
    }
    if (rq) {
        if (rows > 0) store_requantized_vnni(c00, c01, c, cols, accumulate, 0, rq);
        if (rows > 1) store_requantized_vnni(c10, c11, c + ldc, cols, accumulate, 1, rq);
        if (rows > 2) store_requantized_vnni(c20, c21, c + 2 * ldc, cols, accumulate, 2, rq);
        if (rows > 3) store_requantized_vnni(c30, c31, c + 3 * ldc, cols, accumulate, 3, rq);
        if (rows > 4) store_requantized_vnni(c40, c41, c + 4 * ldc, cols, accumulate, 4, rq);
        if (rows > 5) store_requantized_vnni(c50, c51, c + 5 * ldc, cols, accumulate, 5, rq);
        if (rows > 6) store_requantized_vnni(c60, c61, c + 6 * ldc, cols, accumulate, 6, rq);
        if (rows > 7) store_requantized_vnni(c70, c71, c + 7 * ldc, cols, accumulate, 7, rq);
        return;
    }
    store_rows_vnni(c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71, c, ldc, rows, cols, accumulate);
}

// The tile's left half alone (cols <= 16): eight accumulators, B's second 64 bytes never read.
// Why: a product's last column panel is often mostly empty (resnet50's 14x14 layer3, 196
// positions: 6 full panels and 4 columns), and the full tile spent as long on it as on a full one.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
static void tile_vnni_16(long kgroups, const int8_t *a, const uint8_t *b, long bstride, int32_t *c, long ldc,
                         int rows, int cols, int accumulate, const rt_requant_tile *rq) {
    __m512i c0 = _mm512_setzero_si512(), c1 = _mm512_setzero_si512(), c2 = _mm512_setzero_si512(), c3 = _mm512_setzero_si512();
    __m512i c4 = _mm512_setzero_si512(), c5 = _mm512_setzero_si512(), c6 = _mm512_setzero_si512(), c7 = _mm512_setzero_si512();
    for (long g = 0; g < kgroups; g++) {
        __m512i b0 = _mm512_loadu_si512(b + g * bstride);
        const int8_t *ap = a + g * 32;
        c0 = _mm512_dpbusd_epi32(c0, b0, _mm512_set1_epi32(load32(ap)));
        c1 = _mm512_dpbusd_epi32(c1, b0, _mm512_set1_epi32(load32(ap + 4)));
        c2 = _mm512_dpbusd_epi32(c2, b0, _mm512_set1_epi32(load32(ap + 8)));
        c3 = _mm512_dpbusd_epi32(c3, b0, _mm512_set1_epi32(load32(ap + 12)));
        c4 = _mm512_dpbusd_epi32(c4, b0, _mm512_set1_epi32(load32(ap + 16)));
        c5 = _mm512_dpbusd_epi32(c5, b0, _mm512_set1_epi32(load32(ap + 20)));
        c6 = _mm512_dpbusd_epi32(c6, b0, _mm512_set1_epi32(load32(ap + 24)));
        c7 = _mm512_dpbusd_epi32(c7, b0, _mm512_set1_epi32(load32(ap + 28)));
    }
    // The right half's sums are zero and masked off (cols <= 16) by both stores.
    const __m512i z = _mm512_setzero_si512();
    finish_vnni(c0, z, c1, z, c2, z, c3, z, c4, z, c5, z, c6, z, c7, z, c, ldc, rows, cols, accumulate, rq);
}

// A quarter of the tile (cols <= 8): eight ymm accumulators, B's first 32 bytes of each group. Why:
// a 256-bit vpdpbusd costs half a 512-bit one on Zen 4 (one pass instead of two), and resnet50's
// 14x14 outputs (196 positions: 6 full panels and 4 columns) spent on their last panel half a
// full panel's time through the 16-column half.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
static void tile_vnni_8(long kgroups, const int8_t *a, const uint8_t *b, long bstride, int32_t *c, long ldc,
                        int rows, int cols, int accumulate, const rt_requant_tile *rq) {
    __m256i c0 = _mm256_setzero_si256(), c1 = _mm256_setzero_si256(), c2 = _mm256_setzero_si256(), c3 = _mm256_setzero_si256();
    __m256i c4 = _mm256_setzero_si256(), c5 = _mm256_setzero_si256(), c6 = _mm256_setzero_si256(), c7 = _mm256_setzero_si256();
    for (long g = 0; g < kgroups; g++) {
        __m256i b0 = _mm256_loadu_si256((const __m256i *)(b + g * bstride));
        const int8_t *ap = a + g * 32;
        c0 = _mm256_dpbusd_epi32(c0, b0, _mm256_set1_epi32(load32(ap)));
        c1 = _mm256_dpbusd_epi32(c1, b0, _mm256_set1_epi32(load32(ap + 4)));
        c2 = _mm256_dpbusd_epi32(c2, b0, _mm256_set1_epi32(load32(ap + 8)));
        c3 = _mm256_dpbusd_epi32(c3, b0, _mm256_set1_epi32(load32(ap + 12)));
        c4 = _mm256_dpbusd_epi32(c4, b0, _mm256_set1_epi32(load32(ap + 16)));
        c5 = _mm256_dpbusd_epi32(c5, b0, _mm256_set1_epi32(load32(ap + 20)));
        c6 = _mm256_dpbusd_epi32(c6, b0, _mm256_set1_epi32(load32(ap + 24)));
        c7 = _mm256_dpbusd_epi32(c7, b0, _mm256_set1_epi32(load32(ap + 28)));
    }
    // Widened with zeros: columns 8 and up are zero and masked off (cols <= 8) by both stores.
    const __m512i z = _mm512_setzero_si512();
    finish_vnni(_mm512_zextsi256_si512(c0), z, _mm512_zextsi256_si512(c1), z, _mm512_zextsi256_si512(c2), z,
                _mm512_zextsi256_si512(c3), z, _mm512_zextsi256_si512(c4), z, _mm512_zextsi256_si512(c5), z,
                _mm512_zextsi256_si512(c6), z, _mm512_zextsi256_si512(c7), z, c, ldc, rows, cols, accumulate, rq);
}

// Eight rows (row r's 4 bytes of a k-group at 4r, 32 bytes a group) by 32 columns: 16 accumulators,
// two B vectors and a broadcast of 32 zmm. Why eight, not six: every ResNet's output channels are
// a multiple of 8, and six-row panels left 64 and 128 channels a last panel of 4 and 2 rows (3% of
// layer1's and layer2's products computed on rows of zeros); and 16 vpdpbusd share each group's
// two B loads instead of 12.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
void rt_int8_tile_vnni(long kgroups, const int8_t *a, const uint8_t *b, long bstride, int32_t *c, long ldc,
                       int rows, int cols, int accumulate, const rt_requant_tile *rq) {
    if (cols <= 8) { tile_vnni_8(kgroups, a, b, bstride, c, ldc, rows, cols, accumulate, rq); return; }
    if (cols <= 16) { tile_vnni_16(kgroups, a, b, bstride, c, ldc, rows, cols, accumulate, rq); return; }
    if (cols <= 24) {
        // The half, then a quarter for columns 16 ..< cols (B's bytes 64 on): three quarters of the
        // full tile's time. Why: resnet50's 7x7 outputs (49 positions: 32 + 17) of its 2048-channel
        // 1x1s, which run plain, spent a full panel on 17 columns.
        tile_vnni_16(kgroups, a, b, bstride, c, ldc, rows, 16, accumulate, rq);
        rt_requant_tile right;
        if (rq) {
            right = *rq;
            right.out = rq->out ? rq->out + 16 : 0;
            right.bytes = rq->bytes ? rq->bytes + 16 : 0;
        }
        tile_vnni_8(kgroups, a, b + 64, bstride, c + 16, ldc, rows, cols - 16, accumulate, rq ? &right : 0);
        return;
    }
    __m512i c00 = _mm512_setzero_si512(), c01 = _mm512_setzero_si512(), c10 = _mm512_setzero_si512(), c11 = _mm512_setzero_si512();
    __m512i c20 = _mm512_setzero_si512(), c21 = _mm512_setzero_si512(), c30 = _mm512_setzero_si512(), c31 = _mm512_setzero_si512();
    __m512i c40 = _mm512_setzero_si512(), c41 = _mm512_setzero_si512(), c50 = _mm512_setzero_si512(), c51 = _mm512_setzero_si512();
    __m512i c60 = _mm512_setzero_si512(), c61 = _mm512_setzero_si512(), c70 = _mm512_setzero_si512(), c71 = _mm512_setzero_si512();
    for (long g = 0; g < kgroups; g++) {
        // vpdpbusd(acc, u8 x 64, s8 x 64): per int32 lane, the sum of 4 uint8 x int8 products.
        __m512i b0 = _mm512_loadu_si512(b + g * bstride), b1 = _mm512_loadu_si512(b + g * bstride + 64);
        const int8_t *ap = a + g * 32;
        // The next row panel's weights (packed right after this panel's), a line ahead of their use: the
        // first column panel reads each slice of a model's weights from memory. The address in integers:
        // after the last panel it lies past the weights, which as pointer arithmetic would be undefined.
        _mm_prefetch((const char *)((uintptr_t)ap + 32 * (uintptr_t)kgroups), _MM_HINT_T0);
        __m512i x = _mm512_set1_epi32(load32(ap));
        c00 = _mm512_dpbusd_epi32(c00, b0, x); c01 = _mm512_dpbusd_epi32(c01, b1, x);
        x = _mm512_set1_epi32(load32(ap + 4)); c10 = _mm512_dpbusd_epi32(c10, b0, x); c11 = _mm512_dpbusd_epi32(c11, b1, x);
        x = _mm512_set1_epi32(load32(ap + 8)); c20 = _mm512_dpbusd_epi32(c20, b0, x); c21 = _mm512_dpbusd_epi32(c21, b1, x);
        x = _mm512_set1_epi32(load32(ap + 12)); c30 = _mm512_dpbusd_epi32(c30, b0, x); c31 = _mm512_dpbusd_epi32(c31, b1, x);
        x = _mm512_set1_epi32(load32(ap + 16)); c40 = _mm512_dpbusd_epi32(c40, b0, x); c41 = _mm512_dpbusd_epi32(c41, b1, x);
        x = _mm512_set1_epi32(load32(ap + 20)); c50 = _mm512_dpbusd_epi32(c50, b0, x); c51 = _mm512_dpbusd_epi32(c51, b1, x);
        x = _mm512_set1_epi32(load32(ap + 24)); c60 = _mm512_dpbusd_epi32(c60, b0, x); c61 = _mm512_dpbusd_epi32(c61, b1, x);
        x = _mm512_set1_epi32(load32(ap + 28)); c70 = _mm512_dpbusd_epi32(c70, b0, x); c71 = _mm512_dpbusd_epi32(c71, b1, x);
    }
    finish_vnni(c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71, c, ldc, rows, cols, accumulate, rq);
}

// rt_int8_tile_vnni down a column panel: row panels 0 ..< panels of one K slice (panel p's weights
// at a + 32 * kgroups * p, its rows 8p ..< min(8p + 8, rows) of C and of rq's outputs). Why: the
// Swift loop around one tile call measured 2.6% of resnet50-qop's run on one Zen 4 core.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
void rt_int8_tiles_vnni(long kgroups, const int8_t *a, long panels, const uint8_t *b, long bstride, int32_t *c, long ldc,
                        long rows, int cols, int accumulate, const rt_requant_tile *rq) {
    rt_requant_tile shifted;
    if (rq) shifted = *rq;
    for (long p = 0; p < panels; p++) {
        int panel_rows = rows - 8 * p < 8 ? (int)(rows - 8 * p) : 8;
        if (rq) {
            shifted.constant = rq->constant + 8 * p;
            shifted.multiplier = rq->multiplier + 8 * p;
            shifted.out = rq->out ? rq->out + 8 * p * rq->ldo : 0;
            shifted.bytes = rq->bytes ? rq->bytes + 8 * p * rq->ldo : 0;
        }
        rt_int8_tile_vnni(kgroups, a + 32 * kgroups * p, b, bstride, c + 8 * p * ldc, ldc, panel_rows, cols, accumulate, rq ? &shifted : 0);
    }
}

// rt_int8_tile_vnni along a row panel: column panels 0 ..< panels of one K slice (panel q's B at
// b + 128 q, its columns 32q ..< min(32q + 32, columns) of C and of rq's outputs). The row-panel-first
// order (Int8Gemm's rowsFirst: a shallow K, a large output) calls the tile once per panel.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
void rt_int8_tiles_vnni_across(long kgroups, const int8_t *a, const uint8_t *b, long bstride, long panels, long columns,
                               int32_t *c, long ldc, int rows, int accumulate, const rt_requant_tile *rq) {
    rt_requant_tile shifted;
    if (rq) shifted = *rq;
    for (long q = 0; q < panels; q++) {
        long cols = columns - 32 * q < 32 ? columns - 32 * q : 32;
        if (rq) {
            shifted.out = rq->out ? rq->out + 32 * q : 0;
            shifted.bytes = rq->bytes ? rq->bytes + 32 * q : 0;
        }
        rt_int8_tile_vnni(kgroups, a, b + 128 * q, bstride, c + 32 * q, ldc, rows, (int)cols, accumulate, rq ? &shifted : 0);
    }
}

// The transposed VNNI tile: output positions as the rows, output channels as the columns, `panel`
// (6 or 7, a constant in each caller) rows computed. Rows past `rows` repeat the last real
// position's bytes: computed, never stored, and never read past the operand's row.
// Why seven: resnet's last stage has 49 positions, nine six-row panels (54 rows of work, one
// panel with a single real row) or seven seven-row ones (49).
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"), always_inline))
static inline void tile_vnni_t(const int panel, long kgroups, const uint8_t *a, long astride, const int8_t *w, int32_t *c,
                               long ldc, int rows, int cols, int accumulate, const int8_t *prefetch, long prefetch_lines) {
    __m512i c00 = _mm512_setzero_si512(), c01 = _mm512_setzero_si512(), c10 = _mm512_setzero_si512(), c11 = _mm512_setzero_si512();
    __m512i c20 = _mm512_setzero_si512(), c21 = _mm512_setzero_si512(), c30 = _mm512_setzero_si512(), c31 = _mm512_setzero_si512();
    __m512i c40 = _mm512_setzero_si512(), c41 = _mm512_setzero_si512(), c50 = _mm512_setzero_si512(), c51 = _mm512_setzero_si512();
    __m512i c60 = _mm512_setzero_si512(), c61 = _mm512_setzero_si512();
    const long last = rows - 1;
    const long o1 = 4 * (1 < last ? 1 : last), o2 = 4 * (2 < last ? 2 : last), o3 = 4 * (3 < last ? 3 : last);
    const long o4 = 4 * (4 < last ? 4 : last), o5 = 4 * (5 < last ? 5 : last), o6 = 4 * (6 < last ? 6 : last);
    for (long g = 0; g < kgroups; g++) {
        // vpdpbusd(acc, u8 x 64, s8 x 64): the positions' bytes (broadcast) times 16 channels' weights.
        __m512i w0 = _mm512_loadu_si512(w + g * 128), w1 = _mm512_loadu_si512(w + g * 128 + 64);
        // This pass's share of the next weight block's lines, one a group (the driver's choice).
        if (g < prefetch_lines) _mm_prefetch((const char *)(prefetch + 64 * g), _MM_HINT_T0);
        const uint8_t *ap = a + g * astride;
        __m512i x = _mm512_set1_epi32(load32(ap));
        c00 = _mm512_dpbusd_epi32(c00, x, w0); c01 = _mm512_dpbusd_epi32(c01, x, w1);
        x = _mm512_set1_epi32(load32(ap + o1)); c10 = _mm512_dpbusd_epi32(c10, x, w0); c11 = _mm512_dpbusd_epi32(c11, x, w1);
        x = _mm512_set1_epi32(load32(ap + o2)); c20 = _mm512_dpbusd_epi32(c20, x, w0); c21 = _mm512_dpbusd_epi32(c21, x, w1);
        x = _mm512_set1_epi32(load32(ap + o3)); c30 = _mm512_dpbusd_epi32(c30, x, w0); c31 = _mm512_dpbusd_epi32(c31, x, w1);
        x = _mm512_set1_epi32(load32(ap + o4)); c40 = _mm512_dpbusd_epi32(c40, x, w0); c41 = _mm512_dpbusd_epi32(c41, x, w1);
        x = _mm512_set1_epi32(load32(ap + o5)); c50 = _mm512_dpbusd_epi32(c50, x, w0); c51 = _mm512_dpbusd_epi32(c51, x, w1);
        if (panel > 6) {
            x = _mm512_set1_epi32(load32(ap + o6)); c60 = _mm512_dpbusd_epi32(c60, x, w0); c61 = _mm512_dpbusd_epi32(c61, x, w1);
        }
    }
    // (rows <= panel: the seventh pair is stored only by the seven-row tile, the eighth never.)
    const __m512i z = _mm512_setzero_si512();
    store_rows_vnni(c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, z, z, c, ldc, rows < panel ? rows : panel, cols,
                    accumulate);
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
void rt_int8_tile_vnni_t(long kgroups, const uint8_t *a, long astride, const int8_t *w, int32_t *c, long ldc,
                         int rows, int cols, int accumulate, const int8_t *prefetch, long prefetch_lines) {
    tile_vnni_t(6, kgroups, a, astride, w, c, ldc, rows, cols, accumulate, prefetch, prefetch_lines);
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
void rt_int8_tile_vnni_t7(long kgroups, const uint8_t *a, long astride, const int8_t *w, int32_t *c, long ldc,
                          int rows, int cols, int accumulate, const int8_t *prefetch, long prefetch_lines) {
    tile_vnni_t(7, kgroups, a, astride, w, c, ldc, rows, cols, accumulate, prefetch, prefetch_lines);
}
