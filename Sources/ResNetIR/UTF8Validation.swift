/// Well-formed UTF-8 as the Unicode standard's Table 3-7 defines it, with where
/// and why the first bad sequence fails: the one validator both strict header
/// readers (.rnw's JSON, .safetensors') use, each rendering the problem in its
/// own error type. The stdlib's validating String initialisers say only "no";
/// a user fixing a file needs "where".
public struct UTF8Problem: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        /// 0x80...0xBF with no lead byte before it.
        case strayContinuation
        /// 0xC0 or 0xC1: an overlong encoding of an ASCII character.
        case overlongASCII
        /// 0xF5...0xFF: never part of UTF-8.
        case invalidByte
        /// The input ends inside the sequence.
        case truncated
        /// The byte after the lead is not a continuation byte.
        case secondNotContinuation
        /// A shorter sequence encodes this code point.
        case overlong
        /// U+D800...U+DFFF encoded (lead 0xED).
        case surrogate
        /// Past U+10FFFF (lead 0xF4).
        case pastMax
        /// A third or fourth byte is not a continuation byte.
        case laterNotContinuation
    }
    /// Offset of the lead byte, and how many bytes the bad sequence spans (for showing them).
    public let offset: Int
    public let length: Int
    public let kind: Kind
    public let lead: UInt8
}

public enum UTF8Validation {
    /// The first ill-formed sequence in `b`, nil when all of it is well-formed UTF-8.
    public static func firstProblem(_ b: UnsafeRawBufferPointer) -> UTF8Problem? {
        let n = b.count
        var i = 0
        while i < n {
            let c = b[i]
            if c < 0x80 { i += 1; continue }
            func problem(_ length: Int, _ kind: UTF8Problem.Kind) -> UTF8Problem { UTF8Problem(offset: i, length: length, kind: kind, lead: c) }
            let need: Int
            var low: UInt8 = 0x80, high: UInt8 = 0xBF  // allowed range of the second byte
            switch c {
            case 0x80...0xBF: return problem(1, .strayContinuation)
            case 0xC0, 0xC1: return problem(2, .overlongASCII)
            case 0xC2...0xDF: need = 1
            case 0xE0: need = 2; low = 0xA0
            case 0xED: need = 2; high = 0x9F
            case 0xE1...0xEF: need = 2
            case 0xF0: need = 3; low = 0x90
            case 0xF4: need = 3; high = 0x8F
            case 0xF1...0xF3: need = 3
            default: return problem(1, .invalidByte)
            }
            guard i + need < n else { return problem(need + 1, .truncated) }
            let second = b[i + 1]
            if second < 0x80 || second > 0xBF { return problem(2, .secondNotContinuation) }
            if second < low { return problem(need + 1, .overlong) }
            if second > high { return problem(need + 1, c == 0xED ? .surrogate : .pastMax) }
            var k = 2
            while k <= need {
                let x = b[i + k]
                if x < 0x80 || x > 0xBF { return problem(k + 1, .laterNotContinuation) }
                k += 1
            }
            i += need + 1
        }
        return nil
    }
}
