import ResNetIR
import ResNetSystem

/// A tensor read from a .safetensors file; its bytes stay in the file's
/// mapping (zero copy) for as long as the tensor lives.
public struct SafetensorsTensor: Sendable {
    public let name: String
    public let dtype: SafetensorsDType
    public let shape: [Int64]
    public let data: TensorBytes

    public init(name: String, dtype: SafetensorsDType, shape: [Int64], data: TensorBytes) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.data = data
    }

    /// As a ResNetIR tensor (same bytes, ONNX's element type).
    public var irTensor: Tensor { Tensor(name: name, dataType: dtype.dataType, dims: shape, data: data) }
}

public struct SafetensorsContents: Sendable {
    /// `__metadata__`, in file order (empty if absent).
    public let metadata: [StringPair]
    /// In header order.
    public let tensors: [SafetensorsTensor]
}

/// Reads .safetensors files (https://github.com/huggingface/safetensors):
/// an 8-byte little-endian header length N, N bytes of JSON, then the data
/// section, which the tensors' `data_offsets` (relative to it) must tile
/// exactly: sorted by offset, each begins where the previous ended, the last
/// ends at the end of the file. The reference reader enforces the same; a
/// gap or an overlap is how two files can hide data or alias one tensor's
/// bytes as another's.
///
/// Every number from the file is checked before use (Int(exactly:),
/// overflow-reporting arithmetic), and nothing is allocated in proportion to
/// a number the file states: the header is parsed only after its length is
/// known to be within the file and `maxHeaderLength`.
public enum SafetensorsReader {
    /// Header lengths past this are refused. A state dict's header is ~100
    /// bytes per tensor (resnet152: ~60 KB); 16 MiB allows ~150,000 tensors
    /// while bounding what parsing a hostile header can cost.
    public static let maxHeaderLength = 16 << 20

    public static func read(file: MappedFile) throws -> SafetensorsContents {
        try read(owner: file)
    }

    /// From memory (tests, fuzzing).
    public static func read(bytes: [UInt8]) throws -> SafetensorsContents {
        try read(owner: OwnedBytes(bytes))
    }

    static func read(owner: any ByteRegionOwner) throws -> SafetensorsContents {
        let size = owner.byteCount
        guard size >= 8 else { throw SafetensorsError.fileTooShort(size: size) }
        let (header, dataStart) = try owner.withUnsafeBytes { all -> (ParsedHeader, Int) in
            var length: UInt64 = 0
            for k in 0..<8 { length |= UInt64(all[k]) << (8 * UInt64(k)) }
            guard length <= UInt64(maxHeaderLength) else {
                throw SafetensorsError.headerLengthTooLarge(length: length, maximum: maxHeaderLength)
            }
            // Not nil and no overflow: length <= maxHeaderLength.
            guard let n = Int(exactly: length), n <= size - 8 else {
                throw SafetensorsError.headerLengthPastFile(length: length, available: size - 8)
            }
            // Sound: 8 + n <= size was checked just above.
            let text = UnsafeRawBufferPointer(rebasing: all[8..<(8 + n)])
            return (try SafetensorsHeaderParser.parse(text, fileOffset: 8), 8 + n)
        }
        let dataLength = size - dataStart

        for e in header.entries where e.end > dataLength {
            throw SafetensorsError.offsetPastData(tensor: e.name, end: e.end, dataLength: dataLength)
        }
        // Zero-length tensors sort before a tensor at the same offset, so they never read as overlaps.
        let byOffset = header.entries.indices.sorted {
            let (a, b) = (header.entries[$0], header.entries[$1])
            return (a.begin, a.end, $0) < (b.begin, b.end, $1)
        }
        var covered = 0
        var previous: HeaderEntry?
        for k in byOffset {
            let e = header.entries[k]
            if e.begin > covered {
                throw SafetensorsError.offsetGap(tensor: e.name, begin: e.begin, expected: covered, after: previous?.name)
            }
            if e.begin < covered, let previous {
                throw SafetensorsError.offsetOverlap(tensor: e.name, begin: e.begin, previous: previous.name, previousEnd: covered)
            }
            covered = e.end
            previous = e
        }
        guard covered == dataLength else { throw SafetensorsError.dataNotCovered(coveredTo: covered, dataLength: dataLength) }

        let tensors = try header.entries.map { e -> SafetensorsTensor in
            // Cannot fail: end <= dataLength was checked, so the range lies inside the file.
            guard let data = TensorBytes(owner: owner, range: (dataStart + e.begin)..<(dataStart + e.end)) else {
                throw SafetensorsError.offsetPastData(tensor: e.name, end: e.end, dataLength: dataLength)
            }
            return SafetensorsTensor(name: e.name, dtype: e.dtype, shape: e.shape, data: data)
        }
        return SafetensorsContents(metadata: header.metadata, tensors: tensors)
    }
}
