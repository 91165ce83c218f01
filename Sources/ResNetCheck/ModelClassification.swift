import ResNetShapes
/// What kind of ResNet the blocks add up to.
public struct ModelInfo: Encodable, Sendable {
    /// resnet18/34/50/101/152, "custom" (with `depth`), or "none" (no residual blocks).
    public var family: String
    public var depth: Int
    /// v1, v1.5, v1d, v2, or "unknown".
    public var variant: String
    /// A, B, C, mixed, or "none" (no block changes shape and all shortcuts are identity).
    public var shortcutOption: String
    /// basic, bottleneck, mixed.
    public var blockType: String
    public var stageBlocks: [Int]
    public var inputShape: SShape?
    public var outputShape: SShape?

    enum CodingKeys: String, CodingKey {
        case family, depth, variant, shortcutOption = "shortcut_option", blockType = "block_type", stageBlocks = "stage_blocks"
        case inputShape = "input_shape", outputShape = "output_shape"
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(family, forKey: .family)
        try c.encode(depth, forKey: .depth)
        try c.encode(variant, forKey: .variant)
        try c.encode(shortcutOption, forKey: .shortcutOption)
        try c.encode(blockType, forKey: .blockType)
        try c.encode(stageBlocks, forKey: .stageBlocks)
        try c.encode(describe(inputShape), forKey: .inputShape)
        try c.encode(describe(outputShape), forKey: .outputShape)
    }
}

enum ModelClassification {
    static let torchvision: [(String, String, [Int])] = [
        ("resnet18", "basic", [2, 2, 2, 2]), ("resnet34", "basic", [3, 4, 6, 3]),
        ("resnet50", "bottleneck", [3, 4, 6, 3]), ("resnet101", "bottleneck", [3, 4, 23, 3]),
        ("resnet152", "bottleneck", [3, 8, 36, 3]),
        // timm's shallower bottleneck nets, and the CIFAR ResNets of the ResNet paper (section 4.2: 6n+2 layers).
        ("resnet26", "bottleneck", [2, 2, 2, 2]), ("resnet20", "basic", [3, 3, 3]), ("resnet32", "basic", [5, 5, 5]),
        ("resnet44", "basic", [7, 7, 7]), ("resnet56", "basic", [9, 9, 9]), ("resnet110", "basic", [18, 18, 18]),
    ]

    static func classify(_ blocks: [ResidualBlock], stemConvs: Int, headLayers: Int, input: SShape?, output: SShape?,
                         stemWidths: [Int64] = []) -> ModelInfo {
        guard !blocks.isEmpty else {
            return ModelInfo(family: "none", depth: 0, variant: "unknown", shortcutOption: "none", blockType: "none",
                             stageBlocks: [], inputShape: input, outputShape: output)
        }
        let types = Set(blocks.map(blockType))
        let blockType = types.count == 1 ? types.first ?? "mixed" : "mixed"
        let stages = (blocks.map(\.stage).max() ?? 0)
        let counts = (1...max(stages, 1)).map { s in blocks.filter { $0.stage == s }.count }
        // A deep stem (ResNet-C/D: three 3x3 convs) counts as the one layer it replaces, as model names do (resnet50d is 50).
        let depth = min(stemConvs, 1) + blocks.reduce(0) { $0 + $1.mainConvs.count } + headLayers
        let family = bottleneckFamily(blocks, depth: depth, blockType: blockType)
            ?? torchvision.first { $0.1 == blockType && $0.2 == counts }?.0 ?? "custom"

        let preActivated = blocks.filter(\.preActivation).count * 2 > blocks.count
        let variant: String
        if preActivated {
            variant = "v2"
        } else if blocks.contains(where: { $0.shortcut == .resnetD }) {
            variant = "v1d"
        } else if blockType == "bottleneck" {
            // Downsampling bottlenecks: stride on the first 1x1 (v1) or on the 3x3 (v1.5).
            let positions = blocks.compactMap(\.stridePosition)
            variant = positions.isEmpty ? "v1" : positions.allSatisfy { $0.hasPrefix("conv1") } ? "v1"
                : positions.allSatisfy { $0.hasPrefix("conv2") } ? "v1.5" : "unknown"
        } else {
            variant = "v1"  // basic blocks: v1 and v1.5 coincide (the stride is on the first 3x3)
        }
        // Attention on every block names the family as timm does: seresnet50, skresnet18, ecaresnet26.
        let attention = Set(blocks.flatMap(\.attention))
        var named = attention.count == 1 && blocks.allSatisfy({ !$0.attention.isEmpty }) && family != "custom"
            && attention.first != .gate ? (attention.first?.rawValue ?? "") + family : family
        // ResNet-D's deep stem and avg-pool downsampling, as timm names them: resnet50d, or "t" for a tiered stem (24, 32, 64).
        if variant == "v1d" && family != "custom" && !family.hasPrefix("resnext") && !family.hasPrefix("wide") && stemConvs >= 3 {
            let tiered = stemWidths.count >= 3 && stemWidths[0] < stemWidths[1] && stemWidths[1] < stemWidths[2]
            named += tiered ? "t" : "d"
        }
        return ModelInfo(family: named, depth: depth, variant: variant, shortcutOption: option(blocks),
                         blockType: blockType, stageBlocks: counts, inputShape: input, outputShape: output)
    }

    /// ResNeXt (grouped 3x3: `resnext50_32x4d`, groups x width per group) and Wide ResNet
    /// (a 3x3 wider than a quarter of the block's output: `wide_resnet50_2`), named by depth.
    /// torchvision: width = planes * base_width / 64 * groups, output = 4 * planes.
    static func bottleneckFamily(_ blocks: [ResidualBlock], depth: Int, blockType: String) -> String? {
        guard blockType == "bottleneck" else { return nil }
        let mids = blocks.compactMap { b -> (group: Int64, mid: Int64, out: Int64)? in
            guard b.mainConvs.count == 3, let mid = b.mainConvs[1].outChannels, let out = b.mainConvs[2].outChannels, out >= 4, mid > 0 else { return nil }
            return (b.mainConvs[1].group, mid, out)
        }
        guard mids.count == blocks.count, let first = mids.first else { return nil }
        let planes = first.out / 4
        guard planes > 0 else { return nil }
        let groups = first.group
        // Every block must agree on groups and on the width factor, or it is a custom design.
        let factor = { (m: (group: Int64, mid: Int64, out: Int64)) -> Int64? in
            let p = m.out / 4
            let (scaled, overflow) = m.mid.multipliedReportingOverflow(by: 64)
            return p > 0 && !overflow && scaled % p == 0 ? scaled / p : nil
        }
        guard let f = factor(first), mids.allSatisfy({ $0.group == groups && factor($0) == f }) else { return nil }
        if groups > 1 {
            // "32x4d": cardinality x the channels each group has in the first stage (the paper's bottleneck width).
            guard first.mid % groups == 0 else { return nil }
            return "resnext\(depth)_\(groups)x\(first.mid / groups)d"
        }
        if f > 64 && f % 64 == 0 { return "wide_resnet\(depth)_\(f / 64)" }
        return nil
    }

    static func blockType(_ b: ResidualBlock) -> String {
        let k = b.mainConvs.map { $0.kernel.allSatisfy { $0 == 1 } ? "1" : "k" }
        if k == ["k", "k"] { return "basic" }
        if k == ["1", "k", "1"] { return "bottleneck" }
        return "custom"
    }

    /// A: zero-padded shortcuts where the shape changes; B: projections only there;
    /// C: projections on every block; mixed otherwise.
    static func option(_ blocks: [ResidualBlock]) -> String {
        func changes(_ b: ResidualBlock) -> Bool { b.inputShape != b.outputShape }
        let changing = blocks.filter(changes), same = blocks.filter { !changes($0) }
        let projections: Set<ShortcutKind> = [.projection, .resnetD]
        if changing.isEmpty && same.allSatisfy({ $0.shortcut == .identity }) { return "none" }
        if !changing.isEmpty && changing.allSatisfy({ $0.shortcut.isParameterFree }) && same.allSatisfy({ $0.shortcut == .identity }) { return "A" }
        if blocks.allSatisfy({ projections.contains($0.shortcut) }) && !same.isEmpty { return "C" }
        if changing.allSatisfy({ projections.contains($0.shortcut) }) && same.allSatisfy({ $0.shortcut == .identity }) { return "B" }
        return "mixed"
    }
}
