#ifndef RESNET_TOOLS_CPU_FEATURES_H
#define RESNET_TOOLS_CPU_FEATURES_H
/// 1 when the CPU runs AVX2 and FMA (x86-64-v3), which the AVX2 kernel set is compiled for.
int rt_cpu_has_avx2_fma(void);
/// 1 when the CPU runs the AVX-512 subsets of x86-64-v4 (F, BW, CD, DQ, VL),
/// which the AVX-512 kernel set is compiled for (the OS saving zmm state included).
int rt_cpu_has_avx512(void);
/// Cores in this process's CPU affinity mask (sched_getaffinity), or the online count.
int rt_cpu_available_cores(void);
#endif
