// The integer GEMM's B operand, built (issue 11, int8): byte planes interleaved into the words
// the tiles read (4 uint8 for VNNI, 2 int16 for AVX2), and the tap-major operand's rows copied
// from those word images (Int8TapMajor). Split from int8_tiles.c, which keeps the VNNI tiles (the AVX2 ones: int8_tiles_avx2.c).
#include <stdint.h>
#include <string.h>
#include <immintrin.h>
#include "int8_tiles.h"

// p[0 ..< n] = word (n <= 0: nothing).
static inline void fill_words(uint32_t *p, long n, uint32_t word) {
    for (long i = 0; i < n; i++) p[i] = word;
}

__attribute__((target("avx2")))
void rt_interleave4_avx2(const uint8_t *r0, const uint8_t *r1, const uint8_t *r2, const uint8_t *r3, long n, uint8_t *out) {
    long j = 0;
    for (; j + 32 <= n; j += 32) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(r0 + j)), b = _mm256_loadu_si256((const __m256i *)(r1 + j));
        __m256i c = _mm256_loadu_si256((const __m256i *)(r2 + j)), d = _mm256_loadu_si256((const __m256i *)(r3 + j));
        // Bytes (a b) and (c d) paired, then the pairs paired: [a0 b0 c0 d0 a1 b1 c1 d1 ...] within each 128-bit lane.
        __m256i ab_lo = _mm256_unpacklo_epi8(a, b), ab_hi = _mm256_unpackhi_epi8(a, b);
        __m256i cd_lo = _mm256_unpacklo_epi8(c, d), cd_hi = _mm256_unpackhi_epi8(c, d);
        __m256i q0 = _mm256_unpacklo_epi16(ab_lo, cd_lo), q1 = _mm256_unpackhi_epi16(ab_lo, cd_lo);
        __m256i q2 = _mm256_unpacklo_epi16(ab_hi, cd_hi), q3 = _mm256_unpackhi_epi16(ab_hi, cd_hi);
        // Lane 0 holds columns 0-15 (q0..q3 low halves), lane 1 columns 16-31: reorder the 128-bit halves.
        _mm256_storeu_si256((__m256i *)(out + j * 4), _mm256_permute2x128_si256(q0, q1, 0x20));
        _mm256_storeu_si256((__m256i *)(out + j * 4 + 32), _mm256_permute2x128_si256(q2, q3, 0x20));
        _mm256_storeu_si256((__m256i *)(out + j * 4 + 64), _mm256_permute2x128_si256(q0, q1, 0x31));
        _mm256_storeu_si256((__m256i *)(out + j * 4 + 96), _mm256_permute2x128_si256(q2, q3, 0x31));
    }
    for (; j < n; j++) { out[j * 4] = r0[j]; out[j * 4 + 1] = r1[j]; out[j * 4 + 2] = r2[j]; out[j * 4 + 3] = r3[j]; }
}

// rt_interleave4_avx2 for a stride-2 conv (Int8TapMajor.phased): four h x w byte planes as words,
// each image row's words split by column parity into its phase's rows: phase (py, px) holds rows
// py, py + 2, ... and columns px, px + 2, ... of the image as a ph x pw plane of words at
// out + (2 py + px) x ph x pw (ph = (h + 1) / 2, pw = (w + 1) / 2); its cells past the image (an odd
// h or w) are written 0. Why: a stride-2 tap then reads one phase at stride 1 (one copy a row, or
// one a plane), where it gathered every other word of the whole image (rt_tap_rows' even_words).
__attribute__((target("avx2")))
void rt_interleave4_phases(const uint8_t *r0, const uint8_t *r1, const uint8_t *r2, const uint8_t *r3, long h, long w,
                           long ph, long pw, uint32_t *out) {
    const long plane = ph * pw;
    for (long y = 0; y < h; y++) {
        const long py = y & 1, row = y >> 1, o = y * w;
        uint32_t *even = out + (2 * py) * plane + row * pw, *odd = out + (2 * py + 1) * plane + row * pw;
        long j = 0;
        for (; j + 16 <= w; j += 16) {
            __m128i a = _mm_loadu_si128((const __m128i *)(r0 + o + j)), b = _mm_loadu_si128((const __m128i *)(r1 + o + j));
            __m128i c = _mm_loadu_si128((const __m128i *)(r2 + o + j)), d = _mm_loadu_si128((const __m128i *)(r3 + o + j));
            // Words of columns j ..< j + 16 in order, four a register (as rt_interleave4_avx2, per 128 bits).
            __m128i ab_lo = _mm_unpacklo_epi8(a, b), ab_hi = _mm_unpackhi_epi8(a, b);
            __m128i cd_lo = _mm_unpacklo_epi8(c, d), cd_hi = _mm_unpackhi_epi8(c, d);
            __m128 q0 = _mm_castsi128_ps(_mm_unpacklo_epi16(ab_lo, cd_lo)), q1 = _mm_castsi128_ps(_mm_unpackhi_epi16(ab_lo, cd_lo));
            __m128 q2 = _mm_castsi128_ps(_mm_unpacklo_epi16(ab_hi, cd_hi)), q3 = _mm_castsi128_ps(_mm_unpackhi_epi16(ab_hi, cd_hi));
            // Even words (columns j, j + 2, ...) and odd ones, in order (j is even).
            _mm_storeu_ps((float *)(even + j / 2), _mm_shuffle_ps(q0, q1, 0x88));
            _mm_storeu_ps((float *)(even + j / 2 + 4), _mm_shuffle_ps(q2, q3, 0x88));
            _mm_storeu_ps((float *)(odd + j / 2), _mm_shuffle_ps(q0, q1, 0xDD));
            _mm_storeu_ps((float *)(odd + j / 2 + 4), _mm_shuffle_ps(q2, q3, 0xDD));
        }
        if (j + 8 <= w) {
            // Eight columns: the low halves alone.
            __m128i a = _mm_loadl_epi64((const __m128i *)(r0 + o + j)), b = _mm_loadl_epi64((const __m128i *)(r1 + o + j));
            __m128i c = _mm_loadl_epi64((const __m128i *)(r2 + o + j)), d = _mm_loadl_epi64((const __m128i *)(r3 + o + j));
            __m128i ab = _mm_unpacklo_epi8(a, b), cd = _mm_unpacklo_epi8(c, d);
            __m128 q0 = _mm_castsi128_ps(_mm_unpacklo_epi16(ab, cd)), q1 = _mm_castsi128_ps(_mm_unpackhi_epi16(ab, cd));
            _mm_storeu_ps((float *)(even + j / 2), _mm_shuffle_ps(q0, q1, 0x88));
            _mm_storeu_ps((float *)(odd + j / 2), _mm_shuffle_ps(q0, q1, 0xDD));
            j += 8;
        }
        for (; j < w; j++) {
            uint32_t word = (uint32_t)r0[o + j] | (uint32_t)r1[o + j] << 8 | (uint32_t)r2[o + j] << 16 | (uint32_t)r3[o + j] << 24;
            if (j & 1) odd[j / 2] = word; else even[j / 2] = word;
        }
        // An odd width leaves the odd phase's last column past the image.
        if (w & 1) odd[pw - 1] = 0;
    }
    // An odd height leaves both odd-row phases' last row past the image.
    if (h & 1) {
        fill_words(out + 2 * plane + (ph - 1) * pw, pw, 0);
        fill_words(out + 3 * plane + (ph - 1) * pw, pw, 0);
    }
}

__attribute__((target("avx2")))
void rt_widen_pairs_avx2(const uint8_t *r0, const uint8_t *r1, long n, uint32_t *out) {
    long j = 0;
    for (; j + 8 <= n; j += 8) {
        // Eight bytes of each row zero-extended to 32-bit lanes; the second row's into the high halves.
        __m256i a = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(r0 + j)));
        __m256i b = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(r1 + j)));
        _mm256_storeu_si256((__m256i *)(out + j), _mm256_or_si256(a, _mm256_slli_epi32(b, 16)));
    }
    for (; j < n; j++) out[j] = (uint32_t)r0[j] | (uint32_t)r1[j] << 16;
}

// out[j] = src[2j] for j < n: every other 32-bit word (a stride-2 window's row of the tap-major operand).
__attribute__((target("avx2")))
static inline void even_words(const uint32_t *src, long n, uint32_t *out) {
    long j = 0;
    // Reads src[0 ... 2n - 2] only: a vector step loads src[2j ... 2j + 15], within it while j + 8 < n.
    for (; j + 9 <= n; j += 8) {
        __m256 a = _mm256_loadu_ps((const float *)(src + 2 * j)), b = _mm256_loadu_ps((const float *)(src + 2 * j + 8));
        // Even words of each 128-bit lane of a and b, then the 64-bit quarters put in order.
        __m256 even = _mm256_shuffle_ps(a, b, 0x88);
        _mm256_storeu_si256((__m256i *)(out + j), _mm256_permute4x64_epi64(_mm256_castps_si256(even), 0xD8));
    }
    for (; j < n; j++) out[j] = src[2 * j];
}

// A tap-major operand's rows for one tap, as Int8TapMajor.copyRows lays them out, for channel groups
// 0 ..< groups (group q's word image at image + q * area, its row of B at out + q * out_stride; out:
// output row oy0's first word): output rows oy0 ..< oy0 + rows, outW words each, from input row
// oy x strideH + dy: pad words where it leaves the image and outside columns lo ..< hi, between them
// the words at ox x strideW + shift of that row. One call a tap for every row and group: a row at a
// time from Swift, the strided convs (resnet's stride-2 3x3s and downsamples) spent more in the loop
// than in the copies.
__attribute__((target("avx2")))
void rt_tap_rows(const uint32_t *image, long area, long width, long height, long groups, long oy0, long rows, long stride_h, long dy,
                 long out_w, long lo, long hi, long stride_w, long shift, uint32_t pad, uint32_t *out, long out_stride) {
    for (long q = 0; q < groups; q++) {
        const uint32_t *x = image + q * area;
        uint32_t *o = out + q * out_stride;
        for (long r = 0; r < rows; r++, o += out_w) {
            const long iy = (oy0 + r) * stride_h + dy;
            if (iy < 0 || iy >= height || lo >= hi) {
                fill_words(o, out_w, pad);
                continue;
            }
            fill_words(o, lo, pad);
            const uint32_t *first = x + iy * width + lo * stride_w + shift;
            if (stride_w == 1) memcpy(o + lo, first, 4 * (size_t)(hi - lo));
            else if (stride_w == 2) even_words(first, hi - lo, o + lo);
            else for (long j = 0; j < hi - lo; j++) o[lo + j] = first[j * stride_w];
            fill_words(o + hi, out_w - hi, pad);
        }
    }
}

// rt_tap_rows at stride 1 where the output rows are the input's (outW = width: resnet's 3x3s), the
// same words: output position p = oy x width + ox reads image word p + dy x width + shift, one shift
// for the whole plane, so a group's valid rows are one copy from the first valid position to the
// last, and pad is written after it over the cells where the window leaves the image (columns
// outside lo ..< hi, rows outside it). Row by row, resnet50's sixteen 3x3s made 8,064 copies each
// of 14 to 56 words (129K a run); a call a group with the pad loops in Swift spent more in the
// loops than in the copies.
__attribute__((target("avx2")))
void rt_shifted_planes(const uint32_t *image, long area, long width, long height, long groups, long oy0, long rows, long dy,
                       long shift, long lo, long hi, uint32_t pad, uint32_t *out, long out_stride) {
    const long end = oy0 + rows;
    // Output rows whose input row lies in the image: first_valid ..< end_valid (max(oy0, min(end, -dy)) on).
    long first_valid = -dy < end ? -dy : end;
    if (first_valid < oy0) first_valid = oy0;
    long end_valid = height - dy < end ? height - dy : end;
    if (end_valid < first_valid) end_valid = first_valid;
    for (long q = 0; q < groups; q++) {
        const uint32_t *x = image + q * area;
        // Position p of the conv is word p - base of the group's row of B.
        uint32_t *o = out + q * out_stride;
        const long base = oy0 * width;
        if (lo >= hi || first_valid >= end_valid) {
            fill_words(o, rows * width, pad);
            continue;
        }
        fill_words(o, first_valid * width - base, pad);
        // Positions first ..< last read words first + dy x width + shift ..< last + ...: from a valid cell
        // ((first_valid + dy) x width + lo + shift >= 0) to a valid cell (below area).
        const long first = first_valid * width + lo, last = (end_valid - 1) * width + hi;
        memcpy(o + (first - base), x + first + dy * width + shift, 4 * (size_t)(last - first));
        for (long oy = first_valid; oy < end_valid; oy++) {
            fill_words(o + (oy * width - base), lo, pad);
            fill_words(o + (oy * width + hi - base), width - hi, pad);
        }
        fill_words(o + (end_valid * width - base), (end - end_valid) * width, pad);
    }
}
