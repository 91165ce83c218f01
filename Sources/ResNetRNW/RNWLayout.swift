/// Fixed parts of the .rnw format (schemas/rnw.md).
public enum RNWLayout {
    public static let magic: [UInt8] = [0x89, 0x52, 0x4E, 0x57, 0x0D, 0x0A, 0x1A, 0x0A]
    public static let endMagic: [UInt8] = Array("RNWEND\r\n".utf8)
    public static let majorVersion: UInt16 = 1
    public static let minorVersion: UInt16 = 0
    public static let preambleSize = 64
    public static let trailerSize = 16
    public static let maxHeaderLength = 64 << 20
    public static let minAlignment = 64
    public static let maxAlignment = 65536
    public static let maxTensorCount = 1_000_000
    public static let maxNameBytes = 4096
    public static let maxRank = 32
    public static let maxHeaderDepth = 64

    /// `value` rounded up to a multiple of `alignment` (a power of two), or nil on overflow.
    static func alignUp(_ value: Int, _ alignment: Int) -> Int? {
        let (sum, overflow) = value.addingReportingOverflow(alignment - 1)
        return overflow ? nil : sum & ~(alignment - 1)
    }
}

/// The 64-byte preamble. Encoding is explicit little-endian; decoding is
/// bounds-checked and never traps.
struct RNWPreamble: Equatable {
    var major: UInt16 = RNWLayout.majorVersion
    var minor: UInt16 = RNWLayout.minorVersion
    var flags: UInt32 = 0
    var headerLength: UInt64
    var headerCRC: UInt32
    var alignment: UInt32
    var dataOffset: UInt64
    var dataLength: UInt64
    var tensorCount: UInt64
    var preambleCRC: UInt32 = 0
    var reserved: UInt32 = 0

    /// The 64 bytes, with the preamble CRC computed over bytes 0..<56.
    func encoded() -> [UInt8] {
        var out = RNWLayout.magic
        out.appendLE(major); out.appendLE(minor); out.appendLE(flags)
        out.appendLE(headerLength); out.appendLE(headerCRC); out.appendLE(alignment)
        out.appendLE(dataOffset); out.appendLE(dataLength); out.appendLE(tensorCount)
        out.appendLE(CRC32.of(out))
        out.appendLE(reserved)
        return out
    }

    /// Field offsets, for error messages and corruption tests.
    enum Field: Int, CaseIterable {
        case magic = 0, major = 8, minor = 10, flags = 12, headerLength = 16, headerCRC = 24
        case alignment = 28, dataOffset = 32, dataLength = 40, tensorCount = 48, preambleCRC = 56, reserved = 60
    }

    /// Reads the fields; nil if fewer than 64 bytes. Checks nothing else.
    static func decode(_ bytes: UnsafeRawBufferPointer) -> RNWPreamble? {
        var r = ByteReader(bytes)
        guard r.skip(8), let major = r.readLE(UInt16.self), let minor = r.readLE(UInt16.self),
              let flags = r.readLE(UInt32.self), let hl = r.readLE(UInt64.self), let hc = r.readLE(UInt32.self),
              let al = r.readLE(UInt32.self), let dOff = r.readLE(UInt64.self), let dLen = r.readLE(UInt64.self),
              let tc = r.readLE(UInt64.self), let pc = r.readLE(UInt32.self), let res = r.readLE(UInt32.self)
        else { return nil }
        return RNWPreamble(major: major, minor: minor, flags: flags, headerLength: hl, headerCRC: hc, alignment: al,
                           dataOffset: dOff, dataLength: dLen, tensorCount: tc, preambleCRC: pc, reserved: res)
    }
}

/// Bounds-checked little-endian reads over a byte buffer (as swift-nio's
/// ByteBuffer): every read returns nil instead of reading past the end.
struct ByteReader {
    private let bytes: UnsafeRawBufferPointer
    private(set) var offset = 0
    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    mutating func skip(_ n: Int) -> Bool {
        guard n >= 0, n <= bytes.count - offset else { return false }
        offset += n
        return true
    }

    mutating func readLE<T: FixedWidthInteger>(_: T.Type) -> T? {
        let size = MemoryLayout<T>.size
        guard size <= bytes.count - offset else { return nil }
        let v = T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += size
        return v
    }
}

extension Array where Element == UInt8 {
    mutating func appendLE<T: FixedWidthInteger>(_ v: T) {
        Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) }
    }
}
