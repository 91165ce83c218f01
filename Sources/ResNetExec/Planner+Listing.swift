/// The plan's tensors and steps as data (PlanListing.swift), from the planner's own records: the
/// shapes it resolved, the step defining each tensor (Planner.emit) and the buffer it assigned.
extension Planner {
    /// Each tensor with its buffer (`storage`: tensor -> buffer index), and per step the tensors it
    /// writes: those defined at its index that are storage of their own (an alias views another's;
    /// the input is loaded, constants written when the plan is made) and whose values it writes (not
    /// a floatless tensor: its producer writes only the byte image). Known only now, with every step
    /// planned (a byte image is dated to its producer when a later reader asks for it), so kept
    /// apart from Step, which holds its reads.
    func plannedTensors(storage: [Int], inputTensor: Int) -> (tensors: [PlannedTensor], writes: [[Int]]) {
        var names: [Int: String] = [:]
        let valueNames = graph.inputs.map(\.name) + graph.nodes.flatMap(\.outputs) + qdqReplacement.sorted { $0.key < $1.key }.flatMap(\.value.outputs)
        for name in valueNames where !name.isEmpty {
            if case let .tensor(id, _)? = values[name], names[id] == nil { names[id] = name }
        }
        var bytesOf: [Int: (source: Int, offset: Int)] = [:]
        for (tensor, (image, _)) in byteImageOffers { if let b = image.tensor { bytesOf[b] = (tensor, image.offset) } }
        var copyOf: [Int: Int] = [:]
        for (source, copy) in channelsLastCopy { copyOf[copy] = source }
        for (source, copy) in channelsFirstCopy { copyOf[copy] = source }
        var writes = [[Int]](repeating: [], count: steps.count)
        let tensors = sizes.indices.map { id -> PlannedTensor in
            let kind: PlannedTensor.Storage
            if id == inputTensor { kind = .input }
            else if definedAt[id] < 0 { kind = .constant }
            else if bytesOf[id] != nil { kind = .bytes }
            else if channelsLastTensors.contains(id) { kind = .channelsLast }
            else { kind = .values }
            // A producer that writes only the byte image leaves the values unwritten (Planner+ByteImages.swift).
            let written = floatless[id] == nil
            if root[id] == id, written, kind != .input, kind != .constant, steps.indices.contains(definedAt[id]) { writes[definedAt[id]].append(id) }
            let source = bytesOf[id]?.source ?? copyOf[id]
            return PlannedTensor(id: id, name: names[id], shape: source.map { shapes[$0] } ?? shapes[id], storage: kind, source: source,
                                 byteOffset: bytesOf[id]?.offset, root: root[id], buffer: storage[id], bytes: sizes[id] * MemoryLayout<T>.size)
        }
        return (tensors, writes)
    }
}

extension ExecutionPlanOf {
    /// The plan as data: its steps, tensors and buffers (PlanListing); where the batch runs image by
    /// image, the plan for one image, with the batch and the plans' count.
    public var listing: PlanListing {
        let plan = single ?? self
        return PlanListing(
            inputName: plan.inputName, inputShape: plan.inputShape, images: single == nil ? nil : inputShape[0],
            imagePlans: single == nil ? nil : imagePlans.count, kernels: plan.kernelSet, threads: plan.threads,
            steps: plan.steps.indices.map { i in
                let s = plan.steps[i]
                return PlannedStep(index: i, node: s.node, op: s.op, work: s.work.name, kernel: s.kernel, macs: s.macs, integer: s.integer,
                                   reads: s.reads, writes: plan.stepWrites[i])
            },
            tensors: plan.tensorTable, buffers: plan.buffers.map { $0.capacity * MemoryLayout<T>.size },
            outputs: plan.outputs.map { name, value in
                if case let .tensor(id, _) = value { return PlannedOutput(name: name, tensor: id) }
                return PlannedOutput(name: name, tensor: nil)
            },
            plannedBytes: plan.plannedBytes)
    }
}
