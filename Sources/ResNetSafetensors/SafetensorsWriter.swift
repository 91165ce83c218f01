import ResNetIR
import ResNetSystem

public struct SafetensorsWriteSummary: Sendable {
    public let bytes: Int
    public let tensorCount: Int
    public let headerBytes: Int
}

/// Writes .safetensors files deterministically: the same tensors give the
/// same bytes whatever order they come in. Tensors are sorted by element size,
/// largest first, then by name (by UTF-8 bytes, i.e. code point order), and
/// stored in that order with contiguous offsets; `__metadata__` comes first
/// with its keys sorted, and the header is padded with spaces so the data
/// section starts 8-byte aligned. Element sizes are 8, 4, 2 or 1 bytes, so
/// every tensor then starts at a multiple of its own element size in the file
/// and can be used in place from a mapping. The reference writer (huggingface
/// safetensors) sorts the same way in effect: by dtype, widest first, then name.
public enum SafetensorsWriter {
    /// The whole file in memory (tests, fuzzing). Same bytes as `write`.
    public static func encode(_ tensors: [SafetensorsTensor], metadata: [StringPair] = []) throws -> [UInt8] {
        let (header, ordered) = try layout(tensors, metadata: metadata)
        var out = header
        for t in ordered { t.data.withUnsafeBytes { out.append(contentsOf: $0) } }
        return out
    }

    /// Writes to `path` atomically (temporary file, fsync, rename): on any
    /// error the destination is left as it was.
    @discardableResult
    public static func write(_ tensors: [SafetensorsTensor], metadata: [StringPair] = [], to path: String,
                             protectedInputs: [String] = []) throws -> SafetensorsWriteSummary {
        let (header, ordered) = try layout(tensors, metadata: metadata)
        let out = try AtomicFileWriter(destination: path, protectedInputs: protectedInputs)
        try out.write(header)
        for t in ordered { try t.data.withUnsafeBytes { try out.write($0) } }
        try out.commit()
        return SafetensorsWriteSummary(bytes: out.bytesWritten, tensorCount: ordered.count, headerBytes: header.count - 8)
    }

    /// The 8-byte length and the padded header, and the tensors in storage order.
    static func layout(_ tensors: [SafetensorsTensor], metadata: [StringPair]) throws -> ([UInt8], [SafetensorsTensor]) {
        if let clash = tensors.first(where: { $0.name.utf8.elementsEqual("__metadata__".utf8) }) {
            throw SafetensorsError.reservedTensorName(name: clash.name)
        }
        let byName = tensors.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        for (a, b) in zip(byName, byName.dropFirst()) where a.name.utf8.elementsEqual(b.name.utf8) {
            throw SafetensorsError.duplicateTensorName(name: a.name)
        }
        // Names are unique, so this order is total: the output does not depend on the input's order.
        let ordered = byName.sorted { a, b in
            let (x, y) = (elementSize(a.dtype), elementSize(b.dtype))
            return x != y ? x > y : a.name.utf8.lexicographicallyPrecedes(b.name.utf8)
        }
        var json: [UInt8] = Array("{".utf8)
        var first = true
        func comma() { if !first { json.append(UInt8(ascii: ",")) }; first = false }
        let pairs = metadata.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        for (a, b) in zip(pairs, pairs.dropFirst()) where a.key.utf8.elementsEqual(b.key.utf8) {
            throw SafetensorsError.duplicateMetadataKey(key: a.key)
        }
        if !pairs.isEmpty {
            comma()
            json += Array("\"__metadata__\":{".utf8)
            for (k, p) in pairs.enumerated() {
                if k > 0 { json.append(UInt8(ascii: ",")) }
                json += jsonString(p.key) + [UInt8(ascii: ":")] + jsonString(p.value)
            }
            json.append(UInt8(ascii: "}"))
        }
        var offset = 0
        for t in ordered {
            guard let expected = ResNetIR.elementCount(t.shape).flatMap({ t.dtype.byteCount(elements: $0) }) else {
                throw SafetensorsText.sizeError(tensor: t.name, dtype: t.dtype, shape: t.shape)
            }
            guard expected == t.data.count else {
                throw SafetensorsError.tensorDataMismatch(tensor: t.name, expected: expected, actual: t.data.count)
            }
            comma()
            let dims = t.shape.map(String.init).joined(separator: ",")
            json += jsonString(t.name)
            json += Array(":{\"dtype\":\"\(t.dtype.rawValue)\",\"shape\":[\(dims)],\"data_offsets\":[\(offset),\(offset + expected)]}".utf8)
            offset += expected
        }
        json.append(UInt8(ascii: "}"))
        while json.count % 8 != 0 { json.append(0x20) }
        var out: [UInt8] = []
        out.reserveCapacity(8 + json.count)
        for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: UInt64(json.count) >> (8 * UInt64(k)))) }
        return (out + json, ordered)
    }

    /// Bytes per element: 8, 4, 2 or 1 for every dtype safetensors names here.
    static func elementSize(_ dtype: SafetensorsDType) -> Int { dtype.byteCount(elements: 1) ?? 1 }

    /// A JSON string literal: quotes, backslashes and control characters
    /// escaped, everything else as its UTF-8 bytes.
    static func jsonString(_ s: String) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "\"")]
        let hex = Array("0123456789abcdef".utf8)
        for c in s.utf8 {
            switch c {
            case UInt8(ascii: "\""): out += [0x5C, c]
            case UInt8(ascii: "\\"): out += [0x5C, c]
            case 0..<0x20: out += Array("\\u00".utf8) + [hex[Int(c >> 4)], hex[Int(c & 15)]]
            default: out.append(c)
            }
        }
        out.append(UInt8(ascii: "\""))
        return out
    }
}
