import CCPU

public enum CPU {
    /// Whether the AVX2 kernel set (compiled for x86-64-v3: AVX2 + FMA) can run here.
    public static let hasAVX2FMA: Bool = rt_cpu_has_avx2_fma() != 0
    /// Whether the AVX-512 kernel set (compiled for x86-64-v4) can run here.
    public static let hasAVX512: Bool = rt_cpu_has_avx512() != 0
    /// Cores this process may run on (its CPU affinity), at least 1.
    public static let availableCores: Int = max(1, Int(rt_cpu_available_cores()))
}

/// Which kernels a plan runs (`--kernels`). `detect()` picks the widest the CPU has.
public enum KernelSet: String, Sendable, CaseIterable, CustomStringConvertible, Codable {
    case avx512, avx2, reference

    public static func detect() -> KernelSet { CPU.hasAVX512 ? .avx512 : CPU.hasAVX2FMA ? .avx2 : .reference }

    /// Whether this CPU can run the set.
    public var isSupported: Bool {
        switch self {
        case .avx512: return CPU.hasAVX512
        case .avx2: return CPU.hasAVX2FMA
        case .reference: return true
        }
    }

    /// Rows of the set's GEMM tile (weights are packed for it at plan time).
    public var tileRows: Int { 6 }
    public var tileColumns: Int { self == .avx512 ? 32 : 16 }
    public var description: String { rawValue }
}
