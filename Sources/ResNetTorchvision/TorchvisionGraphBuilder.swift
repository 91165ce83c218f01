import ResNetIR

/// A learnable tensor or buffer the architecture expects from the state dict.
public struct ParameterSpec: Sendable, Equatable {
    public let name: String
    public let dims: [Int64]
}

/// The graph of an architecture with its parameters still unbound: nodes as
/// torch's legacy ONNX exporter writes them for the module (Conv without bias,
/// BatchNormalization, Relu, MaxPool, Add, GlobalAveragePool, Flatten, Gemm),
/// named in its scoped style (`/layer2/layer2.0/conv1/Conv`, outputs
/// `<node>_output_0`), reading initializers named by the state dict's keys.
public struct ArchitectureGraph: Sendable {
    public let options: ArchitectureOptions
    public let nodes: [Node]
    /// In the order the graph first uses them.
    public let parameters: [ParameterSpec]
    /// BatchNorm modules (for their optional `num_batches_tracked` buffers).
    public let batchNormModules: [String]
    public let inputName = "input"
    public let outputName = "output"
}

extension ArchitectureGraph {
    public init(_ options: ArchitectureOptions) {
        var b = GraphBuilder(timmNames: options.variant == .v1d)
        let arch = options.architecture
        var x = "input"
        if options.variant == .v1d {
            // timm's deep stem: conv1 = Sequential(conv3x3 s2, BN, ReLU, conv3x3, BN, ReLU, conv3x3).
            x = b.conv(x, "conv1.0", 3, 32, kernel: 3, stride: 2)
            x = b.relu(b.batchNorm(x, "conv1.1", 32), module: "conv1.2")
            x = b.conv(x, "conv1.3", 32, 32, kernel: 3, stride: 1)
            x = b.relu(b.batchNorm(x, "conv1.4", 32), module: "conv1.5")
            x = b.conv(x, "conv1.6", 32, 64, kernel: 3, stride: 1)
            x = b.relu(b.batchNorm(x, "bn1", 64), module: "act1")
        } else {
            x = b.conv(x, "conv1", 3, 64, kernel: 7, stride: 2)
            x = b.relu(b.batchNorm(x, "bn1", 64), module: "relu")
        }
        x = b.node("MaxPool", [x], scope: "maxpool", attributes: [
            .int("ceil_mode", 0), .ints("dilations", [1, 1]), .ints("kernel_shape", [3, 3]),
            .ints("pads", [1, 1, 1, 1]), .ints("strides", [2, 2]),
        ])
        var channels = 64
        for (stage, count) in arch.layers.enumerated() {
            let planes = 64 << stage
            for index in 0..<count {
                let stride = stage > 0 && index == 0 ? 2 : 1
                let module = "layer\(stage + 1).\(index)"
                x = b.block(x, module, arch: arch, variant: options.variant, inChannels: channels, planes: planes, stride: stride)
                channels = planes * arch.expansion
            }
        }
        let pool = options.variant == .v1d ? "global_pool.pool" : "avgpool"
        x = b.node("GlobalAveragePool", [x], scope: pool)
        x = b.node("Flatten", [x], scope: options.variant == .v1d ? "global_pool.flatten" : "", attributes: [.int("axis", 1)])
        let fc = b.parameter("fc.weight", [options.numClasses, channels])
        let bias = b.parameter("fc.bias", [options.numClasses])
        _ = b.node("Gemm", [x, fc, bias], scope: "fc", output: "output", attributes: [
            .float("alpha", 1), .float("beta", 1), .int("transB", 1),
        ])
        self.options = options
        self.nodes = b.nodes
        self.parameters = b.parameters
        self.batchNormModules = b.batchNormModules
    }
}

/// Accumulates nodes and parameters; knows torch's scoped naming.
struct GraphBuilder {
    /// timm's blocks name their activations act1/act2/act3 where torchvision's reuse one `relu`.
    let timmNames: Bool
    var nodes: [Node] = []
    var parameters: [ParameterSpec] = []
    var batchNormModules: [String] = []
    private var usedNames: Set<String> = []

    init(timmNames: Bool) { self.timmNames = timmNames }

    mutating func parameter(_ name: String, _ dims: [Int]) -> String {
        parameters.append(ParameterSpec(name: name, dims: dims.map { Int64($0) }))
        return name
    }

    /// Adds a node scoped under `scope` (a module's qualified name, "" for the
    /// top level) and returns its output's name. torch's scopes show each
    /// Sequential child qualified (`/layer1/layer1.0/downsample/downsample.0/Conv`)
    /// and number a second call of one op in a scope (`Relu_1`).
    mutating func node(_ opType: String, _ inputs: [String], scope: String, output: String? = nil,
                       attributes: [Attribute] = []) -> String {
        var parts: [String] = []
        for segment in scope.split(separator: ".").map(String.init) where !segment.isEmpty {
            if segment.allSatisfy(\.isNumber), let last = parts.last {
                parts.append(last + "." + segment)
            } else {
                parts.append(segment)
            }
        }
        // A module called twice gets a numbered scope (`relu`, `relu_1`), as
        // torch names each call; an op outside any module gets a numbered op.
        var name = ""
        for k in 0... {
            let suffix = k == 0 ? "" : "_\(k)"
            if let last = parts.last {
                name = (parts.dropLast() + [last + suffix]).map { "/" + $0 }.joined() + "/" + opType
            } else {
                name = "/" + opType + suffix
            }
            if usedNames.insert(name).inserted { break }
        }
        let out = output ?? name + "_output_0"
        nodes.append(Node(name: name, opType: opType, inputs: inputs, outputs: [out], attributes: attributes))
        return out
    }

    mutating func conv(_ x: String, _ module: String, _ cin: Int, _ cout: Int, kernel: Int, stride: Int,
                       groups: Int = 1) -> String {
        let w = parameter(module + ".weight", [cout, cin / groups, kernel, kernel])
        let pad = kernel / 2
        return node("Conv", [x, w], scope: module, attributes: [
            .ints("dilations", [1, 1]), .int("group", groups), .ints("kernel_shape", [kernel, kernel]),
            .ints("pads", [pad, pad, pad, pad]), .ints("strides", [stride, stride]),
        ])
    }

    mutating func batchNorm(_ x: String, _ module: String, _ channels: Int) -> String {
        batchNormModules.append(module)
        let inputs = [x] + ["weight", "bias", "running_mean", "running_var"].map { parameter("\(module).\($0)", [channels]) }
        // torch writes momentum as 1 - its own (0.1).
        return node("BatchNormalization", inputs, scope: module, attributes: [.float("epsilon", 1e-5), .float("momentum", 0.9)])
    }

    mutating func relu(_ x: String, module: String) -> String { node("Relu", [x], scope: module) }

    /// torchvision's BasicBlock / Bottleneck (timm's for ResNet-D), with the
    /// stride where `variant` puts it and a projection shortcut where the
    /// shape changes.
    mutating func block(_ x: String, _ module: String, arch: TorchvisionArchitecture, variant: ResNetVariant,
                        inChannels: Int, planes: Int, stride: Int) -> String {
        let outChannels = planes * arch.expansion
        func act(_ k: Int) -> String { timmNames ? "\(module).act\(k)" : "\(module).relu" }
        var y: String
        switch arch.block {
        case .basic:
            y = conv(x, "\(module).conv1", inChannels, planes, kernel: 3, stride: stride)
            y = relu(batchNorm(y, "\(module).bn1", planes), module: act(1))
            y = conv(y, "\(module).conv2", planes, planes, kernel: 3, stride: 1)
            y = batchNorm(y, "\(module).bn2", planes)
        case .bottleneck:
            let width = arch.bottleneckWidth(planes: planes)
            let (s1, s2) = variant == .v1 ? (stride, 1) : (1, stride)
            y = conv(x, "\(module).conv1", inChannels, width, kernel: 1, stride: s1)
            y = relu(batchNorm(y, "\(module).bn1", width), module: act(1))
            y = conv(y, "\(module).conv2", width, width, kernel: 3, stride: s2, groups: arch.groups)
            y = relu(batchNorm(y, "\(module).bn2", width), module: act(2))
            y = conv(y, "\(module).conv3", width, outChannels, kernel: 1, stride: 1)
            y = batchNorm(y, "\(module).bn3", outChannels)
        }
        var shortcut = x
        if stride != 1 || inChannels != outChannels {
            let ds = "\(module).downsample"
            if variant == .v1d {
                // timm's downsample_avg: Sequential(AvgPool2d(2, s, ceil_mode, no pad count) or Identity, conv1x1, BN).
                if stride != 1 {
                    shortcut = node("AveragePool", [x], scope: "\(ds).0", attributes: [
                        .int("ceil_mode", 1), .int("count_include_pad", 0), .ints("kernel_shape", [2, 2]),
                        .ints("pads", [0, 0, 0, 0]), .ints("strides", [stride, stride]),
                    ])
                }
                shortcut = conv(shortcut, "\(ds).1", inChannels, outChannels, kernel: 1, stride: 1)
                shortcut = batchNorm(shortcut, "\(ds).2", outChannels)
            } else {
                shortcut = conv(x, "\(ds).0", inChannels, outChannels, kernel: 1, stride: stride)
                shortcut = batchNorm(shortcut, "\(ds).1", outChannels)
            }
        }
        let sum = node("Add", [y, shortcut], scope: module)
        return relu(sum, module: act(arch.block == .basic ? 2 : 3))
    }
}

extension Attribute {
    static func ints(_ name: String, _ values: [Int]) -> Attribute { Attribute(name: name, value: .ints(values.map { Int64($0) })) }
    static func int(_ name: String, _ value: Int) -> Attribute { Attribute(name: name, value: .int(Int64(value))) }
    static func float(_ name: String, _ value: Float) -> Attribute { Attribute(name: name, value: .float(value)) }
}
