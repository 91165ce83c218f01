import Foundation
import Testing
@testable import ResNetRNW

/// The strict header rules through the reader: each rule case of
/// RNWStrictHeaderTests as a whole file (every checksum fixed, so only the
/// header's JSON is wrong), then every single-bit flip and truncation of a
/// real header inside a file.
struct RNWStrictReaderTests {
    /// The tiny model's file with 64 KiB alignment, so a header of any size up
    /// to 64 KiB − 64 keeps the data offset.
    static func file() throws -> (bytes: [UInt8], header: [UInt8], dataOffset: Int) {
        let b = try rnwBytes(alignment: 65536)
        let h = Int(Patch.readLE(UInt64.self, b, at: 16))
        return (b, Array(b[64..<(64 + h)]), Int(Patch.readLE(UInt64.self, b, at: 32)))
    }

    static func withHeader(_ f: (bytes: [UInt8], header: [UInt8], dataOffset: Int), _ header: [UInt8]) throws -> [UInt8] {
        var out = f.bytes
        return try Patch.raw(out: &out, header: header, dataOffset: f.dataOffset)
    }

    @Test(arguments: RNWStrictHeaderTests.cases)
    func readerRefusesWithTheRulesError(_ c: RNWStrictHeaderTests.Case) throws {
        let f = try Self.file()
        let bytes = try Self.withHeader(f, try c.edit(f.header))
        do {
            _ = try readRNW(bytes)
            Issue.record("\(c.name): loaded, expected \(c.expected)")
        } catch let e as RNWError {
            #expect(errorName(e) == c.expected, "\(c.name): \(e)")
        }
    }

    @Test func duplicateKeyNoLongerPicksAModel() throws {
        // JSONDecoder kept the first "dtype" (FLOAT), Python the last (INT64).
        let f = try Self.file()
        let edit = RNWStrictHeaderTests.sub("\"dtype\":\"FLOAT\"", "\"dtype\":\"FLOAT\",\"dtype\":\"INT64\"")
        #expect(throws: RNWError.headerDuplicateKey(path: "tensors[0].dtype", key: "dtype",
                                                    offset: RNWStrictHeaderTests.offset(of: "\"dtype\":\"FLOAT\"", in: f.header) + 16,
                                                    firstValueOffset: RNWStrictHeaderTests.offset(of: "\"dtype\":\"FLOAT\"", in: f.header) + 8)) {
            try readRNW(try Self.withHeader(f, try edit(f.header)))
        }
    }

    /// Every bit of the header flipped and every truncation of it, checksums
    /// fixed: the reader ends in a typed RNWError or a valid model, never a trap.
    @Test func everyHeaderBitFlipAndTruncationIsTypedOrValid() throws {
        let f = try Self.file()
        var outcomes: [String: Int] = [:]
        func run(_ header: [UInt8]) throws {
            do {
                _ = try readRNW(try Self.withHeader(f, header), verify: false)
                outcomes["valid", default: 0] += 1
            } catch let e as RNWError {
                outcomes[errorName(e), default: 0] += 1
            }
        }
        for i in f.header.indices {
            for bit in 0..<8 {
                var h = f.header
                h[i] ^= 1 << bit
                try run(h)
            }
            try run(Array(f.header[0..<max(i, 2)]))
        }
        #expect(outcomes.values.reduce(0, +) == 9 * f.header.count)
        #expect((outcomes["valid"] ?? 0) > 0 && outcomes.count > 10, "\(outcomes)")
    }
}
