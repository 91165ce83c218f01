#include "cpu_features.h"

// Compiled without -march flags, so it runs on any x86-64 CPU and can say
// "no AVX2" before a SIMD kernel would die on an illegal instruction.
int rt_cpu_has_avx2_fma(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}
