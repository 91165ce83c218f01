/// Byte images of float-coded quantized tensors (issue 11, int8).
///
/// The executor keeps quantized activations float-coded (each 8-bit value in a Float), and an
/// int8 conv turns its input into bytes before interleaving them for the tile. For the convs
/// that read resnet's 256-channel joins that conversion was half their time: resnet50-qop's
/// layer1.1.conv1 (256>64 at 56x56) ran 0.68 ms on 1 thread with it and 0.35 without, as it
/// reads 3.2 MB of floats to make 0.8 MB of bytes; the chunked pointwise convs' conversions
/// summed to 1.9 of 34.8 ms. So a producer that can (QLinearAdd's AVX2 kernel, and a conv
/// whose VNNI tile requantizes) also writes its results as bytes, in the offset its reader asks
/// for, into a tensor of their own that lives from the producer's step to the reader's, and the
/// reader (a chunked 1x1, or a conv whose operand is tap-major: the 3x3s and the strided 1x1s)
/// builds its operand from those bytes instead.
/// The float-coded tensor is still written: other readers, graph outputs and stepwise runs
/// see nothing change, and the bytes are exactly what the reader's conversion made.

/// The producer's side of one offer: empty until a reader asks, then the byte tensor and its
/// offset. A reference, because the producer's step is emitted (and captures it) before any
/// reader is planned; the plan is complete, and this no longer changes, before any run.
final class ByteImageOffer {
    var tensor: Int?
    var offset = 0
}

extension Planner {
    /// Offers a byte image of `tensor` (written by the step about to be emitted) to later readers;
    /// the step writes one where the returned offer's `tensor` is set by then.
    func offerByteImage(of tensor: Int) -> ByteImageOffer {
        let image = ByteImageOffer()
        byteImageOffers[tensor] = (image, steps.count)
        return image
    }

    /// A byte image of `tensor` with `offset` for the step about to be emitted to read (as `use`
    /// marks it), or nil: where the step that wrote `tensor` made no offer (only the exact tensor
    /// it wrote, not an alias), or another reader took the image with another offset.
    func byteImage(of tensor: Int, offset: Int) -> Int? {
        guard let (image, step) = byteImageOffers[tensor] else { return nil }
        if let id = image.tensor {
            guard image.offset == offset else { return nil }
            use(id)
            byteImageReads += 1
            return id
        }
        // Bytes in a buffer of T elements; live from the producer's step to this reader's (or a later one's).
        let id = newTensor([(sizes[tensor] + MemoryLayout<T>.size - 1) / MemoryLayout<T>.size])
        definedAt[id] = step
        image.tensor = id
        image.offset = offset
        use(id)
        byteImageReads += 1
        return id
    }
}
