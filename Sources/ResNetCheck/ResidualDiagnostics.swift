import ResNetShapes
/// The checks one residual block gets: shape compatibility of the join (with
/// the likely cause and two fixes), and the ResNet-specific warnings.
enum ResidualDiagnostics {
    static func check(_ b: ResidualBlock, main: SShape?, shortcut: SShape?) -> [Diagnostic] {
        var out: [Diagnostic] = []
        out += joinShapes(b, main: main, shortcut: shortcut)
        if b.mainConvs.count == 1 {
            out.append(Diagnostic(.singleConvBlock, node: b.join,
                "block '\(b.name)': the main branch is a single conv ('\(b.mainConvs[0].name)'), so y = Wx + x is close to a linear layer (the ResNet paper saw no advantage)",
                expected: "2 or more convs with a non-linearity between them", actual: "1 conv",
                fixes: ["use a basic block (two 3x3 convs with ReLU between)", "a bottleneck (1x1, 3x3, 1x1)"]))
        }
        if b.shortcut == .maxPool {
            out.append(Diagnostic(.maxPoolShortcut, node: b.join,
                "block '\(b.name)': the shortcut goes through MaxPool, so it is not linear and gradients reach only the max of each window",
                expected: "identity, 1x1 projection, or AvgPool 2x2 + 1x1 (ResNet-D)", actual: "MaxPool shortcut",
                fixes: ["replace MaxPool by AvgPool 2x2 stride 2 (ResNet-D)", "a 1x1 stride-2 projection (option B)"]))
        }
        for (i, conv) in b.mainConvs.enumerated() where isStridedPointwise(conv) {
            let later = b.mainConvs.dropFirst(i + 1).first { $0.kernel.contains { $0 > 1 } }
            out.append(Diagnostic(.stridedPointwiseConv, node: conv.name,
                "block '\(b.name)': 1x1 conv '\(conv.name)' with stride \(conv.stride.max() ?? 2) reads only 1/\(Saturating.product(conv.stride.map { Int($0) })) of the positions"
                    + (later.map { "; ResNet v1.5 puts the stride on the 3x3 conv '\($0.name)' instead" } ?? ""),
                expected: "stride on a conv whose kernel covers the skipped positions", actual: "1x1 kernel, stride \(conv.stride)"))
        }
        for conv in b.shortcutConvs where isStridedPointwise(conv) && b.shortcut == .projection {
            out.append(Diagnostic(.stridedPointwiseConv, node: conv.name,
                "block '\(b.name)': projection shortcut '\(conv.name)' is a 1x1 conv with stride \(conv.stride.max() ?? 2), reading 1/\(Saturating.product(conv.stride.map { Int($0) })) of the positions; ResNet-D's AvgPool 2x2 then 1x1 stride 1 keeps them all",
                expected: "AvgPool 2x2 stride 2 + 1x1 stride 1", actual: "1x1 stride \(conv.stride)"))
        }
        if b.shortcut.isOptionA, let m = main, let s = shortcut, m.count > 1, s.count > 1,
           let cm = m[1].value, let cs = s[1].value {
            out.append(Diagnostic(.zeroPaddedShortcut, node: b.join,
                "block '\(b.name)': the shortcut adds \(cm - cs) zero channel(s) (option A, by \(b.shortcut == .optionAPad ? "Pad" : "Concat")); those channels carry no residual signal",
                expected: nil, actual: "\(cs) -> \(cm) channels"))
        }
        return out
    }

    static func isStridedPointwise(_ c: ResidualBlock.ConvInfo) -> Bool {
        !c.kernel.isEmpty && c.kernel.allSatisfy { $0 == 1 } && c.stride.contains { $0 > 1 }
    }

    private static func joinShapes(_ b: ResidualBlock, main: SShape?, shortcut: SShape?) -> [Diagnostic] {
        guard let m = main, let s = shortcut, m.allSatisfy({ $0 != .unknown }), s.allSatisfy({ $0 != .unknown }) else {
            return [Diagnostic(.unknownShape, node: b.join,
                "block '\(b.name)': operand shapes could not be inferred, so the join was not checked",
                expected: "known shapes", actual: "main \(describe(main)), shortcut \(describe(shortcut))")]
        }
        if m == s { return [] }
        let both = "main branch \(describe(m)), shortcut \(describe(s))"
        if let joined = ShapeRules.broadcast([m, s]) {
            return [Diagnostic(.residualBroadcast, node: b.join,
                "block '\(b.name)': the residual \(b.join) only works by broadcasting (\(both)); the result is \(describe(joined)), and the smaller operand is repeated instead of added element by element",
                expected: describe(joined == m ? m : s) + " for both operands", actual: both,
                fixes: ["give the shortcut the main branch's shape (identity or a 1x1 projection)",
                        "if a pooled tensor is added on purpose, make it explicit with Expand or a gating Mul"])]
        }
        let differing = (0..<max(m.count, s.count)).filter { i in i >= m.count || i >= s.count || m[i] != s[i] }
        let names = ["batch", "channels", "height", "width"]
        let which = differing.map { i in (i < names.count && m.count == 4 ? names[i] : "dim \(i)") + " (\(i < m.count ? m[i].description : "-") vs \(i < s.count ? s[i].description : "-"))" }
        var cause = ""
        var fixes: [String] = []
        let spatialDiffers = differing.contains { $0 >= 2 }
        let channelsDiffer = differing.contains(1)
        if spatialDiffers, let strided = b.strideOn {
            let stride = b.mainConvs.first { $0.name == strided }?.stride.max() ?? 2
            if b.shortcutConvs.allSatisfy({ !$0.stride.contains { $0 > 1 } }) {
                cause = "the main branch is downsampled by stride \(stride) at '\(strided)' but the shortcut is \(b.shortcut == .identity ? "identity" : "not strided")"
                fixes = ["add a 1x1 stride-\(stride) projection (option B) to the shortcut",
                         "AvgPool \(stride)x\(stride) stride \(stride) then a 1x1 conv (ResNet-D)"]
            } else {
                cause = "main branch and shortcut round odd sizes differently (padding or ceil_mode)"
                fixes = ["make the shortcut's pooling use ceil_mode to match the main branch's padded conv",
                         "pad the input to a size divisible by the total stride"]
            }
        } else if spatialDiffers {
            cause = "the shortcut changes the resolution but the main branch does not"
            fixes = ["move the stride into the main branch", "remove it from the shortcut"]
        }
        if channelsDiffer, m.count > 1, s.count > 1 {
            let cm = m[1].description, cs = s[1].description
            cause += (cause.isEmpty ? "" : "; and ") + "the main branch outputs \(cm) channels but the shortcut carries \(cs)"
            fixes += ["add a 1x1 projection conv \(cs) -> \(cm) to the shortcut (option B)",
                      "zero-pad the shortcut's channels to \(cm) (option A)"]
        }
        return [Diagnostic(.residualMismatch, node: b.join,
            "block '\(b.name)': residual \(b.join) cannot add \(both): \(which.joined(separator: ", ")) differ" + (cause.isEmpty ? "" : "; likely cause: \(cause)"),
            expected: describe(m), actual: describe(s), fixes: fixes.isEmpty ? nil : fixes)]
    }
}
