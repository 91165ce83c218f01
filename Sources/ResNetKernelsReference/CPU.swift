import CCPU

public enum CPU {
    /// Whether the SIMD kernels (compiled for x86-64-v3: AVX2 + FMA) can run here.
    public static let hasAVX2FMA: Bool = rt_cpu_has_avx2_fma() != 0
}
