import ResNetIR
import ResNetKernels
import ResNetKernelsReference

/// Channels-last activations between the convs that run transposed or channels-last Winograd (issue 11).
///
/// A transposed conv (GatherConv: output positions as the tile's rows, output channels as
/// its columns) produces channels last, [H, W, C] per image, in its registers. Written to a
/// channels-first tensor, its product went through a transposed buffer and a second pass;
/// read from one, a 1x1 conv packs its rows first (read in place they lie a plane apart).
/// Between two such convs the activation now stays channels last: a ResNet's late stages
/// (resnet50's layer3 and layer4: 14x14 and 7x7, every conv transposed) write and read it
/// once; a global pool reads it as it stands, and a max pool too (the stem's, feedsChannelsLastPool),
/// which writes channels last where every reader of its result reads that as it stands
/// (`channelsLastPools`), else channels first. Every other consumer sees the graph's layout: `tensor()` hands
/// it a channels-first copy, made once, and a stepwise run (Stepper) transposes what it hands out.
extension Planner {
    /// A 4-D value's shape from the shape library, nil unless every dim is known.
    func resolvedShape(_ name: String) -> [Int]? {
        guard let s = facts[name]?.shape else { return nil }
        let dims = s.compactMap { $0.value.flatMap { Int(exactly: $0) } }
        return dims.count == s.count ? dims : nil
    }

    /// Whether Conv `node` reads and writes either layout on the SIMD kernels: 2-D, one group, and
    /// Winograd on at most 256 output positions, or 12,544 with channels in whole lane groups (the
    /// tile-lane transforms gather and scatter a channels-last image a float at a time: on
    /// resnet's 14x14 that cost less than the copies it saved around it, on 28x28 more, resnet18's
    /// layer2.1.conv2 0.78 -> 1.03 ms; the channel-lane ones load whole vectors), or, with a full
    /// tile of output channels, at most 1024 output positions or positions that would leave its
    /// last column panel mostly padding (runsTransposed), as `conv` decides. The 28x28 stage
    /// channels last (its 3x3s channel-lane Winograd, its 1x1s transposed), resnet50 in one process
    /// against the 14x14 bound (ab-inproc --plans, 20 rounds, Zen 4): layer2's 3x3s 1.82-1.91 ->
    /// 1.13-1.26 ms, its 1x1s up to 5% and its downsample 11% slower, layer2 20.4 -> 19.0 ms on 1
    /// thread, 11.1 -> 9.9 on 2; resnet18 on 2 threads, layer2 3.97 -> 2.85; the AVX2 set even
    /// (layer2 23.5 -> 23.3 ms).
    func runsChannelsLast(_ node: Node) -> Bool {
        guard let (g, xs, ws) = channelsLastGeometry(node) else { return false }
        let plane = g.outH * g.outW
        let channelLanes = channelLaneWinograd(g, m: ws[0])
        if winogradChoice(g, xs: xs, channelLanes: channelLanes) != nil {
            // Above 256 positions only with whole lane groups of channels (the channel-lane transforms,
            // convWinogradChannelsLast) and a full tile of them, as the transposed convs around such a
            // conv need at 28x28 (a narrower one's neighbours stay channels first: resnet's 28x28 stage
            // has 128); above 1024 (runsWideWinograd), between copies. Up to 112x112: the deep stems of
            // timm's resnet-d/-t models (3x3s of 32 -> 32 and 32 -> 64 channels there) ran tile-lane F(3x3)
            // no faster than direct; with channel lanes (timm resnet50d, 1 thread, two binaries alternated)
            // 5.65 -> 3.36 and 2.93 -> 1.87 ms, plus one 0.13 ms copy; p50 87.5 -> 83.5 ms, 2 threads 54.7 -> 52.0.
            // Larger planes are unmeasured and keep the tile-lane transforms.
            return plane <= 256 || (plane <= 12544 && channelLanes)
        }
        guard ws[0] >= kernels.tileColumns else { return false }
        // Up to 1024 positions (resnet's 28x28 stage) every conv, so the Winograd 3x3s between them
        // read and write channels last.
        if plane <= 1024 { return true }
        guard let columns = g.kernelH * g.kernelW > 1 ? ShiftedRowsConv(g)?.columns : plane else { return false }
        return runsTransposed(real: plane, columns: columns)
    }

    /// Conv `node`'s geometry when it could run either layout: 2-D, one group, shapes known, and a
    /// geometry the direct transposed path takes (Winograd may still decline it).
    func channelsLastGeometry(_ node: Node) -> (ConvGeometry, xs: [Int], ws: [Int])? {
        guard simd, node.opType == "Conv", node.inputs.count >= 2, (node.attribute("group")?.int ?? 1) == 1,
              let xs = resolvedShape(node.inputs[0]), let ws = resolvedShape(node.inputs[1]),
              xs.count == 4, ws.count == 4, ws[1] == xs[1],
              let g = try? convGeometry(node, input: xs, kernel: [ws[2], ws[3]], channels: xs[1]),
              GatherConv(g, input: .channelsLast) != nil else { return nil }
        return (g, xs, ws)
    }

    /// Whether Conv `node` (one runsChannelsLast took) runs the channel-lane Winograd above 1024 output
    /// positions, between a channels-last copy of its input and a channels-last output (findChannelsLastConvs).
    func runsWideWinograd(_ node: Node) -> Bool {
        guard let (g, xs, ws) = channelsLastGeometry(node), g.outH * g.outW > 1024, channelLaneWinograd(g, m: ws[0]) else { return false }
        return winogradChoice(g, xs: xs, channelLanes: true) != nil
    }

    /// Marks the convs that run channels last, then, from the last back, those whose output
    /// stays channels last: some consumer of their (fused) output is such a conv reading it as
    /// its input, or one adding it as the shortcut of a residual fused into a conv that itself
    /// writes channels last (the tile adds the shortcut in its own layout), or a global pool
    /// (a classifier's head, which pools channels last as they stand) or a max pool (2-D, no
    /// indices: maxPoolReadsChannelsLast). Any other consumer
    /// gets a channels-first copy (`tensor()`): one pass, as the transposed product's own
    /// write-back would have been. Graph outputs stay channels first. Last, the max pools that
    /// read a channels-last input and write channels last (`channelsLastPools`).
    func findChannelsLastConvs() {
        guard simd else { return }
        for (i, n) in graph.nodes.enumerated() where !absorbed.contains(i) && qdqReplacement[i] == nil && (runsChannelsLast(n) || feedsChannelsLastPool(i)) {
            channelsLastConvs.insert(i)
        }
        // Above 1024 positions (resnet's 56x56 stage) only the channel-lane Winograd convs run channels
        // last (runsChannelsLast); they read a channels-last copy of their input (channelsLastTensor) and
        // write channels last, and their readers that do not run channels last copy it back (`tensor()`).
        // The 1x1s beside them stay channels first: transposed there, resnet50's 64 -> 256 1x1s (conv3,
        // downsample) ran 1.10 -> 1.30-1.44 ms, and a 256 -> 64 reading channels first and writing
        // channels last 1.17 -> 1.70; the two copies (64 x 3136 floats, LayoutTransposeSIMD) take
        // 0.05-0.09 ms each. resnet50 on one Zen 4 core (ab-inproc --plans, 15 rounds): layer1
        // 15.3 -> 13.5 ms, its 3x3s 2.35-2.45 -> 1.55-1.65 ms each.
        // One whose result is a graph output (channels first) or unread runs channels first instead.
        let consumers = index.consumers
        let outputs = Set(graph.outputs.map(\.name))
        let wide = channelsLastConvs.filter { runsWideWinograd(graph.nodes[$0]) }
        wideWinogradConvs = wide.filter { i in
            guard let out = fusedOutput(i), !outputs.contains(out) else { return false }
            return consumers[out].map { !$0.isEmpty } == true
        }
        channelsLastConvs.subtract(wide.subtracting(wideWinogradConvs))
        var residualConv: [Int: Int] = [:]  // fused Add -> its conv
        for (conv, f) in fusedResidual { residualConv[f.add] = conv }
        // Whether node j reads value `out` channels last as it stands.
        func readsChannelsLast(_ j: Int, _ out: String) -> Bool {
            let user = graph.nodes[j]
            if channelsLastConvs.contains(j) { return user.inputs.first == out && !user.inputs.dropFirst().contains(out) }
            // A global pool reads either layout (Planner.globalPool), a max pool channels last (maxPoolChannelsLast).
            if ["GlobalAveragePool", "GlobalMaxPool"].contains(user.opType), user.inputs.first == out { return true }
            if maxPoolReadsChannelsLast(user), user.inputs.first == out { return true }
            if let conv = residualConv[j], let f = fusedResidual[conv], channelsLastOutputs.contains(conv) {
                return user.inputs[f.shortcut] == out && user.inputs[1 - f.shortcut] != out
            }
            return false
        }
        for i in channelsLastConvs.sorted(by: >) {
            guard let out = fusedOutput(i), !outputs.contains(out), let users = consumers[out], !users.isEmpty else { continue }
            if wideWinogradConvs.contains(i) { channelsLastOutputs.insert(i); continue }
            if users.contains(where: { readsChannelsLast($0, out) }) { channelsLastOutputs.insert(i) }
        }
        // A max pool of a channels-last input (a conv's above, or an earlier such pool's) writes channels
        // last too where every reader of its result reads that as it stands (resnet18's stem pool: layer1.0's
        // Winograd conv1 and its residual, which had copied its channels-first result into channels last,
        // 0.04-0.10 ms on one Zen 4 core); one reader that would need a copy keeps it channels first
        // (resnet50's: the 1x1s conv1 and downsample). Nodes run in graph order, which ONNX makes topological.
        var channelsLastValues = Set(channelsLastOutputs.compactMap { fusedOutput($0) })
        for (i, node) in graph.nodes.enumerated() where maxPoolReadsChannelsLast(node) && !absorbed.contains(i) {
            guard let input = node.inputs.first, channelsLastValues.contains(input), let out = node.outputs.first, !out.isEmpty,
                  !outputs.contains(out), let users = consumers[out], !users.isEmpty else { continue }
            if users.allSatisfy({ readsChannelsLast($0, out) }) {
                channelsLastPools.insert(i)
                channelsLastValues.insert(out)
            }
        }
    }

    /// Whether conv i, which runsChannelsLast declines (above 1024 positions, no Winograd), runs
    /// transposed anyway because max pools reading channels last are all that read its result: a
    /// ResNet's stem (7x7 s2, 3 -> 64, 112x112 out), whose tile then writes channels last and its
    /// pool reads that as it stands (Pooling.maxPoolChannelsLast). ab-inproc --plans, 20 rounds, Zen 4
    /// (medians): resnet50 1 thread, conv 2.54 -> 2.23 ms and pool 0.17 -> 0.23, together 2.71 -> 2.46;
    /// 2 threads 1.45 -> 1.29; resnet18 2 threads 1.49 -> 1.28; the AVX2 set (1 thread) 2.77 -> 2.72.
    func feedsChannelsLastPool(_ i: Int) -> Bool {
        // Winograd asked as if channels last in and out (channel lanes where the channels allow): where
        // it would run either way the conv is left to it (declining, say, a 112x112 3x3 that runs direct).
        guard let (g, xs, ws) = channelsLastGeometry(graph.nodes[i]), ws[0] >= kernels.tileColumns,
              winogradChoice(g, xs: xs, channelLanes: channelLaneWinograd(g, m: ws[0])) == nil,
              let out = fusedOutput(i), !graph.outputs.contains(where: { $0.name == out }),
              let users = index.consumers[out], !users.isEmpty else { return false }
        return users.allSatisfy { j in maxPoolReadsChannelsLast(graph.nodes[j]) && graph.nodes[j].inputs.first == out }
    }

    /// Whether MaxPool `node` would read a channels-last input as it stands: a SIMD plan's pool of a
    /// 4-D input that `pool` runs on its 2-D kernel (no indices output: poolNeedsGeneric).
    func maxPoolReadsChannelsLast(_ node: Node) -> Bool {
        guard simd, node.opType == "MaxPool", node.attribute("kernel_shape")?.ints?.count == 2,
              let input = node.inputs.first, let xs = resolvedShape(input) else { return false }
        return !poolNeedsGeneric(node, rank: xs.count)
    }

    /// MaxPool `node` of channels-last x [N, C, H, W] (logical) into y, channels last where
    /// `channelsLastOutput`, else channels first: threads split each image's output rows, each with
    /// its own row buffers (a plan tensor, charged like the Winograd convs' scratch).
    func maxPoolChannelsLast(_ node: Node, x: Int, xs: [Int], g: ConvGeometry, y: Int, channelsLastOutput: Bool) throws {
        let threads = min(packedWorkspace.threads, max(g.outH, 1))
        guard let perThread = Pooling.channelsLastScratchFloats(g), case let (total, false) = perThread.multipliedReportingOverflow(by: threads) else {
            throw ExecError.overBudget(what: "row buffers of '\(node.name)'", bytes: nil, budget: budget.bytes)
        }
        try budget.check(elements: total, what: "row buffers of '\(node.name)' (\(threads) x \(perThread))")
        let scratch = newTensor([max(total, 1)])
        let images = xs[0]
        emit(node, work: .pool(.maxChannelsLast(x: x, y: y, scratch: scratch, images: images, g: g, threads: threads, perThread: perThread,
                                                channelsLastOutput: channelsLastOutput)))
    }

    /// The name later nodes read conv i's result by: its fused ReLU's or residual Add's output, or its own.
    func fusedOutput(_ i: Int) -> String? {
        let last = fusedRelu[i].map { graph.nodes[$0] } ?? fusedResidual[i].map { graph.nodes[$0.add] } ?? graph.nodes[i]
        guard let out = last.outputs.first, !out.isEmpty else { return nil }
        return out
    }

    /// Input i of `node` as it is stored: a channels-last tensor as such, anything else as `tensor()` gives it.
    func activation(_ node: Node, _ i: Int) throws -> (Int, [Int], ActivationLayout) {
        if case let .tensor(id, shape) = try value(node, i), channelsLastTensors.contains(id) {
            use(id)
            return (id, shape, .channelsLast)
        }
        let (id, shape) = try tensor(node, i)
        return (id, shape, .channelsFirst)
    }

    /// Input i of `node` channels last: as stored, or a copy made once (a shortcut whose producer wrote channels first).
    func channelsLastTensor(_ node: Node, _ i: Int) throws -> (Int, [Int]) {
        let (id, shape, layout) = try activation(node, i)
        guard layout == .channelsFirst else { return (id, shape) }
        replacedReads[id, default: 0] += 1  // activation's read: the node reads the copy instead
        if let copy = channelsLastCopy[id] { use(copy); return (copy, shape) }
        let copy = convertLayout(id, shape, toChannelsLast: true, for: node)
        channelsLastCopy[id] = copy
        return (copy, shape)
    }

    /// A channels-first copy of channels-last tensor `id` (logical shape `shape`), made once, for `node`.
    func channelsFirst(_ id: Int, _ shape: [Int], for node: Node) -> Int {
        if let copy = channelsFirstCopy[id] { use(copy); return copy }
        use(id)  // kept alive to the node's step (its planning may emit no other), but not its read
        replacedReads[id, default: 0] += 1
        let copy = convertLayout(id, shape, toChannelsLast: false, for: node)
        channelsFirstCopy[id] = copy
        return copy
    }

    /// Emits the step that writes `id` [N, C, H, W] in the other layout into a new tensor, and returns it.
    /// Channels-last tensors exist only in SIMD (float32) plans, so T is Float here.
    func convertLayout(_ id: Int, _ shape: [Int], toChannelsLast: Bool, for node: Node) -> Int {
        let copy = newTensor(shape)
        if toChannelsLast { channelsLastTensors.insert(copy) }
        use(id)
        let (n, c, positions) = (shape[0], shape[1], shape.dropFirst(2).reduce(1, *))
        let threads = packedWorkspace.threads
        steps.append(Step(node: node.name, op: toChannelsLast ? "ToChannelsLast" : "ToChannelsFirst", macs: 0, integer: false, kernel: nil, reads: [id],
                          work: .layoutCopy(LayoutCopy(x: id, y: copy, images: n, channels: c, positions: positions,
                                                       toChannelsLast: toChannelsLast, threads: threads))))
        settleDefinition(copy, at: steps.count - 1)
        replacedReads[id, default: 0] += 1  // the use above is the copy's read, not the node's
        use(copy)  // by the step that follows: the consumer's
        return copy
    }
}
