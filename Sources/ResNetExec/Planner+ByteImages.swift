import ResNetKernelsReference
import ResNetKernelsInt8
import ResNetIR

/// Byte images of float-coded quantized tensors (issue 11, int8).
///
/// The executor keeps quantized activations float-coded (each 8-bit value in a Float), and an
/// int8 conv turns its input into bytes before interleaving them for the tile. For the convs
/// that read resnet's 256-channel joins that conversion was half their time: resnet50-qop's
/// layer1.1.conv1 (256>64 at 56x56) ran 0.68 ms on 1 thread with it and 0.35 without, as it
/// reads 3.2 MB of floats to make 0.8 MB of bytes; the chunked pointwise convs' conversions
/// summed to 1.9 of 34.8 ms. So a producer that can (QLinearAdd's AVX2 kernel, and a conv
/// whose SIMD tile requantizes) also writes its results as bytes, in the offset its reader asks
/// for, into a tensor of their own that lives from the producer's step to the reader's, and the
/// reader (a chunked 1x1, a conv whose operand is tap-major: the 3x3s and the strided 1x1s, or
/// a QLinearAdd where the bytes hold the values exactly) builds its operand from those bytes instead.
/// The bytes are exactly what the reader's conversion made. The float-coded tensor is still
/// written, except by a producer that may skip it (QLinearAdd's AVX2 kernel and the tiles'
/// requantization: `floatsOptional`) where every read planned of it took the byte image instead
/// (Planner.floatReads) and the bytes hold its values exactly: resnet's convs and joins, read only
/// by the next conv and the next join. A graph output is always written; a stepwise run (Stepper)
/// hands out the bytes of those not written as floats. (Their float buffers are still allocated:
/// the point is the memory traffic, not the footprint.)

/// The producer's side of one offer: empty until a reader asks, then the byte tensor and its
/// offset. A reference, because the producer's step is emitted (and captures it) before any
/// reader is planned; the plan is complete, and this no longer changes, before any run.
final class ByteImageOffer {
    var tensor: Int?
    var offset = 0
    /// The producer's values lie in this range (its requantization saturates to it).
    let values: QuantizedRange
    /// Whether the producer can leave the float-coded tensor unwritten.
    let floatsOptional: Bool
    /// Whether it writes the float-coded tensor: settled when the plan is complete (settleByteImageOffers).
    var floatsWritten = true

    init(values: QuantizedRange, floatsOptional: Bool) { self.values = values; self.floatsOptional = floatsOptional }

    /// Whether bytes at `offset` hold every value exactly (an int8 conv's conversion saturates to
    /// [0, 255] instead, which is its own arithmetic; QLinearAdd's reads the values as they are).
    func holdsExactly(offset: Int) -> Bool { values.lo + Float(offset) >= 0 && values.hi + Float(offset) <= 255 }
}

extension Planner {
    /// Offers a byte image of `tensor` (written by the step about to be emitted) to later readers;
    /// the step writes one where the returned offer's `tensor` is set by then.
    /// `values`: the range the step's results lie in. `floatsOptional`: the step writes the
    /// float-coded values only where `floatsWritten` says.
    func offerByteImage(of tensor: Int, values: QuantizedRange, floatsOptional: Bool = false) -> ByteImageOffer {
        let image = ByteImageOffer(values: values, floatsOptional: floatsOptional)
        byteImageOffers[tensor] = (image, steps.count)
        return image
    }

    /// A byte image of `tensor` with `offset` for the step about to be emitted to read (as `use`
    /// marks it), or nil: where the step that wrote `tensor` made no offer (only the exact tensor
    /// it wrote, not an alias), or another reader took the image with another offset.
    /// The caller read `tensor` through `tensor()` once for this input and, given an image, never
    /// reads its float-coded values: that read no longer counts as one of them (floatReads).
    /// `exact`: only an image that holds every value exactly at `offset` (ByteImageOffer.holdsExactly).
    func byteImage(of tensor: Int, offset: Int, exact: Bool = false) -> Int? {
        guard let (image, step) = byteImageOffers[tensor], !exact || image.holdsExactly(offset: offset) else { return nil }
        if let id = image.tensor {
            guard image.offset == offset else { return nil }
            use(id)
            byteImageReads += 1
            floatReads[root[tensor], default: 0] -= 1
            replacedReads[tensor, default: 0] += 1
            return id
        }
        // Bytes in a buffer of T elements; live from the producer's step to this reader's (or a later one's).
        let id = newTensor([(sizes[tensor] + MemoryLayout<T>.size - 1) / MemoryLayout<T>.size])
        settleDefinition(id, at: step)
        image.tensor = id
        image.offset = offset
        use(id)
        byteImageReads += 1
        floatReads[root[tensor], default: 0] -= 1
        replacedReads[tensor, default: 0] += 1
        return id
    }

    /// With every step planned: which producers that may skip their float-coded values do (no read
    /// of them left, not a graph output, no other tensor in their storage: an alias read later is
    /// read as floats), and, for a stepwise run, where the skipped values' bytes are.
    func settleByteImageOffers(outputs: [Int]) {
        let outputRoots = Set(outputs.map { root[$0] })
        var storageCount: [Int: Int] = [:]
        for id in root.indices { storageCount[root[id], default: 0] += 1 }
        for (tensor, (image, _)) in byteImageOffers where image.floatsOptional {
            guard let bytes = image.tensor else { continue }
            let r = root[tensor]
            // Exactly: a conv reading at another offset saturates its bytes (its own arithmetic), and a
            // stepwise run must hand out the values themselves.
            let unread = (floatReads[r] ?? 0) <= 0 && !outputRoots.contains(r) && storageCount[r] == 1 && image.holdsExactly(offset: image.offset)
            image.floatsWritten = !unread
            if unread { floatless[tensor] = (bytes, image.offset) }
        }
    }
}

extension Planner {
    /// MaxPool `node` on byte images (Int8Pooling), where its input's producer offers one that holds
    /// every value exactly (at offset 0 or 128) and the pool is one the byte kernel takes: reads the
    /// input's bytes, writes y's at the same offset (a reader asking another offset reads floats), and
    /// y's floats only where some step still reads them. Returns false, having planned nothing, otherwise.
    /// Why: resnet50-qop's stem conv wrote 802,816 values as 3.2 MB of floats for the pool alone, which
    /// wrote floats that layer1's convs converted back to bytes.
    func maxPoolOnBytes(_ node: Node, x: Int, y: Int, g: ConvGeometry, planes: Int) -> Bool {
        guard simd, T.self == Float.self, Int8Pooling.takesBytes(g), let (offer, _) = byteImageOffers[x],
              let offset = [0, 128].first(where: { offer.holdsExactly(offset: $0) }),
              let xBytes = byteImage(of: x, offset: offset, exact: true) else { return false }
        let image = offerByteImage(of: y, values: offer.values, floatsOptional: true)
        let yBytes = newTensor([(sizes[y] + MemoryLayout<T>.size - 1) / MemoryLayout<T>.size])
        image.tensor = yBytes
        image.offset = offset
        let threads = min(packedWorkspace.threads, max(planes, 1))
        emit(node, work: .pool(.maxOnBytes(xBytes: xBytes, yBytes: yBytes, y: y, image: image, g: g, planes: planes, threads: threads)))
        return true
    }
}
