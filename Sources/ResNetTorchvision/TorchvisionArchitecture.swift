/// torchvision's ResNet-family architectures (torchvision/models/resnet.py),
/// by the names its constructors have: what blocks, how many per stage, and
/// ResNeXt's groups / Wide ResNet's width per group.
public enum TorchvisionArchitecture: String, CaseIterable, Sendable {
    case resnet18, resnet34, resnet50, resnet101, resnet152
    case resnext50_32x4d, resnext101_32x8d, resnext101_64x4d
    case wide_resnet50_2, wide_resnet101_2

    public enum Block: Sendable { case basic, bottleneck }

    public var block: Block {
        switch self {
        case .resnet18, .resnet34: return .basic
        default: return .bottleneck
        }
    }

    /// Blocks in layer1...layer4.
    public var layers: [Int] {
        switch self {
        case .resnet18: return [2, 2, 2, 2]
        case .resnet34, .resnet50, .resnext50_32x4d, .wide_resnet50_2: return [3, 4, 6, 3]
        case .resnet101, .resnext101_32x8d, .resnext101_64x4d, .wide_resnet101_2: return [3, 4, 23, 3]
        case .resnet152: return [3, 8, 36, 3]
        }
    }

    /// Groups of the bottleneck's 3x3 conv (ResNeXt's cardinality).
    public var groups: Int {
        switch self {
        case .resnext50_32x4d, .resnext101_32x8d: return 32
        case .resnext101_64x4d: return 64
        default: return 1
        }
    }

    /// torchvision's `width_per_group` (64 unless ResNeXt or Wide ResNet).
    public var widthPerGroup: Int {
        switch self {
        case .resnext50_32x4d, .resnext101_64x4d: return 4
        case .resnext101_32x8d: return 8
        case .wide_resnet50_2, .wide_resnet101_2: return 128
        default: return 64
        }
    }

    /// Output channels per input channel of a block (torchvision's `expansion`).
    var expansion: Int { block == .basic ? 1 : 4 }

    /// Channels of a bottleneck's 3x3 conv for `planes`, as torchvision computes
    /// `int(planes * (base_width / 64.0)) * groups` (exact: planes is a multiple of 64).
    func bottleneckWidth(planes: Int) -> Int { planes * widthPerGroup / 64 * groups }
}

/// Where the stride of a downsampling block sits and what the stem and
/// shortcut look like. The state dict's keys are the same for v1 and v1.5;
/// ResNet-D's are timm's (deep stem `conv1.0/1/3/4/6`, `downsample.1/2`).
public enum ResNetVariant: String, CaseIterable, Sendable {
    /// He et al. 2015: the bottleneck's first 1x1 conv carries the stride.
    case v1
    /// torchvision's (the default): the bottleneck's 3x3 conv carries it.
    case v1_5 = "v1.5"
    /// ResNet-D (Bag of Tricks; timm's `resnet50d`): a deep stem of three 3x3
    /// convs (32, 32, 64 channels) and an AvgPool 2x2 before the projection.
    case v1d
}

/// Everything that decides the generated graph besides the weights.
public struct ArchitectureOptions: Sendable {
    public var architecture: TorchvisionArchitecture
    public var variant: ResNetVariant
    public var numClasses: Int
    /// Height = width of the declared input ([batch, 3, H, H]).
    public var inputSize: Int

    public static let numClassesRange = 1...1_000_000
    public static let inputSizeRange = 1...8192

    public init(architecture: TorchvisionArchitecture, variant: ResNetVariant = .v1_5, numClasses: Int = 1000,
                inputSize: Int = 224) {
        self.architecture = architecture
        self.variant = variant
        self.numClasses = numClasses
        self.inputSize = inputSize
    }

    /// The model's name as torchvision or timm would give it (`resnet50d` for ResNet-D).
    public var modelName: String {
        guard variant == .v1d else { return architecture.rawValue }
        // timm appends the `d` after the depth: resnet50d, resnext50d_32x4d.
        let name = architecture.rawValue
        if let underscore = name.firstIndex(of: "_") {
            return String(name[..<underscore]) + "d" + String(name[underscore...])
        }
        return name + "d"
    }
}
