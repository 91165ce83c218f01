import ResNetIR

/// The header's UTF-8 check: the shared validator (ResNetIR.UTF8Validation), its
/// finding as this format's error, at the file offset.
enum SafetensorsUTF8 {
    static func check(_ b: UnsafeRawBufferPointer, fileOffset: Int) throws {
        guard let p = UTF8Validation.firstProblem(b) else { return }
        let lead = "0x" + String(p.lead, radix: 16)
        let reason: String
        switch p.kind {
        case .strayContinuation: reason = "continuation byte \(lead) without a lead byte"
        case .overlongASCII: reason = "overlong encoding (lead byte \(lead))"
        case .invalidByte: reason = "byte \(lead) never occurs in UTF-8"
        case .truncated: reason = "sequence cut short by the end of the header"
        case .overlong: reason = "overlong encoding"
        case .surrogate: reason = "UTF-16 surrogate encoded in UTF-8"
        case .pastMax: reason = "code point past U+10FFFF"
        case .secondNotContinuation, .laterNotContinuation: reason = "lead byte \(lead) not followed by enough continuation bytes"
        }
        throw SafetensorsError.headerNotUTF8(offset: fileOffset + p.offset, reason: reason)
    }
}
