import ResNetIR
import ResNetShapes

/// Whether a graph treats the images of a batch independently, so a batch of N can run as N
/// runs of a plan for one image (ImagewiseRun). Why: layer by layer, a batch's activations
/// leave the caches between two layers (resnet50's layer1 at batch 8: 26 MB per tensor), and
/// its pointwise convs ran 1.5-2x slower per image than at batch 1; image by image each
/// image's activations stay in L2/L3 from one layer to the next, as at batch 1.
///
/// Conservative: a graph qualifies only if every node computing from the input is an operator
/// known to work per image with the attributes it has, every value computed from the input
/// has shape [N, ...] for a batch of N and [1, ...] for one image (the shared shape library,
/// run for both), and no value computed from the batch's size (Shape, Size) enters a
/// node's data rather than its shape arguments. Anything else runs as one batched plan,
/// exactly as before: this is a choice of schedule, never of result.
enum BatchSeparability {
    /// Nil if the graph is separable for `inputShape` (N = inputShape[0] > 1), else why not.
    static func reason(graph: Graph, opset: Int64, input: String, inputShape: [Int]) -> String? {
        guard inputShape.count >= 1, inputShape[0] > 1 else { return "the input has no batch axis of more than one image" }
        let index = GraphIndex(graph)
        func facts(_ shape: [Int]) -> [String: ValueFacts]? {
            let inference = ShapeInference(graph: graph, opset: opset, index: index, inputShapes: [input: shape.map { .known(Int64($0)) }])
            inference.run()
            return inference.findings.isEmpty ? inference.facts : nil
        }
        let n = Int64(inputShape[0])
        guard let batch = facts(inputShape), let one = facts([1] + inputShape.dropFirst()) else {
            return "shape inference has findings for one image or for the batch"
        }
        // Values computed from the input's data (`data`), and from its shape alone (`sized`: Shape,
        // Size and what is computed from them without data, whose values depend on N).
        var data: Set<String> = [input], sized: Set<String> = []
        for i in index.order {
            let node = graph.nodes[i]
            let inputs = node.inputs.enumerated().filter { !$0.element.isEmpty }
            let dataPositions = inputs.filter { data.contains($0.element) }.map(\.offset)
            let sizedPositions = inputs.filter { sized.contains($0.element) }.map(\.offset)
            let outputs = node.outputs.filter { !$0.isEmpty }
            let label = ShapeInference.label(node, i)
            if dataPositions.isEmpty {
                if !sizedPositions.isEmpty { sized.formUnion(outputs) }
                continue
            }
            if node.opType == "Shape" || node.opType == "Size" {
                sized.formUnion(outputs)
                continue
            }
            if let why = perImage(node, dataPositions: dataPositions, facts: batch) { return "\(label): \(why)" }
            if let p = sizedPositions.first(where: { !shapeArgument(node.opType, position: $0) }) {
                return "\(label): input \(p) is computed from the batch's size"
            }
            // Starts, pads, scales or axes computed from the batch's size must come out the same for
            // one image (matching output shapes do not imply it: a Slice starting at N - 1 along
            // another axis). Reshape, Expand, Tile, Split and (Un)Squeeze take only shapes, which
            // the comparison below settles.
            if !shapeOnlyArgument(node.opType), let p = sizedPositions.first(where: { batch[node.inputs[$0]]?.ints == nil
                || batch[node.inputs[$0]]?.ints != one[node.inputs[$0]]?.ints }) {
                return "\(label): input \(p) is computed from the batch's size and differs for one image"
            }
            // Broadcasting aligns trailing axes: a data operand of lower rank would put its first
            // axis (the batch's) against a later one of the other operand.
            if broadcasting.contains(node.opType) {
                let rank = node.outputs.first.flatMap { batch[$0]?.shape?.count }
                if let p = dataPositions.first(where: { batch[node.inputs[$0]]?.shape?.count != rank }) {
                    return "\(label): input \(p) is computed from the input and broadcasts across images (rank \(batch[node.inputs[p]]?.shape?.count ?? -1) against \(rank ?? -1))"
                }
            }
            for name in outputs {
                // [N, rest...] for the batch and [1, rest...] for one image, every dim a number.
                guard let sb = batch[name]?.shape, let so = one[name]?.shape, sb.count >= 1, sb.count == so.count,
                      sb[0] == .known(n), so[0] == .known(1), zip(sb.dropFirst(), so.dropFirst()).allSatisfy({ $0 == $1 && $0.value != nil })
                else { return "\(label): '\(name)' is \(describe(batch[name]?.shape)) for the batch, \(describe(one[name]?.shape)) for one image" }
            }
            data.formUnion(outputs)
        }
        for o in graph.outputs where !data.contains(o.name) {
            return "graph output '\(o.name)' is not computed from the input"
        }
        return nil
    }

    /// Operators whose operands broadcast against each other (right-aligned).
    static let broadcasting: Set<String> = [
        "Add", "Sub", "Mul", "Div", "Pow", "Sum", "Max", "Min", "Mean", "Where", "PRelu", "Equal", "Greater", "Less",
        "QLinearAdd", "QLinearMul", "Expand",
    ]

    /// Operators that compute each image from that image alone whatever their attributes.
    static let elementwise: Set<String> = [
        "Conv", "ConvTranspose", "Relu", "LeakyRelu", "PRelu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Exp", "Log", "Sqrt",
        "Neg", "Reciprocal", "Abs", "Erf", "Gelu", "Equal", "Greater", "Less", "ConvInteger", "AveragePool", "LpPool", "GlobalAveragePool", "GlobalMaxPool", "Identity",
        "Cast", "CastLike", "Add", "Sub", "Mul", "Div", "Pow", "Sum", "Max", "Min", "Mean", "Where", "Flatten", "Reshape", "Squeeze",
        "Unsqueeze", "Concat", "Split", "Pad", "Expand", "Tile", "Resize", "Upsample", "InstanceNormalization", "LRN",
        "QLinearConv", "QLinearAdd", "QLinearMul", "QLinearLeakyRelu", "QLinearSigmoid", "QLinearGlobalAveragePool", "QLinearAveragePool",
        "QLinearConcat",
    ]

    /// Why `node` (reading the input's data at `dataPositions`) may mix images, or nil. Shape
    /// changes along the batch axis (Concat, Split, Pad, Reshape... on axis 0) need no rule
    /// here: the shape comparison refuses them.
    static func perImage(_ node: Node, dataPositions: [Int], facts: [String: ValueFacts]) -> String? {
        let rank = (node.inputs.first).flatMap { facts[$0]?.shape?.count } ?? 0
        func axis(_ name: String, default d: Int64) -> Int64 {
            let a = node.attribute(name)?.int ?? d
            return a < 0 ? a + Int64(rank) : a
        }
        if elementwise.contains(node.opType) { return nil }
        switch node.opType {
        case "MaxPool":
            // Its Indices output counts across the whole batch (an offset of image x C x H x W).
            return node.outputs.count > 1 && !node.outputs[1].isEmpty ? "its indices count across the batch" : nil
        case "Dropout":
            // Inference only (the planner refuses training mode); the mask is per element.
            return nil
        case "BatchNormalization":
            return (node.attribute("training_mode")?.int ?? 0) == 0 ? nil : "training-mode statistics span the batch"
        case "Softmax", "LogSoftmax", "Hardmax":
            return axis("axis", default: -1) >= 1 || rank == 0 ? nil : "normalizes over the batch axis"
        case "LayerNormalization":
            return axis("axis", default: -1) >= 1 ? nil : "normalizes over the batch axis"
        case "Transpose":
            let perm = node.attribute("perm")?.ints
            return perm?.first == 0 ? nil : "moves the batch axis"
        case "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSumExp", "ReduceSumSquare":
            var axes = node.attribute("axes")?.ints
            if axes == nil, node.inputs.count > 1, !node.inputs[1].isEmpty { axes = facts[node.inputs[1]]?.ints }
            guard let axes, !axes.isEmpty else { return "reduces over every axis" }
            return axes.allSatisfy({ ($0 < 0 ? $0 + Int64(rank) : $0) >= 1 }) ? nil : "reduces over the batch axis"
        case "Slice":
            guard node.inputs.count > 1, let starts = facts[node.inputs[1]]?.values else { return "slices unknown axes" }
            var axes: [Int64] = Array(0..<Int64(starts.count))
            if node.inputs.count > 3, !node.inputs[3].isEmpty {
                guard let given = facts[node.inputs[3]]?.ints else { return "slices unknown axes" }
                axes = given
            }
            return axes.allSatisfy({ ($0 < 0 ? $0 + Int64(rank) : $0) >= 1 }) ? nil : "slices the batch axis"
        case "Gather":
            return dataPositions == [0] && axis("axis", default: 0) >= 1 ? nil : "gathers along the batch axis or by computed indices"
        case "Gemm":
            return dataPositions == [0] && (node.attribute("transA")?.int ?? 0) == 0 ? nil : "multiplies across the batch"
        case "MatMul", "MatMulInteger", "QLinearMatMul", "QGemm":
            // A second operand computed from the input mixes images unless both are batched (rank 3+).
            let second = node.opType == "MatMul" || node.opType == "MatMulInteger" ? 1 : 3  // QLinearMatMul's and QGemm's B is input 3
            if !dataPositions.contains(second) { return dataPositions == [0] && rank >= 2 ? nil : "multiplies across the batch" }
            // Both computed: batched matrices of equal rank (a lower-rank one would broadcast across images).
            let secondRank = facts[node.inputs[second]]?.shape?.count ?? 0
            return rank >= 3 && secondRank == rank ? nil : "multiplies two computed matrices across the batch"
        case "QuantizeLinear", "DequantizeLinear":
            // Per-tensor, or per-axis along an axis other than the batch's.
            let scale = node.inputs.count > 1 ? facts[node.inputs[1]]?.shape : nil
            let perTensor = scale.map { $0.isEmpty || $0 == [.known(1)] } ?? false
            return perTensor || axis("axis", default: 1) >= 1 ? nil : "quantizes along the batch axis"
        default:
            return "\(node.opType) is not known to compute each image alone"
        }
    }

    /// Operators whose shape arguments only shape the output (not Upsample: different scales
    /// can give equal shapes), so that equal output shapes (for
    /// the batch and for one image, each [N or 1, rest]) mean equal computations per image.
    static func shapeOnlyArgument(_ op: String) -> Bool {
        ["Reshape", "Expand", "Tile", "Squeeze", "Unsqueeze", "Split"].contains(op)
    }

    /// Inputs that give shapes, axes or pads (not data): where a value computed from the
    /// batch's size may enter a node computed from the input.
    static func shapeArgument(_ op: String, position: Int) -> Bool {
        switch op {
        case "Reshape", "Expand", "Tile", "Squeeze", "Unsqueeze", "Split", "Upsample": return position == 1
        case "Slice": return position >= 1
        case "Pad": return position == 1 || position == 3  // pads, axes (2 is the fill value)
        case "Resize": return position >= 1
        case "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSumExp", "ReduceSumSquare":
            return position == 1
        default: return false
        }
    }
}
