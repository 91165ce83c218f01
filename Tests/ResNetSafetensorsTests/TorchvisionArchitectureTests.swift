import ResNetIR
import ResNetTorchvision
import Testing

/// A state dict of zeros with the architecture's own keys and shapes.
func stateDict(_ graph: ArchitectureGraph, type: DataType = .float) -> [Tensor] {
    graph.parameters.map { p in
        let n = p.dims.reduce(1) { $0 * Int($1) }
        return Tensor(name: p.name, dataType: type, dims: p.dims,
                      data: TensorBytes([UInt8](repeating: 0, count: n * (type == .float ? 4 : 2))))
    }
}

struct TorchvisionArchitectureTests {
    /// torchvision's published parameter counts (BN running statistics excluded, as torch counts them).
    @Test(arguments: [
        (TorchvisionArchitecture.resnet18, 11_689_512), (.resnet34, 21_797_672), (.resnet50, 25_557_032),
        (.resnet101, 44_549_160), (.resnet152, 60_192_808), (.resnext50_32x4d, 25_028_904),
        (.resnext101_32x8d, 88_791_336), (.resnext101_64x4d, 83_455_272), (.wide_resnet50_2, 68_883_240),
        (.wide_resnet101_2, 126_886_696),
    ])
    func parameterCountsMatchTorchvision(_ arch: TorchvisionArchitecture, _ expected: Int) {
        let graph = ArchitectureGraph(ArchitectureOptions(architecture: arch))
        let learnable = graph.parameters.filter { !$0.name.hasSuffix("running_mean") && !$0.name.hasSuffix("running_var") }
        #expect(learnable.reduce(0) { $0 + $1.dims.reduce(1) { $0 * Int($1) } } == expected)
    }

    @Test func resnetDUsesTimmKeys() {
        let graph = ArchitectureGraph(ArchitectureOptions(architecture: .resnet50, variant: .v1d))
        let names = Set(graph.parameters.map(\.name))
        for key in ["conv1.0.weight", "conv1.1.running_var", "conv1.3.weight", "conv1.4.bias", "conv1.6.weight", "bn1.weight",
                    "layer1.0.downsample.1.weight", "layer2.0.downsample.2.running_mean"] {
            #expect(names.contains(key), "\(key)")
        }
        #expect(graph.nodes.contains { $0.name == "/layer2/layer2.0/downsample/downsample.0/AveragePool" })
        #expect(!graph.nodes.contains { $0.name == "/layer1/layer1.0/downsample/downsample.0/AveragePool" }, "stride 1: Identity")
        #expect(graph.options.modelName == "resnet50d")
    }

    @Test func v1MovesTheStrideToTheFirstConv() throws {
        func strides(_ v: ResNetVariant, _ conv: String) throws -> [Int64]? {
            let graph = ArchitectureGraph(ArchitectureOptions(architecture: .resnet50, variant: v))
            return try #require(graph.nodes.first { $0.name == "/layer2/layer2.0/\(conv)/Conv" }).attribute("strides")?.ints
        }
        #expect(try strides(.v1_5, "conv2") == [2, 2] && strides(.v1_5, "conv1") == [1, 1])
        #expect(try strides(.v1, "conv1") == [2, 2] && strides(.v1, "conv2") == [1, 1])
    }

    @Test func bindingKeepsFloatBytesAndIgnoresCounters() throws {
        let graph = ArchitectureGraph(ArchitectureOptions(architecture: .resnet18, numClasses: 10))
        var sd = stateDict(graph)
        sd.append(Tensor(name: "bn1.num_batches_tracked", dataType: .int64, dims: [], data: TensorBytes([UInt8](repeating: 0, count: 8))))
        let (bound, report) = try StateDictBinding.bind(sd.reversed(), to: graph)
        #expect(bound.map(\.name) == graph.parameters.map(\.name), "in graph order, whatever the file's")
        #expect(report.ignored == ["bn1.num_batches_tracked"] && report.widened.isEmpty)
    }

    @Test(arguments: [(DataType.float16, UInt16(0x3C00)), (.bfloat16, UInt16(0x3F80))])
    func halfPrecisionIsWidenedExactly(_ type: DataType, _ one: UInt16) throws {
        let graph = ArchitectureGraph(ArchitectureOptions(architecture: .resnet18))
        let sd = stateDict(graph, type: type).map { t -> Tensor in
            var t = t
            t.data = TensorBytes(t.data.array.enumerated().map { k, _ in UInt8(truncatingIfNeeded: k % 2 == 0 ? one : one >> 8) })
            return t
        }
        let (bound, report) = try StateDictBinding.bind(sd, to: graph)
        #expect(report.widened == [type: graph.parameters.count])
        #expect(bound.allSatisfy { $0.dataType == .float && $0.floatValues?.allSatisfy { $0 == 1 } == true })
    }

    @Test func everyProblemIsListedAtOnce() throws {
        let graph = ArchitectureGraph(ArchitectureOptions(architecture: .resnet18))
        var sd = stateDict(graph).filter { $0.name != "layer4.1.bn2.bias" }
        sd[0].dataType = .double
        sd[0].data = TensorBytes([UInt8](repeating: 0, count: sd[0].data.count * 2))
        let fc = try #require(sd.firstIndex { $0.name == "fc.bias" })
        sd[fc].dims = [10]
        sd.append(Tensor(name: "head.weight\u{1B}[2J", dataType: .float, dims: [1], data: TensorBytes([0, 0, 0, 0])))
        do {
            _ = try StateDictBinding.bind(sd, to: graph)
            Issue.record("accepted")
        } catch let e as StateDictError {
            #expect(e.missing == ["layer4.1.bn2.bias"])
            #expect(e.unexpected == ["head.weight\u{1B}[2J"])
            #expect(e.sizeMismatches == [.init(name: "fc.bias", expected: [1000], actual: [10])])
            #expect(e.dtypeMismatches.map(\.name) == ["conv1.weight"])
            #expect(e.numClassesHint == nil, "not only the classifier differs")
            let text = e.description
            #expect(text.contains("Missing key(s) in state_dict: \"layer4.1.bn2.bias\"."))
            #expect(text.contains("\"head.weight\\u{1b}[2J\""), "escape characters shown escaped: \(text)")
            #expect(text.contains("size mismatch for fc.bias: expected [1000], got [10]."))
        }
    }

    /// `pass --num-classes N` only when N is certain to work: resnet18 (fc [1000, 512]) given these classifiers.
    @Test(arguments: [
        HintCase(name: "37 classes", weight: [37, 512], bias: [37], hint: 37),
        HintCase(name: "the CLI's largest count", weight: [1_000_000, 512], bias: [1_000_000], hint: 1_000_000),
        HintCase(name: "resnet50's classifier (wrong input width)", weight: [1000, 2048], bias: [1000], hint: nil),
        HintCase(name: "zero classes (refused by the CLI)", weight: [0, 512], bias: [0], hint: nil),
        HintCase(name: "more classes than the CLI accepts", weight: [1_000_001, 512], bias: [1_000_001], hint: nil),
        HintCase(name: "only fc.bias differs", weight: [1000, 512], bias: [10], hint: nil),
        HintCase(name: "fc.bias keeps 1000", weight: [10, 512], bias: [1000], hint: nil),
        HintCase(name: "fc.bias disagrees", weight: [10, 512], bias: [12], hint: nil),
        HintCase(name: "fc.bias not a vector", weight: [10, 512], bias: [10, 1], hint: nil),
        HintCase(name: "fc.weight rank 3", weight: [10, 512, 1], bias: [10], hint: nil),
        HintCase(name: "fc.weight rank 1", weight: [10], bias: [10], hint: nil),
        HintCase(name: "no fc.bias", weight: [10, 512], bias: nil, hint: nil),
    ])
    func numClassesHintOnlyWhenItWorks(_ c: HintCase) throws {
        let graph = ArchitectureGraph(ArchitectureOptions(architecture: .resnet18))
        // The classifier's data is left empty: binding refuses it by shape before reading it.
        var sd = stateDict(graph).filter { $0.name != "fc.weight" && $0.name != "fc.bias" }
        sd.append(Tensor(name: "fc.weight", dataType: .float, dims: c.weight, data: TensorBytes([])))
        if let bias = c.bias { sd.append(Tensor(name: "fc.bias", dataType: .float, dims: bias, data: TensorBytes([]))) }
        do {
            _ = try StateDictBinding.bind(sd, to: graph)
            Issue.record("accepted")
        } catch let e as StateDictError {
            #expect(e.numClassesHint == c.hint)
            #expect(e.description.contains("--num-classes") == (c.hint != nil), "\(e)")
        }
    }

    @Test func classifierSizeSuggestsNumClasses() throws {
        let graph = ArchitectureGraph(ArchitectureOptions(architecture: .resnet18))
        let other = ArchitectureGraph(ArchitectureOptions(architecture: .resnet18, numClasses: 37))
        #expect(throws: StateDictError.self) { try StateDictBinding.bind(stateDict(other), to: graph) }
        do { _ = try StateDictBinding.bind(stateDict(other), to: graph) } catch let e as StateDictError {
            #expect(e.numClassesHint == 37 && e.description.contains("pass --num-classes 37"))
        }
    }
}

struct HintCase: CustomTestStringConvertible, Sendable {
    let name: String
    let weight: [Int64]
    let bias: [Int64]?
    let hint: Int64?
    var testDescription: String { name }
}
