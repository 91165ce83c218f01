import Foundation
import ResNetIR
import ResNetSystem

public struct RNWWriteOptions {
    /// Every tensor starts at a multiple of this (power of two, 64...65536).
    public var alignment = 64
    /// Store FLOAT tensors as float16 (`storage: FLOAT16`); readers widen on load.
    public var storeFloat16 = false
    /// Where the model came from, recorded in the header.
    public var source = RNWSource(file: "", format: "onnx", sha256: String(repeating: "0", count: 64))
    /// If set, called after the data is written to supply `source.sha256`
    /// (64 hex digits), so hashing the input can overlap the writing.
    public var sourceSHA256: (() -> String)?
    /// What changed the numbers on the way (`fold-bn`, `fp16`).
    public var transforms: [String] = []
    /// Called with (bytes written, total bytes) as the data section is written.
    public var progress: ((Int, Int) -> Void)?
    public init() {}
}

public struct RNWSource: Sendable, Equatable {
    public var file: String
    public var format: String
    public var sha256: String
    public init(file: String, format: String, sha256: String) {
        self.file = file
        self.format = format
        self.sha256 = sha256
    }
}

public struct RNWWriteSummary: Sendable {
    public let bytes: Int
    public let tensorCount: Int
    public let headerBytes: Int
}

public enum RNWWriter {
    static let producer = ProducerDTO(name: "resnet-tools", version: "0.1.0")

    /// Writes `model` as .rnw to `path`: temp file, fsync, rename.
    ///
    /// One pass over the tensor bytes: each 1 MiB piece is added to its CRC
    /// and written while it is in cache. The header goes in last, over a
    /// placeholder of the same length: CRCs (8 hex digits) and the source's
    /// SHA-256 (64) are fixed-width, so the header's length, and with it every
    /// offset, is known before any checksum is.
    @discardableResult
    public static func write(_ model: Model, to path: String, options: RNWWriteOptions = RNWWriteOptions(),
                             protectedInputs: [String] = []) throws -> RNWWriteSummary {
        let a = options.alignment
        guard a >= RNWLayout.minAlignment && a <= RNWLayout.maxAlignment && a & (a - 1) == 0 else {
            throw RNWError.badAlignment(UInt32(clamping: a))
        }
        let encoding = HeaderEncoding()
        let modelDTO = encoding.model(model)
        let tensors = encoding.tensors
        guard tensors.count <= RNWLayout.maxTensorCount else { throw RNWError.tooManyTensors(count: tensors.count) }

        // Stored bytes of each tensor (float16 narrowing happens here).
        var stored: [TensorBytes] = []
        var entries: [TensorEntryDTO] = []
        stored.reserveCapacity(tensors.count)
        for t in tensors {
            let narrow = options.storeFloat16 && t.dataType == .float
            var data = t.data
            if t.dataType != .string {
                guard let expected = t.expectedByteCount, expected == data.count else {
                    throw RNWError.tensorDataMismatch(tensor: t.name, expected: t.expectedByteCount ?? -1, actual: data.count)
                }
                if narrow { data = TensorBytes(Float16Storage.narrow(data)) }
            }
            stored.append(data)
            entries.append(TensorEntryDTO(
                name: t.name, dtype: t.dataType.description, storage: narrow ? "FLOAT16" : nil, dims: t.dims,
                offset: 0, length: data.count, crc32: CRC32.hex(0),
                strings: t.dataType == .string ? t.strings.map { Data($0).base64EncodedString() } : nil,
                doc_string: t.docString.isEmpty ? nil : t.docString,
                metadata: t.metadata.isEmpty ? nil : t.metadata.map { PairDTO(key: $0.key, value: $0.value) },
                segment: t.segment.map { SegmentDTO(begin: $0.begin, end: $0.end) }))
        }
        var source = options.source
        // The placeholder must have the final digest's width: 64 hex digits.
        if options.sourceSHA256 != nil { source.sha256 = String(repeating: "0", count: 64) }
        func header() throws -> [UInt8] {
            let dto = HeaderDTO(producer: producer,
                                source: SourceDTO(file: source.file, format: source.format, sha256: source.sha256),
                                transforms: options.transforms, model: modelDTO, tensors: entries)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return Array(try encoder.encode(dto))
        }

        // Offsets are absolute, so they depend on the header's length, which
        // depends on their digits: iterate to the fixed point.
        var dataOffset = RNWLayout.alignUp(RNWLayout.preambleSize + 2, a) ?? a
        var placeholder: [UInt8] = []
        var dataEnd = dataOffset
        for _ in 0..<16 {
            var position = dataOffset
            dataEnd = dataOffset
            for i in entries.indices {
                entries[i].offset = position
                dataEnd = position + entries[i].length
                position = RNWLayout.alignUp(dataEnd, a) ?? dataEnd
            }
            placeholder = try header()
            let needed = RNWLayout.alignUp(RNWLayout.preambleSize + placeholder.count, a) ?? 0
            if needed == dataOffset { break }
            dataOffset = needed
        }
        guard placeholder.count <= RNWLayout.maxHeaderLength else {
            throw RNWError.headerLengthOutOfRange(length: UInt64(placeholder.count), maximum: RNWLayout.maxHeaderLength)
        }

        // Data first, behind a zeroed preamble and header.
        let out = try AtomicFileWriter(destination: path, protectedInputs: protectedInputs)
        try out.writeZeros(dataOffset)
        var dataCRC: UInt32 = 0  // CRC of the data section, padding included
        var position = dataOffset
        let total = dataEnd - dataOffset
        for i in entries.indices {
            let pad = entries[i].offset - position
            try out.writeZeros(pad)
            dataCRC = CRC32.combine(dataCRC, CRC32.zeros(pad), lengthOfB: pad)
            let crc = try stored[i].withUnsafeBytes { bytes -> UInt32 in
                var crc: UInt32 = 0
                var offset = 0
                while offset < bytes.count {
                    let piece = UnsafeRawBufferPointer(rebasing: bytes[offset..<min(offset + (1 << 20), bytes.count)])
                    crc = CRC32.update(crc, piece)
                    try out.write(piece)
                    offset += piece.count
                }
                return crc
            }
            entries[i].crc32 = CRC32.hex(crc)
            dataCRC = CRC32.combine(dataCRC, crc, lengthOfB: stored[i].count)
            position = entries[i].offset + stored[i].count
            options.progress?(position - dataOffset, total)
        }

        // Now the checksums are known: the real header, same length as the placeholder.
        if let digest = options.sourceSHA256 { source.sha256 = digest() }
        let finalHeader = try header()
        guard finalHeader.count == placeholder.count else {
            throw RNWError.headerLengthOutOfRange(length: UInt64(finalHeader.count), maximum: placeholder.count)
        }
        let preamble = RNWPreamble(headerLength: UInt64(finalHeader.count), headerCRC: CRC32.of(finalHeader),
                                   alignment: UInt32(a), dataOffset: UInt64(dataOffset),
                                   dataLength: UInt64(total), tensorCount: UInt64(entries.count)).encoded()
        try out.overwrite(preamble + finalHeader, at: 0)
        let headPad = dataOffset - RNWLayout.preambleSize - finalHeader.count
        var fileCRC = CRC32.combine(CRC32.of(preamble), CRC32.of(finalHeader), lengthOfB: finalHeader.count)
        fileCRC = CRC32.combine(fileCRC, CRC32.zeros(headPad), lengthOfB: headPad)
        fileCRC = CRC32.combine(fileCRC, dataCRC, lengthOfB: total)
        var trailer: [UInt8] = []
        trailer.appendLE(fileCRC)
        trailer.appendLE(UInt32(0))
        trailer += RNWLayout.endMagic
        try out.write(trailer)
        try out.commit()
        return RNWWriteSummary(bytes: out.bytesWritten, tensorCount: entries.count, headerBytes: finalHeader.count)
    }
}

/// float32 <-> float16 storage for `--fp16`.
enum Float16Storage {
    /// Little-endian float32 bytes -> little-endian float16 bytes (round to nearest even).
    static func narrow(_ data: TensorBytes) -> [UInt8] {
        data.withUnsafeBytes { src in
            let n = src.count / 4
            return [UInt8](unsafeUninitializedCapacity: n * 2) { out, initialized in
                for i in 0..<n {
                    let f = Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
                    let h = Float16(f).bitPattern
                    out[2 * i] = UInt8(truncatingIfNeeded: h)
                    out[2 * i + 1] = UInt8(truncatingIfNeeded: h >> 8)
                }
                initialized = n * 2
            }
        }
    }

    /// Little-endian float16 bytes -> little-endian float32 bytes (exact).
    static func widen(_ src: UnsafeRawBufferPointer) -> [UInt8] {
        let n = src.count / 2
        return [UInt8](unsafeUninitializedCapacity: n * 4) { out, initialized in
            for i in 0..<n {
                let h = UInt16(src[2 * i]) | UInt16(src[2 * i + 1]) << 8
                let bits = Float(Float16(bitPattern: h)).bitPattern
                for b in 0..<4 { out[4 * i + b] = UInt8(truncatingIfNeeded: bits >> (8 * UInt32(b))) }
            }
            initialized = n * 4
        }
    }
}
