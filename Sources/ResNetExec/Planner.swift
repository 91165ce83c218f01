import ResNetIR
import ResNetKernelsInt8
import ResNetShapes
import ResNetKernels
import ResNetKernelsReference

/// Builds an ExecutionPlan: walks the graph in order, folds what is constant,
/// resolves shapes, picks kernels, fuses a ReLU into the op before it when that
/// op's output feeds nothing else, and assigns buffers by liveness.
final class Planner<T: ExecScalar> {
    let graph: Graph
    let opset: Int64
    let simd: Bool
    var values: [String: PlanValue] = [:]
    var steps: [Step<T>] = []
    /// Per logical tensor: element count, storage root (aliases share one), step that defines it.
    var sizes: [Int] = []
    var root: [Int] = []
    var definedAt: [Int] = []
    /// Per logical tensor, its shape (a byte image's: its elements of T), for the plan's listing.
    var shapes: [[Int]] = []
    /// Tensors made since the last step was emitted: the next step emitted writes them (`emit`),
    /// unless settled apart (a constant, a byte image its producer writes, a layout copy).
    var pendingDefinitions: [Int] = []
    /// The node being planned's reads since its last step (`use`), for the next step's `reads`: unlike
    /// `pendingUses` (liveness), cleared where a node's planning starts, so the reads of a node that
    /// emits no step (Flatten, Reshape: a view) are not listed as the next node's.
    var pendingReads: [Int] = []
    /// Of those, by tensor, the reads that are not the step's own: taken from a byte image instead
    /// (`byteImage(of:)`), or made for a layout copy emitted meanwhile (Planner+ChannelsLast).
    var replacedReads: [Int: Int] = [:]
    var lastUse: [Int: Int] = [:]
    var maxGemmN = 1
    var maxColumns = 1
    /// Floats of Cᵀ the largest narrow-output conv needs (PackedGemm.sgemmNarrow).
    var maxTransposed = 0
    /// The most floats a ShiftedRowsConv's planes and grid take (one buffer per GEMM workspace).
    var maxShiftedRows = 0
    /// Bytes of the largest integer step's scratch, and of the quantized pools' plane buffers (all kept).
    var maxInt8ScratchBytes = 0
    var planeBufferBytes = 0
    /// Node index -> the ReLU node it absorbs, and the ReLU nodes absorbed.
    var fusedRelu: [Int: Int] = [:]
    /// Conv (or gate Mul: findGateResidualFusions) node index -> the residual Add it absorbs and which
    /// of the Add's inputs is the shortcut.
    var fusedResidual: [Int: (add: Int, shortcut: Int)] = [:]
    /// Value name -> (index of the step that writes it, tensor, shape), for stepwise runs.
    var producedBy: [String: (step: Int, tensor: Int, shape: [Int])] = [:]
    var absorbed: Set<Int> = []
    /// Byte images (Planner+ByteImages.swift): offers by the tensor their step writes, and how many reads take one.
    var byteImageOffers: [Int: (image: ByteImageOffer, step: Int)] = [:]
    var byteImageReads = 0
    /// Channels-last activations (Planner+ChannelsLast.swift): the convs that run transposed
    /// and read either layout, those of them that write channels last, the tensors stored so,
    /// and the copies made of a tensor in the other layout, by tensor.
    var channelsLastConvs: Set<Int> = []
    var channelsLastOutputs: Set<Int> = []
    /// Channel-lane Winograd convs above 1024 positions: they read their input channels last, copied if need be.
    var wideWinogradConvs: Set<Int> = []
    /// Max pools that write channels last when they read so (findChannelsLastConvs), by node index.
    var channelsLastPools: Set<Int> = []
    var channelsLastTensors: Set<Int> = []
    var channelsFirstCopy: [Int: Int] = [:]
    var channelsLastCopy: [Int: Int] = [:]
    /// QDQ groups planned as the quantized operator they stand for (findQDQGroups), by the float node's index.
    var qdqReplacement: [Int: Node] = [:]
    /// What the plan allocates, in bytes (set once the budget check passed).
    var plannedBytes = 0
    /// Bytes of constants materialised at plan time so far (ConstantOfShape, Expand, casts).
    var constantBytes = 0
    let budget: MemoryBudget
    let index: GraphIndex
    /// Every value's shape (and small integer values) from the shared shape library, resolved for this input shape.
    var facts: [String: ValueFacts] = [:]

    /// The kernel set convolutions run on (.reference when `simd` is false).
    let kernels: KernelSet
    /// Per-thread B panels of the packed GEMM (convolutions on a SIMD set).
    let packedWorkspace: PackedGemmWorkspace
    /// Buffers of the integer steps (QLinearConv, QLinearMatMul, QGemm), shared by all of them.
    lazy var int8Scratch = Int8Scratch(threads: packedWorkspace.threads)
    /// One single-threaded GEMM workspace per thread: convs that split a batch by images, Winograd's blocks and GEMMs.
    lazy var imageWorkspaces = (0..<packedWorkspace.threads).map { _ in PackedGemmWorkspace(threads: 1, nr: kernels.tileColumns) }
    /// Whether a conv uses `imageWorkspaces` (their panels and transposed outputs count against the budget).
    var imageWorkspacesUsed = false

    /// No rewrite that changes rounding (Winograd, BN folding): `--exact`.
    let exact: Bool

    /// Winograd F(4x4), F(3x3) or F(2x2) for eligible convolutions (on unless `--no-winograd` or `--exact`).
    let winograd: Bool

    /// Packed weights shared with the other plans of the same Executor.
    let prepared: PreparedWeights

    init(graph: Graph, opset: Int64, kernels: KernelSet, threads: Int, budget: MemoryBudget, exact: Bool = false, winograd: Bool = false,
         prepared: PreparedWeights = PreparedWeights()) {
        self.prepared = prepared
        self.exact = exact
        self.winograd = winograd
        self.graph = graph
        self.opset = opset
        self.kernels = kernels
        self.simd = kernels != .reference
        self.budget = budget
        self.index = GraphIndex(graph)
        self.packedWorkspace = PackedGemmWorkspace(threads: simd ? threads : 1, nr: kernels.tileColumns)
    }

    static func plan(_ model: Model, inputShape: [Int], options: ExecOptions, prepared: PreparedWeights = PreparedWeights()) throws -> ExecutionPlanOf<T> {
        // SIMD kernels are float32 kernels: a float64 plan always runs the reference twins.
        let kernels = T.self == Float.self ? options.kernels : .reference
        guard kernels.isSupported else { throw ExecError.kernelsUnsupported(kernels.rawValue) }
        try ModelValidation.validate(model)
        let p = Planner(graph: model.graph, opset: model.defaultOpsetVersion ?? 21, kernels: kernels, threads: options.threads,
                        budget: options.memoryBudget, exact: options.exact, winograd: options.winograd, prepared: prepared)
        return try p.build(inputShape: inputShape)
    }

    // MARK: Values

    /// Shapes reaching here were checked by the shape library and the budget
    /// (every runtime value fits it), so their products cannot overflow.
    func newTensor(_ shape: [Int]) -> Int {
        sizes.append(shape.reduce(1, *))
        shapes.append(shape)
        root.append(sizes.count - 1)
        definedAt.append(steps.count)
        pendingDefinitions.append(sizes.count - 1)
        return sizes.count - 1
    }

    /// `id` is written by step `step` (-1: before any run), not by the next step emitted.
    func settleDefinition(_ id: Int, at step: Int) {
        definedAt[id] = step
        pendingDefinitions.removeAll { $0 == id }
    }

    /// The same storage seen with another shape (Reshape, Flatten, Identity...).
    func alias(_ id: Int, _ shape: [Int]) -> PlanValue {
        sizes.append(shape.reduce(1, *))
        shapes.append(shape)
        root.append(root[id])
        definedAt.append(steps.count)
        return .tensor(id: sizes.count - 1, shape: shape)
    }

    /// Marks `id` read by the step about to be emitted. A step a node's planning emits in between
    /// (a layout copy of another input, Planner+ChannelsLast) would leave that mark one step
    /// short, so the node's `emit` marks every id its planning read again (`pendingUses`).
    func use(_ id: Int) {
        // Never lowered: a constant's Int.max (materialise) must survive a read of it (a Split, Sum or
        // Gemm of an initializer marks it again), or its buffer, filled once, would go to another tensor.
        lastUse[root[id]] = max(lastUse[root[id]] ?? 0, steps.count)
        pendingUses.append(id)
        pendingReads.append(id)
        floatReads[root[id], default: 0] += 1
    }
    /// Per storage root, the reads planned of its values as stored (every `use`), less those a reader
    /// took from its byte image instead (`byteImage(of:offset:)`): where none is left, a producer that
    /// may skip its float-coded values (ByteImageOffer.floatsOptional) does.
    var floatReads: [Int: Int] = [:]
    /// Tensors left unwritten as floats, with their byte images (settleByteImageOffers): for the plan.
    var floatless: [Int: (bytes: Int, offset: Int)] = [:]
    /// Ids read since the last `emit`: what the next step emitted reads.
    var pendingUses: [Int] = []

    func value(_ node: Node, _ i: Int) throws -> PlanValue {
        guard i < node.inputs.count, !node.inputs[i].isEmpty else {
            throw ExecError.shapeMismatch(node: node.name, detail: "input \(i) is missing")
        }
        guard let v = values[node.inputs[i]] else { throw ExecError.missingValue(node: node.name, value: node.inputs[i]) }
        return v
    }

    func optionalValue(_ node: Node, _ i: Int) -> PlanValue? {
        i < node.inputs.count && !node.inputs[i].isEmpty ? values[node.inputs[i]] : nil
    }

    /// A runtime float tensor input; constants are materialised as one.
    func tensor(_ node: Node, _ i: Int) throws -> (Int, [Int]) {
        switch try value(node, i) {
        case let .tensor(id, shape) where channelsLastTensors.contains(id): return (channelsFirst(id, shape, for: node), shape)
        case let .tensor(id, shape): use(id); return (id, shape)
        case let .floats(c, shape): return materialise(c.array, shape)
        case let .ints(v, shape) where node.opType == "Pow" && i == 1:
            // Pow's exponent may be an integer tensor; as floats it computes the same powers.
            return materialise(v.map(Float.init), shape)
        case .ints:
            throw ExecError.unsupportedDataType(node: node.name, value: node.inputs[i], dataType: "an integer tensor")
        }
    }

    /// A constant fed to a tensor kernel: its buffer is allocated before every other and never shared or freed.
    func materialise(_ values: [Float], _ shape: [Int]) -> (Int, [Int]) {
        let id = newTensor(shape)
        settleDefinition(id, at: -1)
        lastUse[root[id]] = Int.max
        constantsToCopy.append((id, values))
        return (id, shape)
    }
    var constantsToCopy: [(Int, [Float])] = []

    func floats(_ node: Node, _ i: Int) throws -> (FloatConstant, [Int]) {
        guard case let .floats(c, shape) = try value(node, i) else {
            throw ExecError.unsupportedAttribute(node: node.name, detail: "input \(i) ('\(node.inputs[i])') computed at run time")
        }
        // A float64 plan widens its weights here, at plan time, not during a run.
        if T.self != Float.self { c.withValues { (_: UnsafeBufferPointer<T>) in } }
        return (c, shape)
    }

    func ints(_ node: Node, _ i: Int) throws -> [Int64] {
        guard case let .ints(v, _) = try value(node, i) else {
            throw ExecError.unsupportedAttribute(node: node.name, detail: "input \(i) ('\(node.inputs[i])') is not a constant integer tensor")
        }
        return v
    }

    func set(_ node: Node, _ v: PlanValue, output k: Int = 0) {
        if k < node.outputs.count, !node.outputs[k].isEmpty {
            values[node.outputs[k]] = v
            if case let .tensor(id, shape) = v { producedBy[node.outputs[k]] = (steps.count - 1, id, shape) }
        }
    }

    /// Appends the step that runs `work` for `node`. It reads what the node's planning read since its
    /// last step (`pendingReads`, less `replacedReads`) and writes the tensors made since then
    /// (`pendingDefinitions`): the step's data, for the plan's listing and check.
    func emit(_ node: Node, macs: Int = 0, integer: Bool = false, kernel: String? = nil, work: StepWork<T>) {
        var reads: [Int] = []
        for id in pendingReads where !reads.contains(id) && pendingReads.count(where: { $0 == id }) > replacedReads[id, default: 0] {
            reads.append(id)
        }
        steps.append(Step(node: node.name, op: node.opType, macs: macs, integer: integer, kernel: kernel, reads: reads, work: work))
        for id in pendingUses { lastUse[root[id]] = max(lastUse[root[id]] ?? 0, steps.count - 1) }
        for id in pendingDefinitions { definedAt[id] = steps.count - 1 }
        pendingUses.removeAll(keepingCapacity: true)
        pendingDefinitions.removeAll(keepingCapacity: true)
        startReads()
    }

    /// A node's planning, or its next step's, starts: no read made so far is its.
    func startReads() {
        pendingReads.removeAll(keepingCapacity: true)
        replacedReads.removeAll(keepingCapacity: true)
    }

    // MARK: Build

    /// The graph input the plan feeds: the first that no initializer provides.
    static func runtimeInput(_ graph: Graph) -> ValueInfo? {
        let initializerNames = Set(graph.initializers.map(\.name))
        return graph.inputs.first(where: { !initializerNames.contains($0.name) })
    }

    func build(inputShape: [Int]) throws -> ExecutionPlanOf<T> {
        guard let input = Self.runtimeInput(graph) else {
            throw ExecError.inputShape(name: "(none)", expected: "one graph input", actual: inputShape)
        }
        guard let inputCount = MemoryBudget.elementCount(inputShape) else {
            throw ExecError.overBudget(what: "input '\(input.name)' \(inputShape)", bytes: nil, budget: budget.bytes)
        }
        try budget.check(elements: inputCount, what: "input '\(input.name)' \(inputShape)")
        if case let .tensor(elem, dims?)? = input.type?.kind {
            guard elem == 0 || elem == DataType.float.rawValue else {
                throw ExecError.unsupportedDataType(node: "graph input", value: input.name,
                                                    dataType: DataType(rawValue: elem)?.description ?? "element type \(elem)")
            }
            let declared = dims.map { d -> Int? in if case let .known(v) = d.value { return Int(exactly: v) } else { return nil } }
            guard declared.count == inputShape.count, zip(declared, inputShape).allSatisfy({ $0 == nil || $0 == $1 }) else {
                throw ExecError.inputShape(name: input.name, expected: "[" + dims.map(\.description).joined(separator: ", ") + "]", actual: inputShape)
            }
        }
        try inferShapes(input: input.name, shape: inputShape)
        for t in graph.initializers {
            if let v = t.integerValues { values[t.name] = .ints(v, shape: t.dims.map { Int($0) }) }
            else if let c = FloatConstant(t) { values[t.name] = .floats(c, shape: t.dims.map { Int($0) }) }
        }
        let inputTensor = newTensor(inputShape)
        pendingDefinitions.removeAll()  // loaded by the run before step 0, not written by a step (lastUse = Int.max keeps it)
        values[input.name] = .tensor(id: inputTensor, shape: inputShape)
        if !exact { findQDQGroups() }
        if simd { findResidualFusions(); findGateResidualFusions() }
        findReluFusions()
        findChannelsLastConvs()
        for (i, original) in graph.nodes.enumerated() where !absorbed.contains(i) {
            let node = qdqReplacement[i] ?? original
            startReads()
            do { try plan(node, index: i) } catch let e as ShapeError {
                throw ExecError.invalidModel(node: ShapeInference.label(node, i), detail: "\(node.opType): \(e)")
            }
        }
        var outputs: [(String, PlanValue)] = []
        for o in graph.outputs {
            guard let v = values[o.name] else { throw ExecError.missingValue(node: "graph output", value: o.name) }
            if case let .tensor(id, _) = v { lastUse[root[id]] = Int.max }
            outputs.append((o.name, v))
        }
        lastUse[root[inputTensor]] = Int.max
        settleByteImageOffers(outputs: outputs.compactMap { if case let .tensor(id, _) = $0.1 { return id } else { return nil } })
        return try allocate(inputName: input.name, inputShape: inputShape, inputTensor: inputTensor, outputs: outputs)
    }

    /// A residual join y = Conv(x) + shortcut (then often ReLU) runs as one step on a SIMD
    /// kernel set: the GEMM's epilogue adds the shortcut (and applies the ReLU) while the
    /// tile is in registers, instead of a separate pass over the activations. Only where
    /// nothing changes: the Conv's one consumer is a two-input Add, the shortcut is a
    /// runtime tensor produced before the Conv, and both have the same shape. The sum is
    /// formed in the same order as unfused ((conv + bias) + shortcut), so outputs are identical.
    func findResidualFusions() {
        let consumers = index.consumers
        let outputs = Set(graph.outputs.map(\.name))
        for (i, n) in graph.nodes.enumerated() where n.opType == "Conv" {
            guard let out = n.outputs.first, !outputs.contains(out), let c = consumers[out], c.count == 1,
                  facts[n.inputs.first ?? ""]?.shape?.count == 4 else { continue }
            let add = graph.nodes[c[0]]
            guard add.opType == "Add", add.inputs.count == 2, add.inputs[0] != add.inputs[1],
                  let pos = add.inputs.firstIndex(of: out), !absorbed.contains(c[0]) else { continue }
            let shortcut = add.inputs[1 - pos]
            let earlier = index.producer[shortcut].map { $0 < i } ?? graph.inputs.contains { $0.name == shortcut }
            guard earlier, facts[shortcut]?.isConstant == false,
                  let s = facts[shortcut]?.shape, s.count == 4, s == facts[out]?.shape else { continue }
            fusedResidual[i] = (c[0], 1 - pos)
            absorbed.insert(c[0])
            if let sum = add.outputs.first, !outputs.contains(sum), let r = consumers[sum], r.count == 1,
               graph.nodes[r[0]].opType == "Relu" {
                fusedRelu[i] = r[0]
                absorbed.insert(r[0])
            }
        }
    }

    /// An SE block's join y = x * gate + shortcut (then often ReLU) as one pass on a SIMD set: the
    /// Mul's one consumer a two-input Add of a runtime shortcut of the Mul's shape, computed before
    /// the Mul, the gate one value a row (rowScalarPattern). The product is rounded before the sum,
    /// as unfused, so outputs are identical. timm seresnet50, 1 thread: its 16 gate Muls and 12 Adds
    /// read and wrote every block's activation twice (layer1's 0.45 + 0.30 ms).
    func findGateResidualFusions() {
        let consumers = index.consumers
        let outputs = Set(graph.outputs.map(\.name))
        for (i, n) in graph.nodes.enumerated() where n.opType == "Mul" && n.inputs.count == 2 && !absorbed.contains(i) {
            guard let out = n.outputs.first, !outputs.contains(out), let c = consumers[out], c.count == 1, let ys = resolvedShape(out),
                  let a = resolvedShape(n.inputs[0]), let b = resolvedShape(n.inputs[1]), a != b,
                  (a == ys && rowScalarPattern(b, ys) != nil) || (b == ys && rowScalarPattern(a, ys) != nil) else { continue }
            let add = graph.nodes[c[0]]
            guard add.opType == "Add", add.inputs.count == 2, add.inputs[0] != add.inputs[1],
                  let pos = add.inputs.firstIndex(of: out), !absorbed.contains(c[0]) else { continue }
            let shortcut = add.inputs[1 - pos]
            let earlier = index.producer[shortcut].map { $0 < i } ?? graph.inputs.contains { $0.name == shortcut }
            guard earlier, facts[shortcut]?.isConstant == false, resolvedShape(shortcut) == ys else { continue }
            fusedResidual[i] = (c[0], 1 - pos)
            absorbed.insert(c[0])
            if let sum = add.outputs.first, !outputs.contains(sum), let r = consumers[sum], r.count == 1, graph.nodes[r[0]].opType == "Relu" {
                fusedRelu[i] = r[0]
                absorbed.insert(r[0])
            }
        }
    }

    /// Conv, BatchNormalization and Add whose only consumer is a Relu run the ReLU in their epilogue.
    func findReluFusions() {
        let consumers = index.consumers
        let outputs = Set(graph.outputs.map(\.name))
        for (i, n) in graph.nodes.enumerated() where ["Conv", "BatchNormalization", "Add"].contains(n.opType)
            && (n.attribute("training_mode")?.int ?? 0) == 0 && !absorbed.contains(i) && fusedRelu[i] == nil {
            guard let out = n.outputs.first, !outputs.contains(out), let c = consumers[out], c.count == 1,
                  graph.nodes[c[0]].opType == "Relu" else { continue }
            // Only the 2-D conv kernel has a ReLU epilogue (convND does not).
            if n.opType == "Conv", facts[n.inputs.first ?? ""]?.shape?.count != 4 { continue }
            fusedRelu[i] = c[0]
            absorbed.insert(c[0])
        }
    }

    /// The whole plan's floats (tensor buffers, im2col columns, GEMM's packed
    /// panels), overflow-checked and held to the budget before any is allocated.
    func checkBudget(buffers: [Int]) throws {
        let workspaces = imageWorkspacesUsed ? 2 : 1  // the plan's, and one per thread for whole images
        let gemmPanel = Sgemm.kc * (maxGemmN + 64) + GemmWorkspace.threads * Sgemm.kc * Sgemm.mr
            + workspaces * packedWorkspace.threads * PackedA.kc * (PackedGemmWorkspace.nc + kernels.tileColumns)
        let (transposed, tOverflow) = maxTransposed.multipliedReportingOverflow(by: imageWorkspacesUsed ? 1 + packedWorkspace.threads : 1)
        guard !tOverflow else { throw ExecError.overBudget(what: "the plan's transposed outputs", bytes: nil, budget: budget.bytes) }
        let (shifted, sOverflow) = maxShiftedRows.multipliedReportingOverflow(by: imageWorkspacesUsed ? 1 + packedWorkspace.threads : 1)
        guard !sOverflow else { throw ExecError.overBudget(what: "the plan's input planes", bytes: nil, budget: budget.bytes) }
        var total = 0
        let int8Elements = (maxInt8ScratchBytes + planeBufferBytes + MemoryLayout<T>.size - 1) / MemoryLayout<T>.size
        for n in buffers + [maxColumns, gemmPanel, transposed, shifted, int8Elements] {
            let (t, overflow) = total.addingReportingOverflow(n)
            guard !overflow else { throw ExecError.overBudget(what: "the plan's buffers", bytes: nil, budget: budget.bytes) }
            total = t
        }
        try budget.check(elements: total, elementSize: MemoryLayout<T>.size, what: "the plan's buffers (\(buffers.count) tensors, im2col, GEMM panels, transposed outputs, input planes)")
        plannedBytes = total * MemoryLayout<T>.size
        packedWorkspace.reserveTransposed(floats: maxTransposed)
        packedWorkspace.reserveShiftedRows(floats: maxShiftedRows)
        if imageWorkspacesUsed { for w in imageWorkspaces { w.reserveTransposed(floats: maxTransposed); w.reserveShiftedRows(floats: maxShiftedRows) } }
    }

    /// Assigns storage roots to buffers: a root's buffer is free again after its last use.
    func allocate(inputName: String, inputShape: [Int], inputTensor: Int, outputs: [(String, PlanValue)]) throws -> ExecutionPlanOf<T> {
        var rootSize: [Int: Int] = [:]
        var rootDefined: [Int: Int] = [:]
        for id in sizes.indices {
            rootSize[root[id], default: 0] = max(rootSize[root[id], default: 0], sizes[id])
            rootDefined[root[id]] = min(rootDefined[root[id]] ?? Int.max, definedAt[id])
        }
        // Capacities are decided first and checked against the budget; buffers are allocated after.
        var buffers: [Int] = []
        var free: [Int] = []
        var assigned: [Int: Int] = [:]
        let roots = rootSize.keys.sorted { (rootDefined[$0] ?? 0, $0) < (rootDefined[$1] ?? 0, $1) }
        var releases: [Int: [Int]] = [:]  // step -> roots whose buffer frees after it
        for r in roots { releases[lastUse[r] ?? (rootDefined[r] ?? 0), default: []].append(r) }
        var step = -1
        for r in roots {
            let defined = rootDefined[r] ?? 0
            while step < defined - 1 {
                step += 1
                for done in releases[step] ?? [] { if let b = assigned[done] { free.append(b) } }
            }
            let need = rootSize[r] ?? 1
            if let k = free.indices.filter({ buffers[free[$0]] >= need }).min(by: { buffers[free[$0]] < buffers[free[$1]] }) {
                assigned[r] = free.remove(at: k)
            } else {
                buffers.append(need)
                assigned[r] = buffers.count - 1
            }
        }
        try checkBudget(buffers: buffers)
        let storage = sizes.indices.map { assigned[root[$0]] ?? 0 }
        let plan = ExecutionPlanOf<T>(steps: steps, buffers: buffers.map { Buffer<T>(capacity: $0) }, storage: storage, workspace: GemmWorkspace(maxN: maxGemmN),
                                 columns: Buffer<T>(capacity: maxColumns), simd: simd, inputName: inputName, inputShape: inputShape,
                                 inputTensor: inputTensor, outputs: outputs, producedBy: producedBy, channelsLast: channelsLastTensors)
        plan.byteImageReads = byteImageReads
        plan.floatless = floatless
        (plan.tensorTable, plan.stepWrites) = plannedTensors(storage: storage, inputTensor: inputTensor)
        plan.kernelSet = kernels
        plan.threads = packedWorkspace.threads
        plan.plannedBytes = plannedBytes
        // Constants some kernels need as tensors: written once; their roots are never freed.
        for (id, values) in constantsToCopy {
            let dst = plan.pointer(id)
            for (i, v) in values.enumerated() { dst[i] = T(v) }
        }
        return plan
    }
}
