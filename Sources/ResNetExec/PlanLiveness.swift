/// The listing's liveness against what the kernels really read (PlanListing is what the planner
/// declared; this runs it). The plan runs step by step, and before each step every byte of every
/// buffer that holds no tensor live at that step by the listing (written by an earlier step and
/// read by this one or a later one, an output, the input, a constant) is overwritten with 0xFF: a
/// NaN as a float, 255 as a byte. A kernel reading anything the listing does not keep alive (an
/// undeclared read, a value left by an earlier run or by allocation) reads the poison, and the
/// outputs differ from a plain run's. Slow (every buffer written before every step): for tests
/// and sweeps, not for runs.
extension ExecutionPlanOf {
    /// Whether poisoned runs of `input` (one run's worth: one image's where the batch runs image
    /// by image) give the plain run's outputs bit for bit: once with every dead byte 0xFF (a NaN,
    /// which max, min and ReLU can hide), once with 0x7F (3.4e38 as a float, 127 as a byte).
    /// Afterwards the dead regions and the input's buffer hold poison: the next run loads its input.
    public func poisonedRunMatches(_ input: [Float]) throws -> Bool {
        try poisonedRunMatches(input, pattern: 0xFF) && poisonedRunMatches(input, pattern: 0x7F)
    }

    func poisonedRunMatches(_ input: [Float], pattern: UInt8) throws -> Bool {
        let plan = single ?? self
        guard input.count == plan.inputShape.reduce(1, *) else {
            throw ExecError.inputShape(name: plan.inputName, expected: "\(plan.inputShape)", actual: [input.count])
        }
        let expected = try plan.runExact(input).map(\.values)
        let listing = plan.listing
        let (start, last) = listing.liveness()
        var extent: [Int: Int] = [:]  // per root, the most bytes any view of it takes
        for t in listing.tensors { extent[t.root] = max(extent[t.root] ?? 0, t.bytes) }
        let roots = listing.tensors.filter { $0.id == $0.root }
        // The poison as an element of T (every byte `pattern`), so the buffers stay bound to T.
        var poison = T.zero
        withUnsafeMutableBytes(of: &poison) { for i in $0.indices { $0[i] = pattern } }
        plan.load(input)
        var keep = [Int](repeating: 0, count: plan.buffers.count)
        for (i, step) in plan.steps.enumerated() {
            // Bytes to keep from each buffer's start: its tensors live before step i.
            for b in keep.indices { keep[b] = 0 }
            for t in roots {
                guard let s = start[t.id], s < i, let l = last[t.id], l >= i else { continue }
                keep[t.buffer] = max(keep[t.buffer], extent[t.id] ?? t.bytes)
            }
            for (b, buffer) in plan.buffers.enumerated() {
                // Tensors take whole elements of T from the buffer's start (Planner: sizes in T).
                let kept = (keep[b] + MemoryLayout<T>.size - 1) / MemoryLayout<T>.size
                guard kept < buffer.capacity else { continue }
                // Sound: the buffer holds `capacity` elements of T; from element `kept` on it holds no live tensor.
                (buffer.pointer + kept).update(repeating: poison, count: buffer.capacity - kept)
            }
            step.work.perform(on: plan)
        }
        for (k, (_, value)) in plan.outputs.enumerated() {
            guard case let .tensor(id, shape) = value else { continue }
            let got = UnsafeBufferPointer(start: plan.pointer(id), count: shape.reduce(1, *))
            // Bit for bit: both runs are the same plan's (NaN != NaN would call equal outputs different).
            for (a, b) in zip(got, expected[k]) where !Self.sameBits(a, b) { return false }
        }
        return true
    }

    @inline(__always) static func sameBits(_ a: T, _ b: T) -> Bool {
        withUnsafeBytes(of: a) { x in withUnsafeBytes(of: b) { y in x.elementsEqual(y) } }
    }
}
