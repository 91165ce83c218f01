/// A convolution's input laid out so every row of its patch matrix is one contiguous run,
/// for PackedGemm.sgemmRows: zero-padded once and split into stride phases.
///
/// Output (oy, ox) of tap (ky, kx) reads padded row oy*sh + ky*dh = (oy + ry)*sh + qy, with
/// ry = ky*dh / sh and qy = ky*dh % sh (columns alike: rx, qx). Phase plane (qy, qx) holds
/// the padded rows qy, qy + sh, ... and columns qx, qx + sw, ...; there the tap reads row
/// oy + ry, column ox + rx. The GEMM's columns are a grid phaseW wide, J = oy*phaseW + ox,
/// so B[(c, ky, kx), J] = plane(qy, qx)[c][J + ry*phaseW + rx]: one shift per row. The
/// grid's last phaseW - outW columns of each row (2 of 58 for resnet's 56x56 3x3) are
/// computed and dropped by `compact`.
///
/// Planes are [phaseY][phaseX][C][phaseH][phaseW], then `slack` zeros: the grid's last row
/// reads up to rx floats past its plane.
public struct ShiftedRowsConv: Sendable, Equatable {
    public let g: ConvGeometry
    public let phasesY: Int, phasesX: Int, phaseH: Int, phaseW: Int

    /// Phases and plane sizes of `g`, or nil for a geometry this layout does not take: a figure
    /// outside 1 ..< 2^31 (pads 0 ..< 2^31), so that every product of two of them fits an Int
    /// (the image offsets `fill` takes, C x H x W, are within x's own size), or planes whose
    /// size in bytes overflows. The planner then packs patches instead.
    public init?(_ g: ConvGeometry) {
        let limit = 1 << 31
        let positive = [g.channels, g.height, g.width, g.kernelH, g.kernelW, g.strideH, g.strideW, g.dilationH, g.dilationW, g.outH, g.outW]
        guard positive.allSatisfy({ $0 > 0 && $0 < limit }), [g.padTop, g.padLeft].allSatisfy({ $0 >= 0 && $0 < limit }) else { return nil }
        let (spanY, o1) = (g.kernelH - 1).multipliedReportingOverflow(by: g.dilationH)
        let (spanX, o2) = (g.kernelW - 1).multipliedReportingOverflow(by: g.dilationW)
        guard !o1, !o2 else { return nil }
        self.g = g
        // Phases 0 ..< min(stride, span + 1): every phase a tap reads (one for a 1x1 conv of any
        // stride), and all of them unless stride and dilation share a factor.
        phasesY = min(g.strideH, spanY + 1)
        phasesX = min(g.strideW, spanX + 1)
        phaseH = g.outH + spanY / g.strideH
        phaseW = g.outW + spanX / g.strideW
        // Byte offsets (rowOffsets) reach 4 x planeFloats.
        guard let floats = planeFloats, !floats.multipliedReportingOverflow(by: 4).overflow, columns != nil else { return nil }
    }

    /// Zeros after the planes: the furthest column shift of any tap.
    public var slack: Int { (g.kernelW - 1) * g.dilationW / g.strideW }
    /// The GEMM's N: outH rows of the phaseW-wide grid, nil on overflow.
    public var columns: Int? {
        let (n, o) = g.outH.multipliedReportingOverflow(by: phaseW)
        return o ? nil : n
    }
    /// Floats of all phase planes plus the slack, nil on overflow.
    public var planeFloats: Int? {
        var total = phasesY
        for f in [phasesX, g.channels, phaseH, phaseW] {
            let (t, o) = total.multipliedReportingOverflow(by: f)
            guard !o else { return nil }
            total = t
        }
        let (t, o) = total.addingReportingOverflow(slack)
        return o ? nil : t
    }
    /// Whether the grid is the output itself (phaseW == outW: no tap reaches past the output's
    /// columns, as for a 3x3 window of stride 3): the GEMM then writes y with its epilogue and
    /// nothing is compacted.
    public var gridIsOutput: Bool { phaseW == g.outW }

    /// Byte offset of each patch-matrix row (c, ky, kx), in the weights' order, from the planes' start.
    public func rowOffsets() -> [Int] {
        let plane = phaseH * phaseW
        var offsets: [Int] = []
        offsets.reserveCapacity(g.channels * g.kernelH * g.kernelW)
        for c in 0..<g.channels {
            for ky in 0..<g.kernelH {
                let (ry, qy) = (ky * g.dilationH).quotientAndRemainder(dividingBy: g.strideH)
                for kx in 0..<g.kernelW {
                    let (rx, qx) = (kx * g.dilationW).quotientAndRemainder(dividingBy: g.strideW)
                    let planeIndex = (qy * phasesX + qx) * g.channels + c
                    offsets.append(4 * (planeIndex * plane + ry * phaseW + rx))
                }
            }
        }
        return offsets
    }

    /// Writes the planes of channels `channels` of x [C, H, W] (disjoint ranges may run at
    /// once); the range holding the last channel also zeroes the slack.
    @inlinable
    public func fill(_ x: UnsafePointer<Float>, channels: Range<Int>, into planes: UnsafeMutablePointer<Float>) {
        let plane = phaseH * phaseW
        for qy in 0..<phasesY {
            for qx in 0..<phasesX {
                // Plane columns j whose input column j*sw + qx - padLeft lies in [0, W): jLo ..< jHi.
                let first = qx - g.padLeft
                let jLo = first >= 0 ? 0 : min(phaseW, (-first + g.strideW - 1) / g.strideW)
                let jHi = max(jLo, min(phaseW, first >= g.width ? 0 : (g.width - first + g.strideW - 1) / g.strideW))
                for c in channels {
                    var out = planes + ((qy * phasesX + qx) * g.channels + c) * plane
                    let src = x + c * g.height * g.width
                    for i in 0..<phaseH {
                        let iy = i * g.strideH + qy - g.padTop
                        if iy < 0 || iy >= g.height {
                            out.update(repeating: 0, count: phaseW)
                        } else {
                            let line = src + iy * g.width + first
                            out.update(repeating: 0, count: jLo)
                            if g.strideW == 1 {
                                (out + jLo).update(from: line + jLo, count: jHi - jLo)
                            } else if g.strideW == 2 {
                                for j in jLo..<jHi { out[j] = line[2 * j] }
                            } else {
                                for j in jLo..<jHi { out[j] = line[g.strideW * j] }
                            }
                            (out + jHi).update(repeating: 0, count: phaseW - jHi)
                        }
                        out += phaseW
                    }
                }
            }
        }
        if channels.upperBound == g.channels {
            (planes + phasesY * phasesX * g.channels * plane).update(repeating: 0, count: slack)
        }
    }

    /// Writes all the planes, threads splitting the channels.
    @inlinable
    public func fill(_ x: UnsafePointer<Float>, into planes: UnsafeMutablePointer<Float>, threads: Int) {
        let parts = min(threads, g.channels)
        DispatchFor.concurrent(parts) { t in
            fill(x, channels: (g.channels * t / parts)..<(g.channels * (t + 1) / parts), into: planes)
        }
    }

    /// y[m, oy, ox] = grid[m, oy*phaseW + ox] + bias[m] + residual[m, oy, ox], ReLU, for the
    /// output channels `outputs` (disjoint ranges may run at once). Grid rows are `columns` apart.
    @inlinable
    public func compact(_ grid: UnsafePointer<Float>, outputs: Range<Int>, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?,
                        relu: Bool, into y: UnsafeMutablePointer<Float>) {
        let plane = g.outH * g.outW, ldGrid = g.outH * phaseW
        for m in outputs {
            let b = bias?[m] ?? 0
            for oy in 0..<g.outH {
                let src = grid + m * ldGrid + oy * phaseW, dst = y + m * plane + oy * g.outW
                if let residual {
                    let r = residual + m * plane + oy * g.outW
                    if relu { for j in 0..<g.outW { dst[j] = max(src[j] + b + r[j], 0) } } else { for j in 0..<g.outW { dst[j] = src[j] + b + r[j] } }
                } else if relu {
                    for j in 0..<g.outW { dst[j] = max(src[j] + b, 0) }
                } else {
                    for j in 0..<g.outW { dst[j] = src[j] + b }
                }
            }
        }
    }
}

extension PackedGemm {
    /// One image's convolution (one group) by ShiftedRowsConv: the planes filled (threads
    /// split the channels), the GEMM over rows read in place, then, when the grid is wider
    /// than the output, the grid compacted into y with the epilogue (threads split the
    /// outputs). Uses the workspace's shifted-rows buffer: planeFloats + M x columns floats
    /// (planeFloats alone when the grid is the output), reserved at plan time.
    /// x [C, H, W] -> y [M, outH, outW]; rowOffsets from `s.rowOffsets()`.
    @inlinable
    public static func convShiftedRows(_ s: ShiftedRowsConv, image: UnsafePointer<Float>, rowOffsets: UnsafePointer<Int>, weights: PackedA,
                                       output: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?,
                                       relu: Bool, workspace: PackedGemmWorkspace) {
        let threads = workspace.threads, m = weights.m
        // Sound: init? checked both figures for overflow.
        let planeFloats = s.planeFloats!, columns = s.columns!
        let buffer = workspace.shiftedRowsBuffer(floats: planeFloats + (s.gridIsOutput ? 0 : m * columns))
        s.fill(image, into: buffer, threads: threads)
        if s.gridIsOutput {
            sgemmRows(n: columns, a: weights, b: buffer, rowOffsets: rowOffsets, c: output, ldc: columns, bias: bias, residual: residual,
                      epilogue: GemmEpilogue(relu: relu), workspace: workspace)
        } else {
            let grid = buffer + planeFloats
            sgemmRows(n: columns, a: weights, b: buffer, rowOffsets: rowOffsets, c: grid, ldc: columns, bias: nil, residual: nil,
                      epilogue: GemmEpilogue(), workspace: workspace)
            let compactParts = min(threads, m)
            DispatchFor.concurrent(compactParts) { t in
                // Names Kernel so the closure is specialised per kernel set, under a name of its own:
                // one that does not is emitted alike (weak, same symbol) by the AVX2 and AVX-512
                // modules, and the linker keeps one copy for both; the AVX-512 one would trap on an
                // AVX2-only CPU (Tests/integration/test_kernel_symbols.py checks none is shared).
                _ = Kernel.self
                s.compact(grid, outputs: (m * t / compactParts)..<(m * (t + 1) / compactParts), bias: bias, residual: residual, relu: relu, into: output)
            }
        }
    }
}
