#ifndef RESNET_TOOLS_CPU_FEATURES_H
#define RESNET_TOOLS_CPU_FEATURES_H
/// 1 when the CPU runs AVX2 and FMA (x86-64-v3), which the SIMD kernels are compiled for.
int rt_cpu_has_avx2_fma(void);
#endif
