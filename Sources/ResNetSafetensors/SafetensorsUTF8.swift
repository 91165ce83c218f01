/// Well-formed UTF-8 as the Unicode standard's Table 3-7 defines it, with the
/// offset of the first bad byte for the message. The stdlib's validating
/// String initialisers say only "no"; a user fixing a file needs "where".
enum SafetensorsUTF8 {
    static func check(_ b: UnsafeRawBufferPointer, fileOffset: Int) throws {
        let n = b.count
        var i = 0
        while i < n {
            let c = b[i]
            if c < 0x80 { i += 1; continue }
            func bad(_ reason: String) -> SafetensorsError { .headerNotUTF8(offset: fileOffset + i, reason: reason) }
            let need: Int
            var low: UInt8 = 0x80, high: UInt8 = 0xBF  // allowed range of the second byte
            switch c {
            case 0x80...0xBF: throw bad("continuation byte 0x\(String(c, radix: 16)) without a lead byte")
            case 0xC0, 0xC1: throw bad("overlong encoding (lead byte 0x\(String(c, radix: 16)))")
            case 0xC2...0xDF: need = 1
            case 0xE0: need = 2; low = 0xA0
            case 0xED: need = 2; high = 0x9F
            case 0xE1...0xEF: need = 2
            case 0xF0: need = 3; low = 0x90
            case 0xF4: need = 3; high = 0x8F
            case 0xF1...0xF3: need = 3
            default: throw bad("byte 0x\(String(c, radix: 16)) never occurs in UTF-8")
            }
            guard i + need < n else { throw bad("sequence cut short by the end of the header") }
            for k in 1...need {
                let x = b[i + k]
                let (lo, hi) = k == 1 ? (low, high) : (UInt8(0x80), UInt8(0xBF))
                guard x >= lo && x <= hi else {
                    if k == 1 && x >= 0x80 && x < low { throw bad("overlong encoding") }
                    if k == 1 && x > high && x <= 0xBF { throw bad(c == 0xED ? "UTF-16 surrogate encoded in UTF-8" : "code point past U+10FFFF") }
                    throw bad("lead byte 0x\(String(c, radix: 16)) not followed by enough continuation bytes")
                }
            }
            i += need + 1
        }
    }
}
