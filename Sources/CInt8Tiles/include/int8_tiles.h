#ifndef RT_INT8_TILES_H
#define RT_INT8_TILES_H
#include <stdint.h>

// The integer GEMM's register tiles (issue 13): C[rows, cols] (+)= A · B with A the
// weights (int8) and B the activations (uint8), exact int32 accumulation. In C because
// Swift has no way to ask for vpdpbusd. Each function is compiled for its own
// instruction set (target attributes), so this file builds for any x86-64 and a
// function runs only where CPUID says it may (KernelSet.detect, rt_cpu_has_avx512_vnni).
//
// VNNI (8 x 32; rows 1...8): per group of 4 k, A holds 8 rows x 4 int8 (row r's bytes at 4r),
// B holds 32 columns x 4 uint8 (column j's bytes at 4j); consecutive groups of B are
// bstride bytes apart (B is the whole interleaved operand, read in place). kgroups groups.
//
// With `rq` (the last K slice of a product whose requantization needs no column sums), the
// tile does not store C: row r's sums (+ C's, if accumulating) + rq->constant[r] are
// requantized as rt_requantize_row_avx2 does, with rq->multiplier[r], into the floats at
// rq->out + r * rq->ldo (the tile's first output; none where rq->out is NULL), for the valid
// rows x cols only. With rq->bytes (else NULL), each output is also stored at the same offset
// from rq->bytes as rt_bytes_from_floats_avx2 converts it with rq->byte_offset (a byte image).
// At least one of the two is given.
typedef struct {
    const int32_t *constant;
    const float *multiplier;
    float zp, lo, hi;
    float *out;
    long ldo;
    uint8_t *bytes;
    float byte_offset;
} rt_requant_tile;

void rt_int8_tile_vnni(long kgroups, const int8_t *a, const uint8_t *b, long bstride, int32_t *c, long ldc,
                       int rows, int cols, int accumulate, const rt_requant_tile *rq);
// rt_int8_tile_vnni for row panels 0 ..< panels of one K slice down one column panel: panel p's
// weights at a + 32 * kgroups * p, its rows 8p ..< min(8p + 8, rows) of C (and of rq's outputs,
// rq's constants and multipliers from its row 8p). rows > 8 * (panels - 1).
void rt_int8_tiles_vnni(long kgroups, const int8_t *a, long panels, const uint8_t *b, long bstride, int32_t *c, long ldc,
                        long rows, int cols, int accumulate, const rt_requant_tile *rq);
// rt_int8_tile_vnni for column panels 0 ..< panels of one K slice along one row panel: panel q's B
// at b + 128 q, its columns 32q ..< min(32q + 32, columns) of C (and of rq's outputs, 32q on).
// columns > 32 * (panels - 1); rows 1...8.
void rt_int8_tiles_vnni_across(long kgroups, const int8_t *a, const uint8_t *b, long bstride, long panels, long columns,
                               int32_t *c, long ldc, int rows, int accumulate, const rt_requant_tile *rq);

// Transposed VNNI (6 x 32; rows 1...6): Cᵀ[positions, channels] (+)= Aᵀ · Wᵀ with six output
// positions as the rows and 32 output channels as the columns. Per group of 4 k, position r's
// 4 uint8 are at a + 4 * min(r, rows - 1) (the operand B of rt_int8_tile_vnni read in place;
// consecutive groups `astride` bytes apart), and the group's weights are 32 channels x 4 int8
// (channel j's bytes at 4j) at w + 128 * group. No fused requantization: C holds the sums.
// It prefetches the 64-byte lines at prefetch + 64 i for i < prefetch_lines (at most one a group;
// addresses only, never read: prefetch may be NULL with 0 lines).
void rt_int8_tile_vnni_t(long kgroups, const uint8_t *a, long astride, const int8_t *w, int32_t *c, long ldc,
                         int rows, int cols, int accumulate, const int8_t *prefetch, long prefetch_lines);
// rt_int8_tile_vnni_t with seven positions as the rows (rows 1...7): a 49-position plane in seven
// whole panels.
void rt_int8_tile_vnni_t7(long kgroups, const uint8_t *a, long astride, const int8_t *w, int32_t *c, long ldc,
                          int rows, int cols, int accumulate, const int8_t *prefetch, long prefetch_lines);

// (int8_tiles_avx2.c, as are rt_requantize_row_avx2 and the bytes tiles below.)
// AVX2 (6 x 16), exact: per pair of k, A holds 6 rows x 2 int16 (row r's at 2r), B holds
// 16 columns x 2 int16 (column j's at 2j), both widened from 8 bits at packing time,
// so vpmaddwd's products and pair sums cannot saturate; consecutive pairs of B are
// bstride int16 apart. kpairs pairs.
void rt_int8_tile_avx2(long kpairs, const int16_t *a, const int16_t *b, long bstride, int32_t *c, long ldc,
                       int rows, int cols, int accumulate, const rt_requant_tile *rq);
// rt_int8_tile_avx2 for cols <= 8: the tile's left half alone (B's first 8 columns read).
void rt_int8_tile_avx2_half(long kpairs, const int16_t *a, const int16_t *b, long bstride, int32_t *c, long ldc,
                            int rows, int cols, int accumulate, const rt_requant_tile *rq);

// AVX2 on bytes (6 x 16): the VNNI tile's operands (A 6 rows x 4 int8 per group of 4 k, B 4 uint8 per
// column per group, groups bstride bytes apart, 16 columns read), multiplied by vpmaddubsw, whose
// int16 pair sums x0·w0 + x1·w1 saturate past [-32768, 32767]: exact only for the pairs
// rt_int8_saturation_scan does not flag; the caller corrects those (Int8Gemm).
void rt_int8_tile_avx2_bytes(long kgroups, const int8_t *a, const uint8_t *b, long bstride, int32_t *c, long ldc,
                             int rows, int cols, int accumulate, const rt_requant_tile *rq);
// rt_int8_tile_avx2_bytes for cols <= 8 (B's first 32 bytes of each group read).
void rt_int8_tile_avx2_bytes_half(long kgroups, const int8_t *a, const uint8_t *b, long bstride, int32_t *c, long ldc,
                                  int rows, int cols, int accumulate, const rt_requant_tile *rq);

// The pairs of a 32-column panel of that operand (kgroups groups, bstride bytes apart) whose
// saturation bound x0·a0 + x1·a1 passes 32767 - 510, with a_k = bound[k] (a column's largest
// |weight|, at most 127: a weight of -128 adds at most x0 + x1 <= 510): for each group with a
// flagged pair, its index into `groups` and four 32-bit masks into `masks` (the 32-byte quarter
// q's lane l, a pair, at bit 2l of masks[4i + q]). Returns the groups found (at most kgroups).
long rt_int8_saturation_scan(const uint8_t *b, long bstride, long kgroups, const int8_t *bound, uint32_t *groups, uint32_t *masks);

// The corrections of one flagged pair: for rows i < `rows`, with w0, w1 = pairs[2i], pairs[2i + 1]
// (the pair's weights of row i; `pairs` readable to whole groups of 8 rows), the exact x0·w0 + x1·w1
// minus it clamped to [-32768, 32767] is added to c[i * ldc] (where nonzero).
void rt_int8_saturation_correct(const int8_t *pairs, long rows, int x0, int x1, int32_t *c, long ldc);

// A 32-column panel of that operand (kgroups groups of 128 bytes, bstride apart) as two, 128 bytes a
// group: low = min(x, 127), high = max(x - 127, 0) (so low + high = x), neither of whose pair sums
// can saturate with int8 weights.
void rt_int8_split_bytes(const uint8_t *b, long bstride, long kgroups, uint8_t *low, uint8_t *high);

// Requantization of one row (AVX2): out[j] = min(max(nearbyint((float)(acc[j] + constant) * scale)
// + zp, lo), hi), round half to even, NaN to lo: exactly Requantization.apply's arithmetic.
void rt_requantize_row_avx2(const int32_t *acc, long n, int32_t constant, float scale, float zp, float lo, float hi, float *out);

// QuantizeLinear (AVX2): out[i] = min(max(nearbyint(x[i] / scale) + zp, lo), hi), NaN to lo: QuantizedRange.quantize's arithmetic.
void rt_quantize_divide_avx2(const float *x, long n, float scale, float zp, float lo, float hi, float *out);

// DequantizeLinear (AVX2): out[i] = (x[i] - zp) * scale, a subtraction then a multiplication (no fused multiply-add).
void rt_dequantize_avx2(const float *x, long n, float zp, float scale, float *out);

// Float-coded 8-bit values plus `offset` as bytes: clamped to [0, 255], NaN to 0 (AVX2).
void rt_bytes_from_floats_avx2(const float *x, long n, float offset, uint8_t *out);

// com.microsoft QLinearAdd in MLAS's arithmetic (AVX2, FMA): clamp(nearbyint(fma(a, ra, fma(b, rb, zc - (ra·za + rb·zb))))).
// Each operand from float-coded values (a, b) or, where its `_bytes` is non-NULL, from bytes holding
// value + offset; b_scalar: b has one (float-coded) value. The result to `out` (else NULL) and, where
// `bytes` is non-NULL, as rt_bytes_from_floats_avx2 converts it with `byte_offset` (the byte image its
// readers take); at least one of the two.
void rt_qlinear_add_avx2(const float *a, const uint8_t *a_bytes, float a_offset, const float *b, const uint8_t *b_bytes, float b_offset,
                         int b_scalar, long n, float za, float zb, float ra, float rb, float zc, float lo, float hi,
                         float *out, uint8_t *bytes, float byte_offset);

// rt_qlinear_add_avx2 on AVX-512 (F, BW) for the joins a quantized resnet runs between byte images:
// both operands from bytes, the result to bytes alone, element for element the same bytes. It
// returns 0 and writes nothing where it does not apply (range or output offset not whole numbers of
// at most 2^16, or [lo, hi] + byte_offset outside [0, 255]); the caller then runs the AVX2 kernel.
int rt_qlinear_add_bytes_avx512(const uint8_t *a_bytes, float a_offset, const uint8_t *b_bytes, float b_offset, long n,
                                float za, float zb, float ra, float rb, float zc, float lo, float hi, uint8_t *bytes, float byte_offset);

// MaxPool 3x3, stride 2, dilation 1 over `planes` byte planes h x w into out_h x out_w, windows
// starting at (2 oy - pad_top, 2 ox - pad_left); every window must hold a cell of the plane (the
// caller checks: Int8Pooling.takesBytes). `row` is scratch of row_bytes >= max(pad_left + w,
// 2 out_w + 2) + 48 bytes. The same bytes as Int8Pooling.maxPoolReference.
void rt_maxpool3x3s2_bytes_avx2(const uint8_t *x, long planes, long h, long w, long out_h, long out_w, long pad_top, long pad_left,
                                uint8_t *y, uint8_t *row, long row_bytes);

// y[j] = Σ_k w[j · ldw + k] · x[k] for rows j < m (AVX2), exact in int32 while k · 128 · 255 < 2^31
// (the planner's k is at most 33,025): a product with one column, as a classifier at batch 1 is.
void rt_int8_gemv_avx2(const int8_t *w, long ldw, long m, long k, const uint8_t *x, int32_t *y);

// (int8_operand.c: the operand builders, to rt_shifted_planes.)
// out[4j + t] = r_t[j] for j < n: four byte rows interleaved as the VNNI operand wants them (AVX2).
void rt_interleave4_avx2(const uint8_t *r0, const uint8_t *r1, const uint8_t *r2, const uint8_t *r3, long n, uint8_t *out);

// Four h x w byte planes interleaved as rt_interleave4_avx2 does, the words of each stride-2 phase
// (rows py, py + 2, ...; columns px, px + 2, ...) a ph x pw plane at out + (2 py + px) x ph x pw
// (ph = (h + 1) / 2, pw = (w + 1) / 2; cells past the image 0). AVX2.
void rt_interleave4_phases(const uint8_t *r0, const uint8_t *r1, const uint8_t *r2, const uint8_t *r3, long h, long w,
                           long ph, long pw, uint32_t *out);

// out[j] = r0[j] | r1[j] << 16 for j < n: two byte rows as the AVX2 tile's k pairs of int16 (AVX2).
void rt_widen_pairs_avx2(const uint8_t *r0, const uint8_t *r1, long n, uint32_t *out);

// Int8TapMajor.copyRows' rows of B for one tap and channel groups 0 ..< groups (group q's
// H x W word image at image + q x area, its row of B at out + q x out_stride) over output rows
// oy0 ..< oy0 + rows (outW words each from `out`): input row oy x stride_h + dy of the image, its words at
// ox x stride_w + shift for ox in lo ..< hi, `pad` elsewhere and for rows outside the image. The caller
// checked every read inside the image (lo, hi: the valid columns). AVX2.
void rt_tap_rows(const uint32_t *image, long area, long width, long height, long groups, long oy0, long rows, long stride_h, long dy,
                 long out_w, long lo, long hi, long stride_w, long shift, uint32_t pad, uint32_t *out, long out_stride);
// rt_tap_rows at stride 1 with outW = width (the same words, written as one copy a group and pad over
// the cells outside the image). AVX2.
void rt_shifted_planes(const uint32_t *image, long area, long width, long height, long groups, long oy0, long rows, long dy,
                       long shift, long lo, long hi, uint32_t pad, uint32_t *out, long out_stride);

// 1 when the CPU runs AVX-512 VNNI (with F and BW), else 0.
int rt_cpu_has_avx512_vnni(void);
#endif
