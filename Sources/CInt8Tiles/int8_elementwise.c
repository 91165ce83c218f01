#include <immintrin.h>
#include "int8_tiles.h"
#include "int8_vector.h"

// No contraction of plain expressions into fused multiply-adds: QLinearAdd's constant
// zc - (ra·za + rb·zb) is rounded after each operation, as the reference set (Planner+Quantized.swift)
// and onnxruntime's baseline build compute it; its explicit fused multiply-adds stay fused.
#pragma STDC FP_CONTRACT OFF

// The elementwise int8 kernels (AVX2): QuantizeLinear, DequantizeLinear, float-coded values to
// bytes, and QLinearAdd, whose operands may come as float-coded values or as byte images and whose
// result goes to either or both. Apart from the tiles (int8_tiles.c, int8_tiles_avx2.c), of which the AVX2 ones share only the
// requantization (int8_vector.h) with them.

__attribute__((target("avx2")))
void rt_quantize_divide_avx2(const float *x, long n, float scale, float zp, float lo, float hi, float *out) {
    // A division, not a multiplication by 1 / scale: ONNX's QuantizeLinear divides, and the two round differently.
    __m256 s = _mm256_set1_ps(scale), z = _mm256_set1_ps(zp), l = _mm256_set1_ps(lo), h = _mm256_set1_ps(hi);
    long i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, quantize8(_mm256_div_ps(_mm256_loadu_ps(x + i), s), z, l, h));
    for (; i < n; i++) out[i] = quantize1(x[i] / scale, zp, lo, hi);
}

__attribute__((target("avx2")))
void rt_dequantize_avx2(const float *x, long n, float zp, float scale, float *out) {
    __m256 z = _mm256_set1_ps(zp), s = _mm256_set1_ps(scale);
    long i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), z), s));
    for (; i < n; i++) out[i] = (x[i] - zp) * scale;
}

// 32 values as store_bytes8 converts them, in fewer instructions: the packs saturate to [0, 255]
// (cvttps gives INT_MIN for NaN and anything out of int32's range, which saturates to 0, hence
// the min first, NaN kept: vminps returns its second operand when either is NaN), and one lane
// permutation undoes the packs' 128-bit lane order. (Eight at a time, the conversion took as long
// as QLinearAdd's arithmetic.)
__attribute__((target("avx2")))
static inline void store_bytes32(__m256 x0, __m256 x1, __m256 x2, __m256 x3, __m256 offset, uint8_t *out) {
    const __m256 top = _mm256_set1_ps(255);
    __m256i w0 = _mm256_cvttps_epi32(_mm256_min_ps(top, _mm256_add_ps(x0, offset)));
    __m256i w1 = _mm256_cvttps_epi32(_mm256_min_ps(top, _mm256_add_ps(x1, offset)));
    __m256i w2 = _mm256_cvttps_epi32(_mm256_min_ps(top, _mm256_add_ps(x2, offset)));
    __m256i w3 = _mm256_cvttps_epi32(_mm256_min_ps(top, _mm256_add_ps(x3, offset)));
    // Per 128-bit lane: (w0, w1) then (w2, w3) words, then bytes: lane 0 holds the first halves, lane 1 the second.
    __m256i b = _mm256_packus_epi16(_mm256_packus_epi32(w0, w1), _mm256_packus_epi32(w2, w3));
    _mm256_storeu_si256((__m256i *)out, _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
}

__attribute__((target("avx2")))
void rt_bytes_from_floats_avx2(const float *x, long n, float offset, uint8_t *out) {
    __m256 o = _mm256_set1_ps(offset);
    long i = 0;
    for (; i + 32 <= n; i += 32) {
        store_bytes32(_mm256_loadu_ps(x + i), _mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(x + i + 16), _mm256_loadu_ps(x + i + 24), o, out + i);
    }
    for (; i + 8 <= n; i += 8) store_bytes8(_mm256_loadu_ps(x + i), o, out + i);
    for (; i < n; i++) out[i] = byte1(x[i], offset);
}

// Eight values of one QLinearAdd operand from j: float-coded (f), or bytes holding value + offset (u).
__attribute__((target("avx2")))
static inline __m256 operand8(const float *f, const uint8_t *u, __m256 offset, long j) {
    if (!u) return _mm256_loadu_ps(f + j);
    __m256i w = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(u + j)));
    return _mm256_sub_ps(_mm256_cvtepi32_ps(w), offset);
}

static inline float operand1(const float *f, const uint8_t *u, float offset, long j) {
    return u ? (float)u[j] - offset : f[j];
}

__attribute__((target("avx2,fma")))
void rt_qlinear_add_avx2(const float *a, const uint8_t *a_bytes, float a_offset, const float *b, const uint8_t *b_bytes, float b_offset,
                         int b_scalar, long n, float za, float zb, float ra, float rb, float zc, float lo, float hi,
                         float *out, uint8_t *bytes, float byte_offset) {
    // MLAS's QLinearAdd: the zero points folded into one constant, then two fused multiply-adds on
    // the raw values, B's first, rounded once: round(fma(a, ra, fma(b, rb, zc - (ra·za + rb·zb)))).
    // An operand read from bytes is the same integer (byte - offset is exact), so the same result.
    // The operands' sources and the outputs are fixed for the call: their branches are always
    // predicted, and the loop stays bound by its memory traffic (resnet50's joins, 800K values).
    float fixed = zc - (ra * za + rb * zb);
    __m256 vf = _mm256_set1_ps(fixed), vra = _mm256_set1_ps(ra), vrb = _mm256_set1_ps(rb);
    __m256 zero = _mm256_setzero_ps(), l = _mm256_set1_ps(lo), h = _mm256_set1_ps(hi), o = _mm256_set1_ps(byte_offset);
    __m256 ao = _mm256_set1_ps(a_offset), bo = _mm256_set1_ps(b_offset);
    long i = 0;
#define RT_QADD8(j) quantize8(_mm256_fmadd_ps(operand8(a, a_bytes, ao, (j)), vra, \
                                              _mm256_fmadd_ps(b_scalar ? _mm256_set1_ps(b[0]) : operand8(b, b_bytes, bo, (j)), vrb, vf)), zero, l, h)
    if (bytes) {
        for (; i + 32 <= n; i += 32) {
            __m256 q0 = RT_QADD8(i), q1 = RT_QADD8(i + 8), q2 = RT_QADD8(i + 16), q3 = RT_QADD8(i + 24);
            if (out) {
                _mm256_storeu_ps(out + i, q0); _mm256_storeu_ps(out + i + 8, q1);
                _mm256_storeu_ps(out + i + 16, q2); _mm256_storeu_ps(out + i + 24, q3);
            }
            store_bytes32(q0, q1, q2, q3, o, bytes + i);
        }
    }
    for (; i + 8 <= n; i += 8) {
        __m256 q = RT_QADD8(i);
        if (out) _mm256_storeu_ps(out + i, q);
        if (bytes) store_bytes8(q, o, bytes + i);
    }
#undef RT_QADD8
    for (; i < n; i++) {
        float bv = b_scalar ? b[0] : operand1(b, b_bytes, b_offset, i);
        float q = quantize1(__builtin_fmaf(operand1(a, a_bytes, a_offset, i), ra, __builtin_fmaf(bv, rb, fixed)), 0, lo, hi);
        if (out) out[i] = q;
        if (bytes) bytes[i] = byte1(q, byte_offset);
    }
}

// Sixteen joins of rt_qlinear_add_bytes_avx512 from 16 bytes of each operand to 16 bytes: the AVX2
// kernel's operands (byte - offset, exact) and its two fused multiply-adds, then the result clamped
// to [lo, hi] in float (vmaxps first: NaN takes its second operand, lo), rounded half to even by the
// conversion itself and narrowed: round(clamp(x)) = clamp(round(x)) for whole-number bounds, and the
// byte clamp to [0, 255] is a no-op where the caller checked [lo, hi] + offset inside it.
__attribute__((target("avx512f,avx512bw,avx512vl,fma")))
static inline __m128i qadd16(__m128i a8, __m128i b8, __m512 ao, __m512 bo, __m512 vra, __m512 vrb, __m512 vf, __m512 l, __m512 h,
                             __m512i o) {
    __m512 a = _mm512_sub_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(a8)), ao);
    __m512 b = _mm512_sub_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(b8)), bo);
    __m512 x = _mm512_min_ps(_mm512_max_ps(_mm512_fmadd_ps(a, vra, _mm512_fmadd_ps(b, vrb, vf)), l), h);
    return _mm512_cvtepi32_epi8(_mm512_add_epi32(_mm512_cvt_roundps_epi32(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), o));
}

__attribute__((target("avx512f,avx512bw,avx512vl,fma")))
int rt_qlinear_add_bytes_avx512(const uint8_t *a_bytes, float a_offset, const uint8_t *b_bytes, float b_offset, long n,
                                float za, float zb, float ra, float rb, float zc, float lo, float hi, uint8_t *bytes, float byte_offset) {
    if (lo != __builtin_truncf(lo) || hi != __builtin_truncf(hi) || byte_offset != __builtin_truncf(byte_offset)
        || !(__builtin_fabsf(lo) <= 65536) || !(__builtin_fabsf(hi) <= 65536) || !(__builtin_fabsf(byte_offset) <= 65536)
        || !(lo + byte_offset >= 0) || !(hi + byte_offset <= 255)) return 0;
    float fixed = zc - (ra * za + rb * zb);
    const __m512 vf = _mm512_set1_ps(fixed), vra = _mm512_set1_ps(ra), vrb = _mm512_set1_ps(rb);
    const __m512 l = _mm512_set1_ps(lo), h = _mm512_set1_ps(hi), ao = _mm512_set1_ps(a_offset), bo = _mm512_set1_ps(b_offset);
    const __m512i o = _mm512_set1_epi32((int32_t)byte_offset);
    long i = 0;
    for (; i + 64 <= n; i += 64) {
        __m512i a = _mm512_loadu_si512(a_bytes + i), b = _mm512_loadu_si512(b_bytes + i);
        __m512i r = _mm512_castsi128_si512(qadd16(_mm512_castsi512_si128(a), _mm512_castsi512_si128(b), ao, bo, vra, vrb, vf, l, h, o));
        r = _mm512_inserti32x4(r, qadd16(_mm512_extracti32x4_epi32(a, 1), _mm512_extracti32x4_epi32(b, 1), ao, bo, vra, vrb, vf, l, h, o), 1);
        r = _mm512_inserti32x4(r, qadd16(_mm512_extracti32x4_epi32(a, 2), _mm512_extracti32x4_epi32(b, 2), ao, bo, vra, vrb, vf, l, h, o), 2);
        r = _mm512_inserti32x4(r, qadd16(_mm512_extracti32x4_epi32(a, 3), _mm512_extracti32x4_epi32(b, 3), ao, bo, vra, vrb, vf, l, h, o), 3);
        _mm512_storeu_si512(bytes + i, r);
    }
    // The last n % 64 values, 16 at a time, masked: nothing read or written past n.
    for (; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? 0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        __m128i r = qadd16(_mm_maskz_loadu_epi8(m, a_bytes + i), _mm_maskz_loadu_epi8(m, b_bytes + i), ao, bo, vra, vrb, vf, l, h, o);
        _mm_mask_storeu_epi8(bytes + i, m, r);
    }
    return 1;
}

// The sum of a vector's eight int32 lanes (wrapping, as the tiles' sums would).
__attribute__((target("avx2")))
static inline int32_t lanes_sum(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

__attribute__((target("avx2")))
void rt_int8_gemv_avx2(const int8_t *w, long ldw, long m, long k, const uint8_t *x, int32_t *y) {
    // Sixteen k a step: x's bytes widened to int16 once per four rows, each row's int8 weights to
    // int16, vpmaddwd's pair sums (at most 2 · 128 · 255 each) added into eight int32 lanes.
    long j = 0;
    for (; j + 4 <= m; j += 4) {
        const int8_t *w0 = w + j * ldw, *w1 = w0 + ldw, *w2 = w1 + ldw, *w3 = w2 + ldw;
        __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
        long q = 0;
        for (; q + 16 <= k; q += 16) {
            __m256i xv = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(x + q)));
            a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(w0 + q))), xv));
            a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(w1 + q))), xv));
            a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(w2 + q))), xv));
            a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(w3 + q))), xv));
        }
        int32_t s0 = lanes_sum(a0), s1 = lanes_sum(a1), s2 = lanes_sum(a2), s3 = lanes_sum(a3);
        for (; q < k; q++) {
            int32_t xq = x[q];
            s0 += w0[q] * xq; s1 += w1[q] * xq; s2 += w2[q] * xq; s3 += w3[q] * xq;
        }
        y[j] = s0; y[j + 1] = s1; y[j + 2] = s2; y[j + 3] = s3;
    }
    for (; j < m; j++) {
        const int8_t *row = w + j * ldw;
        __m256i a = _mm256_setzero_si256();
        long q = 0;
        for (; q + 16 <= k; q += 16) {
            __m256i xv = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(x + q)));
            a = _mm256_add_epi32(a, _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(row + q))), xv));
        }
        int32_t s = lanes_sum(a);
        for (; q < k; q++) s += row[q] * (int32_t)x[q];
        y[j] = s;
    }
}

// A 3x3 stride-2 max pool of byte planes (AVX2). Each output row: the valid input rows of its
// window (at least one, the caller checked) folded into `row` by vpmaxub, with pad_left zeros
// before and zeros after, then each output the largest of three neighbours, 16 at a time on
// 16-bit lanes (even bytes, odd bytes, and the next even byte). Zero, the smallest byte, stands in
// for the window's padding: with a real cell in every window it never wins where it should not.
__attribute__((target("avx2")))
void rt_maxpool3x3s2_bytes_avx2(const uint8_t *x, long planes, long h, long w, long out_h, long out_w, long pad_top, long pad_left,
                                uint8_t *y, uint8_t *row, long row_bytes) {
    for (long i = 0; i < row_bytes; i++) row[i] = 0;
    const __m256i low = _mm256_set1_epi16(0x00FF);
    for (long plane = 0; plane < planes; plane++) {
        const uint8_t *xp = x + plane * h * w;
        uint8_t *yp = y + plane * out_h * out_w, *v = row + pad_left;
        for (long oy = 0; oy < out_h; oy++) {
            long first = 2 * oy - pad_top, rows = 0;
            for (long iy = first < 0 ? 0 : first; iy < first + 3 && iy < h; iy++, rows++) {
                const uint8_t *src = xp + iy * w;
                long j = 0;
                if (rows == 0) {
                    for (; j + 32 <= w; j += 32) _mm256_storeu_si256((__m256i *)(v + j), _mm256_loadu_si256((const __m256i *)(src + j)));
                    for (; j < w; j++) v[j] = src[j];
                } else {
                    for (; j + 32 <= w; j += 32) {
                        __m256i m = _mm256_max_epu8(_mm256_loadu_si256((const __m256i *)(v + j)), _mm256_loadu_si256((const __m256i *)(src + j)));
                        _mm256_storeu_si256((__m256i *)(v + j), m);
                    }
                    for (; j < w; j++) v[j] = v[j] > src[j] ? v[j] : src[j];
                }
            }
            uint8_t *out = yp + oy * out_w;
            for (long ox = 0; ox < out_w; ox += 16) {
                // row[2 ox + kx] is input column 2 ox - pad_left + kx.
                __m256i a = _mm256_loadu_si256((const __m256i *)(row + 2 * ox)), b = _mm256_loadu_si256((const __m256i *)(row + 2 * ox + 2));
                __m256i m = _mm256_max_epu16(_mm256_max_epu16(_mm256_and_si256(a, low), _mm256_srli_epi16(a, 8)), _mm256_and_si256(b, low));
                __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi16(m, m), 0x08);
                if (out_w - ox >= 16) {
                    _mm_storeu_si128((__m128i *)(out + ox), _mm256_castsi256_si128(packed));
                } else {
                    uint8_t last[16];
                    _mm_storeu_si128((__m128i *)last, _mm256_castsi256_si128(packed));
                    for (long i = 0; i < out_w - ox; i++) out[ox + i] = last[i];
                }
            }
        }
    }
}
