// The only file in ResNetRNW that calls zlib.
import CZlib

/// CRC-32 (ISO-HDLC, zlib's `crc32`), as the .rnw format specifies.
public enum CRC32 {
    /// Continues `crc` over `bytes` (start with 0). zlib takes a 32-bit length,
    /// so large buffers are fed in chunks.
    public static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard var p = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return crc }
        var left = bytes.count
        var c = UInt(crc)
        while left > 0 {
            let n = min(left, 1 << 30)
            // Sound: p..<p+n lies inside `bytes`, which the caller keeps alive for this call.
            c = crc32(c, p, UInt32(n))
            p += n
            left -= n
        }
        return UInt32(truncatingIfNeeded: c)
    }

    public static func of(_ bytes: UnsafeRawBufferPointer) -> UInt32 { update(0, bytes) }

    public static func of(_ bytes: [UInt8]) -> UInt32 { bytes.withUnsafeBytes { of($0) } }

    /// The CRC of A followed by B, from crc(A), crc(B) and B's length: lets a
    /// writer and a verifier build the file CRC from per-tensor CRCs without
    /// reading the data twice.
    public static func combine(_ a: UInt32, _ b: UInt32, lengthOfB: Int) -> UInt32 {
        UInt32(truncatingIfNeeded: crc32_combine(UInt(a), UInt(b), off_t(lengthOfB)))
    }

    /// CRC of `count` zero bytes (padding), without a buffer of that size.
    public static func zeros(_ count: Int) -> UInt32 {
        var crc: UInt32 = 0
        var left = count
        let block = [UInt8](repeating: 0, count: min(count, 65536))
        while left > 0 {
            let n = min(left, block.count)
            crc = block.withUnsafeBytes { update(crc, UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            left -= n
        }
        return crc
    }

    /// Eight lower-case hex digits, as the header stores CRCs.
    public static func hex(_ crc: UInt32) -> String {
        let s = String(crc, radix: 16)
        return String(repeating: "0", count: 8 - s.count) + s
    }
}
