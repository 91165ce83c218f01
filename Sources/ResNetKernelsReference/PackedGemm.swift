import CCPU
import Dispatch
/// The blocked SGEMM driver shared by the SIMD kernel sets (issue 11): MLAS-style
/// prepare-then-execute. A (the weights, constant) is packed once, at plan time,
/// into `PackedA`; each call packs only B. Generic over the micro-kernel and
/// `@inlinable`, so each kernel target (AVX2 built for x86-64-v3, AVX-512 for
/// x86-64-v4) specializes and compiles it with its own instruction set.
///
/// Blocking, for C[M,N] = A[M,K] · B[K,N]:
/// - K in slices of `kc` (256) and N in blocks of `nc` (512) columns per thread: a packed
///   B block (kc x nc floats, 512 KiB) stays in L2 (1 MiB on the Zen 4 this was measured
///   on) while each M panel (an A panel of kc x mr floats, in L1) passes over its
///   nr-column panels, writing its rows of C left to right;
/// - threads take disjoint column ranges when N is wide, disjoint M panels
///   otherwise; each packs its own B, so no thread waits on another.
public protocol GemmMicroKernel {
    /// Rows and columns of one register tile.
    static var mr: Int { get }
    static var nr: Int { get }
    /// acc = A_panel (kc x mr, interleaved by k) · B_panel (kc x nr); then C (+)= acc,
    /// + bias[row], + residual (laid out like C: the fused residual Add), ReLU, stored
    /// to the valid rows x cols of C.
    static func tile(k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int,
                     rows: Int, cols: Int, accumulate: Bool, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, relu: Bool)
    /// `tile` with B read in place: row p is the nr floats at b + rowOffsets[p] bytes (PackedGemm.sgemmRows).
    static func tileRows(k: Int, a: UnsafePointer<Float>, b: UnsafeRawPointer, rowOffsets: UnsafePointer<Int>, c: UnsafeMutablePointer<Float>,
                         ldc: Int, rows: Int, cols: Int, accumulate: Bool, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?,
                         relu: Bool)
    /// Output positions per transposed tile: tileGather's rows. As many as the register file
    /// holds beside B: AVX-512, 7 (14 of 32 zmm accumulate), so a 7x7 plane's 49 positions fill
    /// seven whole tiles where six-row tiles filled 91% of nine; AVX2, 6 (12 of 16 ymm).
    static var gatherRows: Int { get }
    /// acc = A · B with A's row r at step p the float at positions + rowOffsets[p] + positionOffsets[r]
    /// bytes (gatherRows output positions read in place from an activation; `positionOffsets`
    /// holds gatherRows offsets) and B a packed kb x nr panel (weights: output channels as
    /// columns); C (+)= acc, + columnBias[col], + residual (laid out like C), ReLU, for the
    /// valid rows x cols (PackedGemm.convGather).
    static func tileGather(k: Int, positions: UnsafeRawPointer, rowOffsets: UnsafePointer<Int>, positionOffsets: UnsafePointer<Int>,
                           b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int, accumulate: Bool,
                           columnBias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, relu: Bool)
    /// Whether convGather packs the positions of a channels-last pointwise conv from `channels`
    /// to `outputChannels` first, as it always packs a channels-first one's (a position panel's
    /// K slice, copied once, read by every channel panel); by default never.
    static func packsChannelsLastPointwise(channels: Int, outputChannels: Int) -> Bool
    /// Whether convGather prefetches the next two weight units into L2 while it runs one (a
    /// share per position panel); by default it does.
    static var prefetchesWeightUnits: Bool { get }
    /// Whether convGather, writing channels last, prefetches the next position panel's output
    /// (and residual) rows; by default it does.
    static var prefetchesOutputRows: Bool { get }
    /// Position panels per block where convGather reads a channels-last 1x1's positions in place
    /// (not packsChannelsLastPointwise): every channel panel passes over one block before the
    /// next; nil (the default) for the thread's whole share of the plane in one block.
    static var inPlacePointwiseBlockPanels: Int? { get }
    /// Copies a position panel's K slice for convGather (PositionPacking, `rows` gatherRows):
    /// by default a float at a time (PositionPacking.scalar); the SIMD sets move eight at a
    /// time where the steps are consecutive floats (PositionPacking.vector).
    static func packPositions(source: UnsafeRawPointer, steps: UnsafePointer<Int>, kb: Int, offsets: UnsafePointer<Int>,
                              consecutiveSteps: Bool, into dst: UnsafeMutablePointer<Float>)
    /// tileGather for rows <= 4 (a plane's last position panel), on a shorter tile where the
    /// kernel set has one; by default tileGather itself.
    static func tileGatherFew(k: Int, positions: UnsafeRawPointer, rowOffsets: UnsafePointer<Int>, positionOffsets: UnsafePointer<Int>,
                              b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int, accumulate: Bool,
                              columnBias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, relu: Bool)
}

extension GemmMicroKernel {
    @inlinable
    public static func packsChannelsLastPointwise(channels: Int, outputChannels: Int) -> Bool { false }

    @inlinable
    public static var prefetchesWeightUnits: Bool { true }

    @inlinable
    public static var prefetchesOutputRows: Bool { true }

    @inlinable
    public static var inPlacePointwiseBlockPanels: Int? { nil }

    @inlinable @inline(__always)
    public static func packPositions(source: UnsafeRawPointer, steps: UnsafePointer<Int>, kb: Int, offsets: UnsafePointer<Int>,
                                     consecutiveSteps: Bool, into dst: UnsafeMutablePointer<Float>) {
        PositionPacking.scalar(source: source, steps: steps, kb: kb, offsets: offsets, rows: gatherRows, into: dst)
    }

    @inlinable @inline(__always)
    public static func tileGatherFew(k: Int, positions: UnsafeRawPointer, rowOffsets: UnsafePointer<Int>, positionOffsets: UnsafePointer<Int>,
                                     b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int, accumulate: Bool,
                                     columnBias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, relu: Bool) {
        tileGather(k: k, positions: positions, rowOffsets: rowOffsets, positionOffsets: positionOffsets, b: b, c: c, ldc: ldc, rows: rows,
                   cols: cols, accumulate: accumulate, columnBias: columnBias, residual: residual, relu: relu)
    }
}

/// A weight matrix A[M,K] packed for one micro-kernel shape: for each K slice,
/// M panels of mr rows (zero-padded past M), each kb x mr interleaved by k.
public final class PackedA: @unchecked Sendable {
    // @unchecked Sendable: written once in init, read-only afterwards.
    public let m: Int, k: Int, mr: Int
    public static let kc = 256
    @usableFromInline let storage: UnsafeMutablePointer<Float>
    /// Owns `storage` (huge pages: LargeBuffer).
    private let memory: LargeBuffer<Float>
    public let count: Int

    /// Floats a packing of M x K for panels of `mr` rows takes, nil on overflow.
    public static func floatCount(m: Int, k: Int, mr: Int) -> Int? {
        let (rows, o1) = ((m + mr - 1) / mr).multipliedReportingOverflow(by: mr)
        let (n, o2) = rows.multipliedReportingOverflow(by: k)
        return o1 || o2 ? nil : max(n, 1)
    }

    /// Packs A (row-major, leading dimension lda). The caller checked floatCount against its budget.
    public init(a: UnsafePointer<Float>, lda: Int, m: Int, k: Int, mr: Int) {
        self.m = m; self.k = k; self.mr = mr
        count = Self.floatCount(m: m, k: k, mr: mr) ?? 1
        memory = LargeBuffer(capacity: count)
        storage = memory.pointer
        let panels = (m + mr - 1) / mr
        var k0 = 0
        while k0 < k {
            let kb = min(Self.kc, k - k0)
            for pm in 0..<panels {
                let out = storage + sliceOffset(k0) + pm * kb * mr
                let rows = min(mr, m - pm * mr)
                for p in 0..<kb {
                    for r in 0..<mr { out[p * mr + r] = r < rows ? a[(pm * mr + r) * lda + k0 + p] : 0 }
                }
            }
            k0 += kb
        }
    }

    /// Where the slice starting at k0 begins: every earlier slice is kc wide.
    @inlinable public func sliceOffset(_ k0: Int) -> Int { k0 * ((m + mr - 1) / mr) * mr }
    @inlinable public func panel(k0: Int, kb: Int, pm: Int) -> UnsafePointer<Float> { UnsafePointer(storage + sliceOffset(k0) + pm * kb * mr) }
}

/// Per-thread B panels, allocated once by the plan.
public final class PackedGemmWorkspace: @unchecked Sendable {
    // @unchecked: thread t only ever touches packedB[t] and its own rows of
    // transposedC and of the shifted-rows buffer (disjoint channels of the planes,
    // columns of the grid; channels or rows of GatherConv's padded copy); both are grown
    // only at plan time (reserve...), before any run.
    public let threads: Int
    public static let nc = 512
    @usableFromInline let packedB: [UnsafeMutablePointer<Float>]
    /// Floats each of packedB holds: kc x nc (rounded up to whole panels).
    public let packedBFloats: Int
    /// Cᵀ [N, M] of the transposed products writing channels first (PackedGemm.sgemmNarrow,
    /// convGather), shared by the threads.
    public var transposedC: UnsafeMutablePointer<Float> { transposedMemory.pointer }
    public private(set) var transposedCapacity = 0
    /// ShiftedRowsConv's phase planes, then its output grid, or GatherConv's padded copy: one
    /// buffer, used by one call at a time.
    @usableFromInline var shiftedRows: UnsafeMutablePointer<Float> { shiftedRowsMemory.pointer }
    public private(set) var shiftedRowsCapacity = 0
    // The memory behind the pointers above (huge pages: LargeBuffer).
    private let packedBMemory: [LargeBuffer<Float>]
    private var transposedMemory = LargeBuffer<Float>(capacity: 1)
    private var shiftedRowsMemory = LargeBuffer<Float>(capacity: 1)
    public init(threads: Int, nr: Int) {
        self.threads = max(threads, 1)
        let cols = (Self.nc + nr - 1) / nr * nr
        packedBFloats = PackedA.kc * cols
        packedBMemory = (0..<self.threads).map { [packedBFloats] _ in LargeBuffer(capacity: packedBFloats) }
        packedB = packedBMemory.map(\.pointer)
    }
    /// Grows the shifted-rows buffer to `floats` (charged by the planner). Plan time only.
    public func reserveShiftedRows(floats: Int) {
        guard floats > shiftedRowsCapacity else { return }
        shiftedRowsMemory = LargeBuffer(capacity: floats)
        shiftedRowsCapacity = floats
    }
    /// The shifted-rows buffer, `floats` of which the plan reserved.
    public func shiftedRowsBuffer(floats: Int) -> UnsafeMutablePointer<Float> {
        precondition(shiftedRowsCapacity >= floats, "shifted-rows buffer not reserved at plan time")
        return shiftedRows
    }
    /// Grows Cᵀ to `floats` (the planner charged them against its budget). Plan time only.
    public func reserveTransposed(floats: Int) {
        guard floats > transposedCapacity else { return }
        transposedMemory = LargeBuffer(capacity: floats)
        transposedCapacity = floats
    }
}

public enum PackedGemm<Kernel: GemmMicroKernel> {
    /// C[M,N] (+)= packedA · B[K,N] (+ bias) (+ residual) (ReLU), B produced panel by
    /// panel by `b`: a row-major matrix (MatrixB), or a convolution's patches read
    /// straight from the image (ConvPatchesB: implicit GEMM, no im2col buffer).
    /// `residual`, when given, has C's layout (leading dimension ldc).
    @inlinable
    public static func sgemm<Source: PackedBSource>(n: Int, a: PackedA, b: Source, c: UnsafeMutablePointer<Float>, ldc: Int,
                                                    bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, epilogue: GemmEpilogue,
                                                    workspace: PackedGemmWorkspace) {
        // Wide N: split columns (in whole nr panels); narrow N: split M panels.
        shareOut(n: n, a: a, c: c, ldc: ldc, bias: bias, residual: residual, epilogue: epilogue, workspace: workspace,
                 splitRows: { panelsM, _, threads in !(n >= threads * 4 * Kernel.nr || panelsM < threads) }) { mRange, nRange, t in
            block(a: a, b: b, c: c, ldc: ldc, bias: bias, residual: residual, epilogue: epilogue,
                  mRange: mRange, nRange: nRange, packedB: workspace.packedB[t])
        }
    }

    /// What every driver shares: the checks, the empty sum (K = 0), and each thread's share of
    /// C, in whole mr-row panels when `splitRows(panelsM, panelsN, threads)` says so and whole
    /// nr-column panels otherwise, run on the workspace's threads: body(mRange of panels, nRange of columns, thread).
    @inlinable
    static func shareOut(n: Int, a: PackedA, c: UnsafeMutablePointer<Float>, ldc: Int, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?,
                         epilogue: GemmEpilogue, workspace: PackedGemmWorkspace, splitRows: (Int, Int, Int) -> Bool,
                         _ body: (Range<Int>, Range<Int>, Int) -> Void) {
        let m = a.m, k = a.k
        guard m > 0, n > 0 else { return }
        precondition(a.mr == Kernel.mr, "weights packed for mr \(a.mr), kernel has \(Kernel.mr)")
        if k == 0 {
            emptyProduct(m: m, n: n, c: c, ldc: ldc, bias: bias, residual: residual, epilogue: epilogue)
            return
        }
        let panelsM = (m + Kernel.mr - 1) / Kernel.mr, panelsN = (n + Kernel.nr - 1) / Kernel.nr
        let threads = workspace.threads
        let byRows = splitRows(panelsM, panelsN, threads)
        @inline(__always) func work(_ t: Int) {
            var mRange = 0..<panelsM, nRange = 0..<n
            if threads > 1 {
                if byRows {
                    mRange = (panelsM * t / threads)..<(panelsM * (t + 1) / threads)
                } else {
                    let lo = panelsN * t / threads * Kernel.nr, hi = min(n, panelsN * (t + 1) / threads * Kernel.nr)
                    nRange = lo..<max(lo, hi)
                }
            }
            guard !mRange.isEmpty, !nRange.isEmpty else { return }
            body(mRange, nRange, t)
        }
        if threads > 1 { DispatchFor.concurrent(threads) { work($0) } } else { work(0) }
    }

    /// C = (C or 0) + bias + residual, ReLU: the product of an empty sum (K = 0).
    @inlinable
    static func emptyProduct(m: Int, n: Int, c: UnsafeMutablePointer<Float>, ldc: Int, bias: UnsafePointer<Float>?,
                             residual: UnsafePointer<Float>?, epilogue: GemmEpilogue) {
        for i in 0..<m { for j in 0..<n {
            var v: Float = epilogue.accumulate ? c[i * ldc + j] : 0
            if let bias { v += bias[i] }
            if let residual { v += residual[i * ldc + j] }
            c[i * ldc + j] = epilogue.relu ? max(v, 0) : v
        } }
    }

    @inlinable
    public static func block<Source: PackedBSource>(a: PackedA, b: Source, c: UnsafeMutablePointer<Float>, ldc: Int,
                      bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, epilogue: GemmEpilogue,
                      mRange: Range<Int>, nRange: Range<Int>, packedB: UnsafeMutablePointer<Float>) {
        let m = a.m, k = a.k, mr = Kernel.mr, nr = Kernel.nr
        // Each M panel passes over the packed block's column panels in turn (B, kb x nb, stays in
        // L2), so a tile's rows of C (and of the residual) are written (read) left to right: mr
        // streams the hardware prefetcher follows. Column panel by column panel instead (each B
        // panel kept in L1 while every M panel passed over it), each tile wrote its nr columns
        // (128 bytes on AVX-512) into every one of M rows ldc floats apart, too many streams to
        // follow, so each line was a demand miss unless prefetched a panel ahead (which this
        // order no longer needs). resnet50, one plan in one process run alternately both ways
        // (Benchmarks/ab-inproc, 30 rounds, Zen 4): 1 thread, layer1's conv3s 1.19/1.13/1.03 -> 1.04/1.05/0.96 ms, its conv1s
        // 1.17/1.13 -> 1.14/1.08, layer2's conv3s 1-4% faster, layer1 in all 14.05 -> 13.64 ms;
        // 2 threads, layer1 7.61 -> 7.54; the AVX2 set (20 rounds), layer1 18.7 -> 17.7 ms,
        // layer2 23.8 -> 22.9.
        var n0 = nRange.lowerBound
        while n0 < nRange.upperBound {
            let nb = min(PackedGemmWorkspace.nc, nRange.upperBound - n0)
            let panelsN = (nb + nr - 1) / nr
            var k0 = 0
            while k0 < k {
                let kb = min(PackedA.kc, k - k0)
                b.pack(k0: k0, kb: kb, n0: n0, nb: nb, nr: nr, into: packedB)
                let last = k0 + kb == k
                let accumulate = k0 > 0 || epilogue.accumulate
                for pm in mRange {
                    let i0 = pm * mr, rows = min(mr, m - i0)
                    let ap = a.panel(k0: k0, kb: kb, pm: pm), rowBias = last ? bias.map { $0 + i0 } : nil
                    for pn in 0..<panelsN {
                        let j0 = pn * nr
                        Kernel.tile(k: kb, a: ap, b: UnsafePointer(packedB + pn * kb * nr), c: c + i0 * ldc + n0 + j0, ldc: ldc,
                                    rows: rows, cols: min(nr, nb - j0), accumulate: accumulate, bias: rowBias,
                                    residual: last ? residual.map { $0 + i0 * ldc + n0 + j0 } : nil, relu: last && epilogue.relu)
                    }
                }
                k0 += kb
            }
            n0 += nb
        }
    }

}

/// Prefetches `lines` lines of each of `rows` rows ldc floats apart from `c` (to be written)
/// and from `residual` (to be read): the next panel's, for convGather. A call, not
/// inlined, so the tile's loop around it is compiled as it was without it (measured when
/// PackedGemm.block called it too: inlined, resnet50's 28x28 Winograd GEMMs, which never
/// prefetch, ran 10% slower in two interleaved runs).
@usableFromInline
func prefetchRows(_ c: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?, rows: Int, ldc: Int, lines: Int) {
    // Sound: a prefetch never faults; the addresses are C's (and the residual's) rows at the
    // next panel's columns (a partial panel's second line may lie past its row, within the row
    // after, or one line past the last).
    for r in 0..<rows {
        for line in 0..<lines {
            rt_prefetch_write(c + r * ldc + 16 * line)
            if let residual { rt_prefetch(residual + r * ldc + 16 * line) }
        }
    }
}

/// Where the packed GEMM's B comes from: it writes B[k0..<k0+kb, n0..<n0+nb] as
/// panels of kb x nr floats (panel q holds columns n0+q*nr..., zero past nb).
public protocol PackedBSource {
    func pack(k0: Int, kb: Int, n0: Int, nb: Int, nr: Int, into out: UnsafeMutablePointer<Float>)
}

/// B as a row-major matrix with leading dimension ldb.
public struct MatrixB: PackedBSource {
    public let b: UnsafePointer<Float>, ldb: Int
    @inlinable public init(b: UnsafePointer<Float>, ldb: Int) { self.b = b; self.ldb = ldb }

    // Always inlined: a call would run this module's baseline x86-64 copy, not the kernel set's.
    @inlinable @inline(__always)
    public func pack(k0: Int, kb: Int, n0: Int, nb: Int, nr: Int, into out: UnsafeMutablePointer<Float>) {
        var dst = out
        var j0 = 0
        while j0 < nb {
            let cols = min(nr, nb - j0)
            if cols == 6 && nr == 6 {
                // The narrow path's 6-position panels (Winograd's GEMMs): six moves per row,
                // not a memmove call for 24 bytes (measured: most of those GEMMs' time).
                var src = b + k0 * ldb + n0 + j0
                for _ in 0..<kb {
                    dst[0] = src[0]; dst[1] = src[1]; dst[2] = src[2]; dst[3] = src[3]; dst[4] = src[4]; dst[5] = src[5]
                    dst += 6
                    src += ldb
                }
                j0 += nr
                continue
            }
            if cols == nr && nr % 16 == 0 {
                // A whole panel of 16 or 32 columns: vector copies, not a memmove call per row.
                var src = UnsafeRawPointer(b + k0 * ldb + n0 + j0)
                // Each row's lines four panels on are prefetched into L2. Why: the panel reads kb
                // rows a plane apart, 2 lines each, too many streams for the hardware prefetcher, so
                // a B that lives in L3 (resnet50's layer1 1x1s read 0.8-3.2 MB inputs) was a demand
                // miss per line. resnet50, 1 thread, 8 interleaved rounds on a Zen 4 core: layer1's
                // 1x1s 1.52-1.60 -> 1.38-1.45 ms each, layer2.0.conv1 2.65 -> 2.46; layer2's 28x28
                // 1x1s (B of 0.4-1.6 MB) unchanged.
                for _ in 0..<kb {
                    rt_prefetch_l2(src + 16 * nr)
                    if nr > 16 { rt_prefetch_l2(src + 16 * nr + 64) }  // a 32-float panel row spans two lines
                    let d = UnsafeMutableRawPointer(dst)
                    var lane = 0
                    while lane < nr {
                        // Sound: columns n0 + j0 ..< + nr lie within n0 + nb (cols == nr), which the caller
                        // keeps within B's row (PackedBSource); the panel's row holds nr floats.
                        d.storeBytes(of: src.loadUnaligned(fromByteOffset: 4 * lane, as: SIMD16<Float>.self), toByteOffset: 4 * lane, as: SIMD16<Float>.self)
                        lane += 16
                    }
                    dst += nr
                    src += 4 * ldb
                }
                j0 += nr
                continue
            }
            for p in 0..<kb {
                dst.update(from: b + (k0 + p) * ldb + n0 + j0, count: cols)
                if cols < nr { (dst + cols).update(repeating: 0, count: nr - cols) }
                dst += nr
            }
            j0 += nr
        }
    }
}

/// The micro-kernel's own speed on one core, with A and B in L1 and C in
/// registers' reach: the ceiling `bench` reports each layer against.
public enum KernelPeak {
    /// GFLOP/s (2 per multiply-add) of `Kernel.tile` at k = 256, measured for about `seconds`.
    @inlinable
    public static func measure<Kernel: GemmMicroKernel>(_: Kernel.Type, seconds: Double = 0.2) -> Double {
        let k = 256
        let a = UnsafeMutablePointer<Float>.allocate(capacity: k * Kernel.mr)
        let b = UnsafeMutablePointer<Float>.allocate(capacity: k * Kernel.nr)
        let c = UnsafeMutablePointer<Float>.allocate(capacity: Kernel.mr * Kernel.nr)
        defer { a.deallocate(); b.deallocate(); c.deallocate() }
        for i in 0..<(k * Kernel.mr) { a[i] = Float(i % 7) * 0.01 }
        for i in 0..<(k * Kernel.nr) { b[i] = Float(i % 5) * 0.01 }
        c.initialize(repeating: 0, count: Kernel.mr * Kernel.nr)
        var best = 0.0
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(seconds * 1e9)
        repeat {
            let reps = 2000
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<reps {
                Kernel.tile(k: k, a: a, b: b, c: c, ldc: Kernel.nr, rows: Kernel.mr, cols: Kernel.nr,
                            accumulate: true, bias: nil, residual: nil, relu: false)
            }
            let ns = Double(DispatchTime.now().uptimeNanoseconds - start)
            best = max(best, Double(2 * k * Kernel.mr * Kernel.nr * reps) / ns)
        } while DispatchTime.now().uptimeNanoseconds < deadline
        return best
    }
}
