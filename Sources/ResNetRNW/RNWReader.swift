import Foundation
import ResNetIR
import ResNetSystem

public struct RNWReadOptions: Sendable {
    /// Verify every tensor CRC, zero padding and the file CRC (reads all bytes).
    /// Header checks are never skipped.
    public var verifyData = true
    public init(verifyData: Bool = true) { self.verifyData = verifyData }
}

/// One tensor's place in the file, for `verify` reports.
public struct RNWTensorLocation: Sendable {
    public let name: String
    public let offset: Int
    public let length: Int
    public let storedAsFloat16: Bool
}

public struct RNWReadResult {
    public let model: Model
    public let fileSize: Int
    public let alignment: Int
    public let version: (major: UInt16, minor: UInt16)
    public let producer: String
    public let source: RNWSource
    public let transforms: [String]
    public let tensors: [RNWTensorLocation]
}

/// Reads .rnw files (schemas/rnw.md). The file is mapped; tensor bytes are used
/// in place, aligned as stored. Checks run in the order the spec lists and stop
/// at the first failure.
public enum RNWReader {
    public static func read(path: String, options: RNWReadOptions = RNWReadOptions()) throws -> RNWReadResult {
        try read(file: try MappedFile(path: path), options: options)
    }

    /// Reads from a file the caller already mapped.
    public static func read(file: MappedFile, options: RNWReadOptions = RNWReadOptions()) throws -> RNWReadResult {
        try file.withUnsafeBytes { try read(bytes: $0, owner: file, options: options) }
    }

    /// Reads an .rnw held in memory (tests, fuzzers); tensors borrow from one shared copy.
    public static func read(bytes: [UInt8], options: RNWReadOptions = RNWReadOptions()) throws -> RNWReadResult {
        let owner = OwnedBytes(bytes)
        return try owner.withUnsafeBytes { try read(bytes: $0, owner: owner, options: options) }
    }

    static func read(bytes: UnsafeRawBufferPointer, owner: any ByteRegionOwner, options: RNWReadOptions) throws -> RNWReadResult {
        let size = bytes.count
        let minimum = RNWLayout.preambleSize + RNWLayout.trailerSize
        guard size >= 8, bytes.prefix(8).elementsEqual(RNWLayout.magic) else {
            throw size < 8 ? RNWError.tooSmall(size: size, minimum: minimum) : RNWError.badMagic(found: Array(bytes.prefix(8)))
        }
        guard size >= minimum, let p = RNWPreamble.decode(bytes) else { throw RNWError.tooSmall(size: size, minimum: minimum) }
        guard p.major <= RNWLayout.majorVersion else {
            throw RNWError.newerMajorVersion(found: p.major, supported: RNWLayout.majorVersion)
        }
        let preambleCRC = CRC32.of(UnsafeRawBufferPointer(rebasing: bytes[0..<56]))
        guard preambleCRC == p.preambleCRC else {
            throw RNWError.preambleChecksumMismatch(expected: p.preambleCRC, actual: preambleCRC)
        }
        guard p.flags == 0 else { throw RNWError.unknownFlags(p.flags) }
        guard p.reserved == 0 else { throw RNWError.reservedNotZero(field: "preamble bytes 60..<64", value: UInt64(p.reserved)) }
        guard p.headerLength >= 2, p.headerLength <= UInt64(RNWLayout.maxHeaderLength),
              Int(p.headerLength) <= size - minimum else {
            throw RNWError.headerLengthOutOfRange(length: p.headerLength, maximum: RNWLayout.maxHeaderLength)
        }
        let headerLength = Int(p.headerLength)
        let alignment = Int(p.alignment)
        guard alignment >= RNWLayout.minAlignment, alignment <= RNWLayout.maxAlignment, alignment & (alignment - 1) == 0 else {
            throw RNWError.badAlignment(p.alignment)
        }
        guard let dataOffset = RNWLayout.alignUp(RNWLayout.preambleSize + headerLength, alignment),
              p.dataOffset == UInt64(dataOffset) else {
            throw RNWError.dataOffsetMismatch(expected: RNWLayout.alignUp(RNWLayout.preambleSize + headerLength, alignment) ?? -1,
                                              actual: p.dataOffset)
        }
        guard p.tensorCount <= UInt64(RNWLayout.maxTensorCount) else {
            throw RNWError.tensorCountTooLarge(count: p.tensorCount, maximum: RNWLayout.maxTensorCount)
        }
        guard let dataLength = Int(exactly: p.dataLength),
              case let (end, o1) = dataOffset.addingReportingOverflow(dataLength), !o1,
              case let (expectedSize, o2) = end.addingReportingOverflow(RNWLayout.trailerSize), !o2,
              expectedSize == size else {
            throw RNWError.fileSizeMismatch(expected: "\(p.dataOffset) + \(p.dataLength) + 16", actual: size)
        }
        let dataEnd = dataOffset + dataLength
        guard bytes[(dataEnd + 8)..<size].elementsEqual(RNWLayout.endMagic) else {
            throw RNWError.missingEndMagic(offset: dataEnd)
        }
        var trailer = ByteReader(UnsafeRawBufferPointer(rebasing: bytes[dataEnd..<size]))
        let storedFileCRC = trailer.readLE(UInt32.self) ?? 0
        let trailerReserved = trailer.readLE(UInt32.self) ?? 0
        guard trailerReserved == 0 else { throw RNWError.reservedNotZero(field: "trailer bytes 4..<8", value: UInt64(trailerReserved)) }

        // Header: checksum, nesting depth, then JSON.
        let headerBytes = UnsafeRawBufferPointer(rebasing: bytes[RNWLayout.preambleSize..<(RNWLayout.preambleSize + headerLength)])
        let headerCRC = CRC32.of(headerBytes)
        guard headerCRC == p.headerCRC else { throw RNWError.headerChecksumMismatch(expected: p.headerCRC, actual: headerCRC) }
        if let deep = JSONDepth.firstOffsetDeeperThan(RNWLayout.maxHeaderDepth, in: headerBytes) {
            throw RNWError.headerTooDeep(offset: RNWLayout.preambleSize + deep, maximum: RNWLayout.maxHeaderDepth)
        }
        let header = try decodeHeader(headerBytes)
        guard header.tensors.count == Int(p.tensorCount) else {
            throw RNWError.tensorCountMismatch(preamble: p.tensorCount, header: header.tensors.count)
        }

        // Tensor table: one pass, in file order.
        var tensors: [Tensor] = []
        var locations: [RNWTensorLocation] = []
        tensors.reserveCapacity(header.tensors.count)
        var expectedOffset = dataOffset
        var fileCRC = options.verifyData ? CRC32.of(UnsafeRawBufferPointer(rebasing: bytes[0..<dataOffset])) : 0
        if options.verifyData, let bad = firstNonZero(bytes, (RNWLayout.preambleSize + headerLength)..<dataOffset) {
            throw RNWError.paddingNotZero(offset: bad)
        }
        var previousEnd = dataOffset
        for (i, e) in header.tensors.enumerated() {
            let (tensor, storedType) = try TensorEntryCheck.tensor(e, index: i)
            guard e.offset == expectedOffset else {
                throw RNWError.misplacedTensor(tensor: e.name, expectedOffset: expectedOffset, actualOffset: e.offset)
            }
            guard case let (end, overflow) = e.offset.addingReportingOverflow(e.length), !overflow, end <= dataEnd else {
                throw RNWError.dataLengthMismatch(expected: e.offset &+ e.length &- dataOffset, actual: p.dataLength)
            }
            guard let storedCRC = UInt32(e.crc32, radix: 16), e.crc32.count == 8 else {
                throw RNWError.headerInvalid(path: "tensors[\(i)].crc32", reason: "'\(e.crc32)' is not 8 hex digits")
            }
            let range = e.offset..<end
            if options.verifyData {
                if let bad = firstNonZero(bytes, previousEnd..<e.offset) { throw RNWError.paddingNotZero(offset: bad) }
                let pad = UnsafeRawBufferPointer(rebasing: bytes[previousEnd..<e.offset])
                fileCRC = CRC32.combine(fileCRC, CRC32.of(pad), lengthOfB: pad.count)
                let actual = CRC32.of(UnsafeRawBufferPointer(rebasing: bytes[range]))
                guard actual == storedCRC else {
                    throw RNWError.tensorChecksumMismatch(tensor: e.name, offset: e.offset, expected: storedCRC, actual: actual)
                }
                fileCRC = CRC32.combine(fileCRC, actual, lengthOfB: range.count)
            }
            var t = tensor
            if storedType == .float16 && tensor.dataType == .float {
                t.data = TensorBytes(Float16Storage.widen(UnsafeRawBufferPointer(rebasing: bytes[range])))
            } else if let region = TensorBytes(owner: owner, range: range) {
                t.data = region
            }
            tensors.append(t)
            locations.append(RNWTensorLocation(name: e.name, offset: e.offset, length: e.length,
                                               storedAsFloat16: storedType == .float16 && tensor.dataType == .float))
            previousEnd = end
            expectedOffset = RNWLayout.alignUp(end, alignment) ?? end
        }
        guard previousEnd == dataEnd else {
            throw RNWError.dataLengthMismatch(expected: previousEnd - dataOffset, actual: p.dataLength)
        }
        if options.verifyData && fileCRC != storedFileCRC {
            throw RNWError.fileChecksumMismatch(expected: storedFileCRC, actual: fileCRC)
        }
        let model = try HeaderDecoding(tensors: tensors).model(header.model)
        return RNWReadResult(
            model: model, fileSize: size, alignment: alignment, version: (p.major, p.minor),
            producer: "\(header.producer.name) \(header.producer.version)",
            source: RNWSource(file: header.source.file, format: header.source.format, sha256: header.source.sha256),
            transforms: header.transforms, tensors: locations)
    }

    private static func firstNonZero(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Int? {
        range.first { bytes[$0] != 0 }
    }

    /// Strict RFC 8259 (schemas/rnw.md, "Header JSON is strict"): every
    /// failure is already a typed RNWError, so none is rewrapped here.
    private static func decodeHeader(_ bytes: UnsafeRawBufferPointer) throws -> HeaderDTO {
        try RNWHeaderJSON.decode(bytes)
    }
}

/// Checks one tensor table entry (name, dtype, storage, rank, dims, length)
/// and builds its tensor without data.
enum TensorEntryCheck {
    static let typesByName: [String: DataType] = Dictionary(uniqueKeysWithValues: DataType.allCases.map { ($0.description, $0) })

    static func tensor(_ e: TensorEntryDTO, index: Int) throws -> (Tensor, DataType) {
        guard e.name.utf8.count <= RNWLayout.maxNameBytes else {
            throw RNWError.nameTooLong(tensor: index, bytes: e.name.utf8.count, maximum: RNWLayout.maxNameBytes)
        }
        guard let dtype = typesByName[e.dtype] else { throw RNWError.unknownDataType(tensor: e.name, name: e.dtype) }
        var stored = dtype
        if let storage = e.storage {
            guard storage == "FLOAT16", dtype == .float else {
                throw RNWError.invalidStorage(tensor: e.name, storage: storage, dataType: e.dtype)
            }
            stored = .float16
        }
        guard e.dims.count <= RNWLayout.maxRank else {
            throw RNWError.rankTooLarge(tensor: e.name, rank: e.dims.count, maximum: RNWLayout.maxRank)
        }
        guard let count = elementCount(e.dims) else { throw RNWError.invalidDims(tensor: e.name, dims: e.dims) }
        var strings: [[UInt8]] = []
        let expected: Int
        if dtype == .string {
            let encoded = e.strings ?? []
            guard encoded.count == count else { throw RNWError.lengthMismatch(tensor: e.name, expected: count, actual: encoded.count) }
            strings = try encoded.enumerated().map { j, s in
                guard let d = Data(base64Encoded: s) else { throw RNWError.badBase64(path: "tensors[\(index)].strings[\(j)]") }
                return Array(d)
            }
            expected = 0
        } else {
            guard let n = stored.byteCount(elements: count) else { throw RNWError.invalidDims(tensor: e.name, dims: e.dims) }
            expected = n
        }
        guard e.length == expected else { throw RNWError.lengthMismatch(tensor: e.name, expected: expected, actual: e.length) }
        let tensor = Tensor(name: e.name, dataType: dtype, dims: e.dims, data: .empty, strings: strings,
                            docString: e.doc_string ?? "", segment: e.segment.map { Tensor.Segment(begin: $0.begin, end: $0.end) },
                            metadata: (e.metadata ?? []).map { StringPair($0.key, $0.value) })
        return (tensor, stored)
    }
}

/// Nesting depth of JSON arrays/objects, counted outside strings, so a header
/// of 10,000 `[` never reaches the recursive JSON parser.
enum JSONDepth {
    static func firstOffsetDeeperThan(_ limit: Int, in bytes: UnsafeRawBufferPointer) -> Int? {
        var depth = 0, inString = false, escaped = false
        for (i, b) in bytes.enumerated() {
            if inString {
                if escaped { escaped = false } else if b == 0x5C { escaped = true } else if b == 0x22 { inString = false }
                continue
            }
            switch b {
            case 0x22: inString = true
            case 0x5B, 0x7B:
                depth += 1
                if depth > limit { return i }
            case 0x5D, 0x7D: depth -= 1
            default: break
            }
        }
        return nil
    }
}

/// Turns a DecodingError into a header path ("model.graph.nodes[3].op_type") and a reason.
enum DecodingErrorText {
    static func path(_ e: DecodingError) -> String {
        let keys: [CodingKey]
        switch e {
        case let .typeMismatch(_, c), let .valueNotFound(_, c), let .dataCorrupted(c): keys = c.codingPath
        case let .keyNotFound(key, c): keys = c.codingPath + [key]
        @unknown default: keys = []
        }
        var out = ""
        for k in keys {
            if let i = k.intValue { out += "[\(i)]" } else { out += (out.isEmpty ? "" : ".") + k.stringValue }
        }
        return out
    }

    static func reason(_ e: DecodingError) -> String {
        switch e {
        case let .typeMismatch(type, _): return "expected \(type)"
        case let .valueNotFound(type, _): return "missing \(type) value"
        case .keyNotFound: return "required key missing"
        case let .dataCorrupted(c): return c.underlyingError == nil ? c.debugDescription : "not valid JSON"
        @unknown default: return "\(e)"
        }
    }
}
