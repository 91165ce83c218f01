import ResNetKernels
import ResNetKernelsReference

/// A float convolution prepared for a SIMD set's tiles (Planner.conv chose it): weights packed
/// once at plan time, the algorithm, the fused epilogue (bias, residual Add, ReLU) and how the
/// threads split the work. Shapes: x [n, inputChannels, height, width] (or channels last where
/// `inputLayout` says so), y [n, m, outH, outW] (channels last where `outputLayout` says so).
struct PackedConv<T: ExecScalar> {
    /// How B (patches x positions) reaches the tile.
    enum Algorithm {
        /// Transposed, the input read in place at each tap's row offset (PackedKernels.convGather).
        case gather(GatherConv, rowOffsets: [Int], outputLayout: ActivationLayout)
        /// B's rows read in place from zero-padded stride phases of the input (PackedKernels.convShiftedRows).
        case shiftedRows(ShiftedRowsConv, rowOffsets: [Int])
        /// Transposed over the positions (PackedKernels.sgemmNarrow); `patches` packs a strided 1x1's from the image.
        case narrow(patches: Bool)
        /// The plain tile; `patches` packs B from the image's windows (ConvPatchesB), else B is the input itself.
        case packed(patches: Bool)
    }

    /// How the work meets the threads.
    enum Split {
        /// Every GEMM split over the threads inside (one workspace).
        case inside(PackedGemmWorkspace)
        /// Batch >= threads: thread t runs images t, t + threads, ... on its own workspace.
        case imageAThread([PackedGemmWorkspace])
        /// Many groups (ResNeXt's 32) at a small batch: threads claim whole groups, each on its own workspace.
        case groupAThread([PackedGemmWorkspace])
    }

    let x: Int, y: Int
    /// Bias [m], a residual tensor shaped as y, and a ReLU after both.
    let bias: FloatConstant?, shortcut: Int?, relu: Bool
    let geometry: ConvGeometry
    let images: Int, inputChannels: Int, outputChannels: Int, groups: Int
    let kernels: KernelSet
    let algorithm: Algorithm
    /// One packed weight matrix a group: [outputChannels / groups, inputChannels / groups * kh * kw].
    let weights: [PackedA]
    let split: Split

    var positions: Int { geometry.outH * geometry.outW }

    func perform(on p: ExecutionPlanOf<T>) {
        withOptionalValues(bias) { (biasPointer: UnsafePointer<T>?) in
            switch split {
            case let .inside(workspace):
                for img in 0..<images { for gi in 0..<groups { run(p, img, gi, biasPointer, workspace) } }
            case let .imageAThread(workspaces):
                let threads = workspaces.count
                DispatchFor.concurrent(threads) { t in
                    for img in stride(from: t, to: images, by: threads) { for gi in 0..<groups { run(p, img, gi, biasPointer, workspaces[t]) } }
                }
            case let .groupAThread(workspaces):
                // Sound: each group writes its own channels of y; thread t uses only workspaces[t].
                for img in 0..<images {
                    DispatchFor.claiming(groups, threads: workspaces.count) { t, gi in run(p, img, gi, biasPointer, workspaces[t]) }
                }
            }
        }
    }

    /// Group `gi` of image `img`: [mg, k] weights by the image's [k, positions] patches into y's mg channels.
    private func run(_ p: ExecutionPlanOf<T>, _ img: Int, _ gi: Int, _ biasPointer: UnsafePointer<T>?, _ workspace: PackedGemmWorkspace) {
        let g = geometry, mg = outputChannels / groups, plane = positions
        let image = UnsafePointer(p.f32(x) + (img * inputChannels + gi * g.channels) * g.height * g.width)
        let out = asF32(p.pointer(y) + (img * outputChannels + gi * mg) * plane)
        let b = biasPointer.map { asF32($0 + gi * mg) }
        let r: UnsafePointer<Float>? = shortcut.map { UnsafePointer(p.f32($0) + (img * outputChannels + gi * mg) * plane) }
        let e = GemmEpilogue(relu: relu)
        switch algorithm {
        case let .gather(gather, rowOffsets, outputLayout):
            rowOffsets.withUnsafeBufferPointer { offsets in
                PackedKernels.convGather(kernels, gather, image: image, rowOffsets: offsets.baseAddress!, weights: weights[gi], output: out,
                                         outputLayout: outputLayout, bias: b, residual: r, relu: relu, workspace: workspace)
            }
        case let .shiftedRows(shifted, rowOffsets):
            rowOffsets.withUnsafeBufferPointer { offsets in
                PackedKernels.convShiftedRows(kernels, shifted, image: image, rowOffsets: offsets.baseAddress!, weights: weights[gi],
                                              output: out, bias: b, residual: r, relu: relu, workspace: workspace)
            }
        case .narrow(patches: true):
            PackedKernels.sgemmNarrow(kernels, n: plane, weights: weights[gi], b: ConvPatchesB(x: image, g: g), c: out,
                                      ldc: plane, bias: b, residual: r, epilogue: e, workspace: workspace)
        case .narrow(patches: false):
            PackedKernels.sgemmNarrow(kernels, n: plane, weights: weights[gi], b: MatrixB(b: image, ldb: plane), c: out,
                                      ldc: plane, bias: b, residual: r, epilogue: e, workspace: workspace)
        case .packed(patches: true):
            PackedKernels.sgemm(kernels, n: plane, a: weights[gi], b: ConvPatchesB(x: image, g: g), c: out, ldc: plane,
                                bias: b, residual: r, epilogue: e, workspace: workspace)
        case .packed(patches: false):
            PackedKernels.sgemm(kernels, n: plane, a: weights[gi], b: MatrixB(b: image, ldb: plane), c: out, ldc: plane,
                                bias: b, residual: r, epilogue: e, workspace: workspace)
        }
    }
}

/// A convolution on the scalar reference kernels (any T): im2col into the plan's column buffer
/// (a pointwise conv reads its input as B), the reference GEMM with bias, then the residual and ReLU.
struct ReferenceConv<T: ExecScalar> {
    let x: Int, y: Int
    /// Weights [outputChannels, inputChannels / groups, kh, kw] as the graph holds them.
    let weights: FloatConstant
    let bias: FloatConstant?, shortcut: Int?, relu: Bool
    let geometry: ConvGeometry
    /// A group's patch length, inputChannels / groups * kh * kw.
    let depth: Int
    let images: Int, inputChannels: Int, outputChannels: Int, groups: Int

    func perform(on p: ExecutionPlanOf<T>) {
        let g = geometry, mg = outputChannels / groups, plane = g.outH * g.outW, k = depth
        weights.withValues { (wf: UnsafeBufferPointer<T>) in withOptionalValues(bias) { (biasPointer: UnsafePointer<T>?) in
            for img in 0..<images {
                for gi in 0..<groups {
                    let src = p.pointer(x) + (img * inputChannels + gi * g.channels) * g.height * g.width
                    let bMatrix: UnsafePointer<T>
                    if g.isPointwise { bMatrix = UnsafePointer(src) } else {
                        Im2col.unfold(src, g, into: p.columns.pointer)
                        bMatrix = UnsafePointer(p.columns.pointer)
                    }
                    let a = base(wf) + gi * mg * k  // the weight holds m*k floats (shape checked by the planner)
                    let out = p.pointer(y) + (img * outputChannels + gi * mg) * plane
                    let b = biasPointer.map { $0 + gi * mg }
                    GemmReference.sgemm(m: mg, n: plane, k: k, a: a, lda: k, b: bMatrix, ldb: plane, c: out, ldc: plane,
                                        bias: b, epilogue: GemmEpilogue(relu: relu && shortcut == nil))
                    if let shortcut {
                        let r = p.pointer(shortcut) + (img * outputChannels + gi * mg) * plane
                        for i in 0..<(mg * plane) { let v = out[i] + r[i]; out[i] = relu ? max(v, 0) : v }
                    }
                }
            }
        } }
    }
}

/// A float32 tensor [n, c, positions] copied into the other layout, [n, positions, c] (channels
/// last), or back (Planner.convertLayout). Only in SIMD plans, so the buffers hold Float.
struct LayoutCopy {
    let x: Int, y: Int
    let images: Int, channels: Int, positions: Int
    let toChannelsLast: Bool
    let threads: Int

    func perform<T>(on p: ExecutionPlanOf<T>) {
        for img in 0..<images {
            let src = UnsafePointer(p.f32(x) + img * channels * positions), dst = p.f32(y) + img * channels * positions
            let (rows, columns) = toChannelsLast ? (channels, positions) : (positions, channels)
            LayoutTransposeSIMD.transpose(src, rows: rows, columns: columns, into: dst, threads: threads)
        }
    }
}
