import ResNetKernelsReference

/// A plan as data (issue 11, item 4): every step with the kernel it runs, the tensors it reads
/// and writes (shape, layout, buffer), and the buffers, so a plan can be listed
/// (`resnet-check plan`) and checked without running it. Each step runs a prepared kernel, a
/// value (StepWork: the packed weights, resolved shapes and tensor ids the planner made); this
/// is their description, taken from the same planner state the buffers were assigned from, and
/// `check()` verifies that assignment from the steps' reads and writes alone.
public struct PlanListing: Codable, Sendable, Equatable {
    public let inputName: String
    /// The shape the listed plan runs: one image's where the batch runs image by image.
    public let inputShape: [Int]
    /// The batch the plan serves: `images` run image by image on `imagePlans` copies of the listed
    /// plan (one per thread), or nil where the listed plan runs the whole batch.
    public let images: Int?
    public let imagePlans: Int?
    public let kernels: KernelSet
    public let threads: Int
    public let steps: [PlannedStep]
    public let tensors: [PlannedTensor]
    /// Bytes of each buffer, by index; a tensor names the buffer it lives in.
    public let buffers: [Int]
    /// The graph's outputs: value name and the tensor holding it (nil: a constant of the graph).
    public let outputs: [PlannedOutput]
    /// Everything the plan allocated: buffers, im2col columns, packed panels, integer scratch.
    public let plannedBytes: Int

    enum CodingKeys: String, CodingKey {
        case inputName = "input_name", inputShape = "input_shape", images, imagePlans = "image_plans", kernels, threads
        case steps, tensors, buffers, outputs, plannedBytes = "planned_bytes"
    }
}

public struct PlannedStep: Codable, Sendable, Equatable {
    public let index: Int
    public let node: String
    public let op: String
    /// The prepared kernel the step runs (StepWork's case: "conv", "winograd", "qlinear_conv", "pool.window").
    public let work: String
    /// The kernel and algorithm chosen, where the planner chose among several (convs, int8 products).
    public let kernel: String?
    public let macs: Int
    public let integer: Bool
    /// Tensor ids (PlanListing.tensors' indices).
    public let reads: [Int]
    public let writes: [Int]
}

public struct PlannedOutput: Codable, Sendable, Equatable {
    public let name: String
    public let tensor: Int?
}

public struct PlannedTensor: Codable, Sendable, Equatable {
    /// How the tensor's values are stored.
    public enum Storage: String, Codable, Sendable {
        /// The graph input, loaded before step 0.
        case input
        /// Written once when the plan is made (a constant a kernel takes as a tensor); never freed.
        case constant
        /// The values in the graph's layout, one element each.
        case values
        /// [N, C, H, W] stored as [N, H, W, C].
        case channelsLast = "channels_last"
        /// A quantized tensor's values as bytes (value + byteOffset), for an int8 reader.
        case bytes
    }
    public let id: Int
    /// The graph value it holds (nil: a copy, a byte image, or a step's scratch).
    public let name: String?
    /// Logical shape (a byte image: its source's; its elements are bytes).
    public let shape: [Int]
    public let storage: Storage
    /// The tensor whose values this is another form of: a layout copy's or a byte image's source.
    public let source: Int?
    public let byteOffset: Int?
    /// The tensor whose storage it is (itself, or what an alias, such as a Reshape, views).
    public let root: Int
    public let buffer: Int
    /// Bytes it occupies from its buffer's start.
    public let bytes: Int

    enum CodingKeys: String, CodingKey {
        case id, name, shape, storage, source, byteOffset = "byte_offset", root, buffer, bytes
    }
}

/// A way a plan's buffers or steps contradict each other.
public enum PlanViolation: Equatable, Sendable, CustomStringConvertible {
    /// A step names a tensor the plan does not have.
    case unknownTensor(step: Int, tensor: Int)
    /// A step reads a tensor whose storage no step up to it wrote (nor the input's load, nor the plan).
    case readBeforeWrite(step: Int, tensor: Int)
    /// Two tensors share a buffer while both are live (first write ... last read, overlapping).
    case sharedWhileLive(buffer: Int, first: Int, second: Int, steps: ClosedRange<Int>)
    /// A tensor needs more bytes than its buffer holds.
    case overCapacity(tensor: Int, bytes: Int, buffer: Int, capacity: Int)
    /// A tensor names a buffer the plan does not have.
    case unknownBuffer(tensor: Int, buffer: Int)
    /// The tensor at this index has another id, or a root the plan does not have.
    case malformedTensor(index: Int)
    /// A graph output's tensor is written by no step (nor loaded, nor a constant).
    case outputUnwritten(name: String, tensor: Int)

    public var description: String {
        switch self {
        case let .unknownTensor(step, tensor): return "step \(step) names tensor t\(tensor), which the plan does not have"
        case let .readBeforeWrite(step, tensor): return "step \(step) reads t\(tensor) before any step writes it"
        case let .sharedWhileLive(buffer, first, second, steps):
            return "t\(first) and t\(second) share buffer b\(buffer) while both are live (steps \(steps.lowerBound)-\(steps.upperBound))"
        case let .overCapacity(tensor, bytes, buffer, capacity): return "t\(tensor) needs \(bytes) bytes; its buffer b\(buffer) holds \(capacity)"
        case let .unknownBuffer(tensor, buffer): return "t\(tensor) names buffer b\(buffer), which the plan does not have"
        case let .malformedTensor(index): return "the tensor listed at \(index) has another id or names a root the plan does not have"
        case let .outputUnwritten(name, tensor): return "output '\(name)' (t\(tensor)) is written by no step"
        }
    }
}

extension PlanListing {
    /// Checks the buffer assignment against the steps' reads and writes: every read follows a write
    /// of the tensor's storage at an earlier step (or the input's load, or a constant's), every
    /// output is written, no two storages share a buffer while both are live (from the first step
    /// writing either to the last reading it; the graph's outputs and the constants live to the end),
    /// and every tensor fits its buffer. Empty: the plan is consistent. (It checks the reads and
    /// writes the planner declared for each step, not what the step's kernel touches.)
    public func check() -> [PlanViolation] {
        var found: [PlanViolation] = []
        let malformed = tensors.indices.filter { tensors[$0].id != $0 || !tensors.indices.contains(tensors[$0].root) }
        guard malformed.isEmpty else { return malformed.map { .malformedTensor(index: $0) } }
        for t in tensors {
            if t.buffer < 0 || t.buffer >= buffers.count { found.append(.unknownBuffer(tensor: t.id, buffer: t.buffer)); continue }
            if t.bytes > buffers[t.buffer] { found.append(.overCapacity(tensor: t.id, bytes: t.bytes, buffer: t.buffer, capacity: buffers[t.buffer])) }
        }
        for s in steps { for id in s.reads + s.writes where !tensors.indices.contains(id) { found.append(.unknownTensor(step: s.index, tensor: id)) } }
        let (start, last) = liveness()
        for s in steps {
            // Written by an earlier step: a step reads no result of its own (its scratch it only writes).
            for id in s.reads where tensors.indices.contains(id) && (start[tensors[id].root] ?? Int.max) >= s.index {
                found.append(.readBeforeWrite(step: s.index, tensor: id))
            }
        }
        for o in outputs {
            guard let id = o.tensor else { continue }
            if !tensors.indices.contains(id) || start[tensors[id].root] == nil { found.append(.outputUnwritten(name: o.name, tensor: id)) }
        }
        // Per buffer, the live ranges of the storages in it, in order of their start: each must end before the next starts.
        var byBuffer: [Int: [(range: ClosedRange<Int>, root: Int)]] = [:]
        for t in tensors where t.id == t.root && buffers.indices.contains(t.buffer) {
            guard let s = start[t.root] else { continue }  // never written nor read: holds nothing
            byBuffer[t.buffer, default: []].append((s...max(s, last[t.root] ?? s), t.root))
        }
        for (buffer, ranges) in byBuffer.sorted(by: { $0.key < $1.key }) {
            let sorted = ranges.sorted { ($0.range.lowerBound, $0.root) < ($1.range.lowerBound, $1.root) }
            var open = sorted.first
            for next in sorted.dropFirst() {
                guard let current = open else { break }
                if next.range.lowerBound <= current.range.upperBound {
                    found.append(.sharedWhileLive(buffer: buffer, first: current.root, second: next.root,
                                                  steps: next.range.lowerBound...min(current.range.upperBound, next.range.upperBound)))
                }
                if next.range.upperBound > current.range.upperBound { open = next }
            }
        }
        return found
    }

    /// Per storage root (a tensor id), the steps it is live over, as the listing declares them: from
    /// the first step writing it (-1: the input's load, a constant's) to the last reading it (the
    /// steps' count: an output, a constant). A root neither written nor loaded has no start; ids the
    /// plan lacks are passed over (check() reports them). The one rule behind check() and the
    /// poisoned run (PlanLiveness.swift).
    public func liveness() -> (start: [Int: Int], last: [Int: Int]) {
        let end = steps.count
        var start: [Int: Int] = [:], last: [Int: Int] = [:]
        func root(_ id: Int) -> Int? { tensors.indices.contains(id) && tensors.indices.contains(tensors[id].root) ? tensors[id].root : nil }
        for t in tensors {
            switch t.storage {
            case .input: start[t.root] = -1
            case .constant: start[t.root] = -1; last[t.root] = end
            default: break
            }
        }
        for s in steps {
            for id in s.writes { if let r = root(id) { start[r] = min(start[r] ?? Int.max, s.index) } }
            for id in s.reads { if let r = root(id) { last[r] = max(last[r] ?? -1, s.index) } }
        }
        for o in outputs { if let id = o.tensor, let r = root(id) { last[r] = end } }
        return (start, last)
    }
}
