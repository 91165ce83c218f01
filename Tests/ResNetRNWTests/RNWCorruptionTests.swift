import Foundation
import Testing
import ResNetIR
@testable import ResNetRNW

/// Bytes held in memory, lent to tensors like a mapped file.
final class MemoryBytes: ByteRegionOwner, @unchecked Sendable {
    let bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    var byteCount: Int { bytes.count }
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R { try bytes.withUnsafeBytes(body) }
}

/// A small model with float, int64 and string tensors and a tensor attribute.
func tinyModel() -> Model {
    func floats(_ v: [Float]) -> TensorBytes { TensorBytes(v.flatMap { x in withUnsafeBytes(of: x.bitPattern.littleEndian) { Array($0) } }) }
    let w = Tensor(name: "conv.weight", dataType: .float, dims: [2, 1, 1, 1], data: floats([0.5, -2]))
    let b = Tensor(name: "conv.bias", dataType: .float, dims: [2], data: floats([0.25, 1]))
    let shape = Tensor(name: "shape", dataType: .int64, dims: [2], data: TensorBytes([2, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255]))
    let labels = Tensor(name: "labels", dataType: .string, dims: [2], data: .empty, strings: [Array("cat".utf8), [0xff, 0x00]])
    let value = Tensor(name: "value", dataType: .float, dims: [1], data: floats([3]))
    let nodes = [
        Node(name: "conv", opType: "Conv", inputs: ["x", "conv.weight", "conv.bias"], outputs: ["c"],
             attributes: [Attribute(name: "kernel_shape", value: .ints([1, 1])), Attribute(name: "alpha", value: .float(0.1))]),
        Node(name: "k", opType: "Constant", inputs: [], outputs: ["k"], attributes: [Attribute(name: "value", value: .tensor(value))]),
        Node(name: "add", opType: "Add", inputs: ["c", "k"], outputs: ["y"]),
    ]
    let x = ValueInfo(name: "x", type: TypeDescriptor(.tensor(elemType: 1, shape: [.symbol("N"), .known(1), .known(2), .known(2)])))
    let y = ValueInfo(name: "y", type: TypeDescriptor(.tensor(elemType: 1, shape: nil)))
    return Model(irVersion: 8, opsetImports: [OpsetImport(domain: "", version: 17)], producerName: "test",
                 graph: Graph(name: "tiny", nodes: nodes, initializers: [w, b, shape, labels], inputs: [x], outputs: [y]),
                 metadata: [StringPair("k", "v")])
}

/// Writes `model` and returns the file's bytes.
func rnwBytes(_ model: Model = tinyModel(), alignment: Int = 64) throws -> [UInt8] {
    let path = NSTemporaryDirectory() + "rt-rnw-\(UUID().uuidString).rnw"
    defer { try? FileManager.default.removeItem(atPath: path) }
    var options = RNWWriteOptions()
    options.alignment = alignment
    try RNWWriter.write(model, to: path, options: options)
    return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
}

func readRNW(_ bytes: [UInt8], verify: Bool = true) throws -> RNWReadResult {
    let owner = MemoryBytes(bytes)
    return try owner.withUnsafeBytes { try RNWReader.read(bytes: $0, owner: owner, options: RNWReadOptions(verifyData: verify)) }
}

func errorName(_ e: Error) -> String {
    Mirror(reflecting: e).children.first?.label ?? "\(e)"
}

/// Editing helpers that keep every checksum consistent except the one under test.
enum Patch {
    static func le<T: FixedWidthInteger>(_ v: T, into bytes: inout [UInt8], at offset: Int) {
        withUnsafeBytes(of: v.littleEndian) { for (i, b) in $0.enumerated() { bytes[offset + i] = b } }
    }
    static func readLE<T: FixedWidthInteger>(_: T.Type, _ bytes: [UInt8], at offset: Int) -> T {
        bytes[offset..<(offset + MemoryLayout<T>.size)].reversed().reduce(T.zero) { $0 << 8 | T($1) }
    }
    static func fixPreambleCRC(_ bytes: inout [UInt8]) {
        le(CRC32.of(Array(bytes[0..<56])), into: &bytes, at: 56)
    }
    /// Recomputes the file CRC in the trailer.
    static func fixFileCRC(_ bytes: inout [UInt8]) {
        let end = bytes.count - 16
        le(CRC32.of(Array(bytes[0..<end])), into: &bytes, at: end)
    }
    /// Replaces the header JSON (must fit before the data offset), fixing every checksum.
    static func header(_ bytes: [UInt8], _ edit: (inout [String: Any]) -> Void) throws -> [UInt8] {
        var out = bytes
        let h = Int(readLE(UInt64.self, bytes, at: 16))
        let d = Int(readLE(UInt64.self, bytes, at: 32))
        var json = try JSONSerialization.jsonObject(with: Data(bytes[64..<(64 + h)])) as! [String: Any]  // SAFETY: test input we wrote
        edit(&json)
        let text = Array(try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]))
        return try raw(out: &out, header: text, dataOffset: d)
    }
    static func raw(out: inout [UInt8], header text: [UInt8], dataOffset d: Int) throws -> [UInt8] {
        guard 64 + text.count <= d else { throw CocoaError(.fileWriteOutOfSpace) }
        for i in 64..<d { out[i] = 0 }
        out.replaceSubrange(64..<(64 + text.count), with: text)
        le(UInt64(text.count), into: &out, at: 16)
        le(CRC32.of(text), into: &out, at: 24)
        fixPreambleCRC(&out)
        fixFileCRC(&out)
        return out
    }
}

struct RNWCorruptionTests {
    @Test func roundTripKeepsEverything() throws {
        let model = tinyModel()
        let r = try readRNW(try rnwBytes(model))
        let g = r.model.graph
        #expect(g.nodes.map(\.name) == ["conv", "k", "add"])
        #expect(g.initializers.map(\.name) == ["conv.weight", "conv.bias", "shape", "labels"])
        for (a, b) in zip(model.graph.initializers, g.initializers) {
            #expect(a.data.bytesEqual(b.data) && a.dims == b.dims && a.dataType == b.dataType && a.strings == b.strings)
        }
        #expect(g.nodes[0].attribute("alpha")?.float == 0.1)
        #expect(g.nodes[1].attribute("value")?.tensor?.data.array == tinyModel().graph.nodes[1].attribute("value")?.tensor?.data.array)
        guard case let .tensor(_, shape)? = g.inputs[0].type?.kind else { Issue.record("type lost"); return }
        #expect(shape == [.symbol("N"), .known(1), .known(2), .known(2)])
        #expect(r.model.metadata == [StringPair("k", "v")])
        // Tensors are aligned to 64 bytes and borrowed from the file.
        #expect(r.tensors.allSatisfy { $0.offset % 64 == 0 })
        #expect(g.initializers[0].data.isBorrowed)
    }

    @Test func writerIsDeterministic() throws {
        #expect(try rnwBytes() == rnwBytes())
    }

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let expected: String
        let corrupt: @Sendable ([UInt8]) throws -> [UInt8]
        var testDescription: String { name }
    }

    static func field(_ offset: Int, _ value: some FixedWidthInteger & Sendable, fixCRC: Bool = true) -> @Sendable ([UInt8]) -> [UInt8] {
        { b in
            var b = b
            Patch.le(value, into: &b, at: offset)
            if fixCRC { Patch.fixPreambleCRC(&b) }
            return b
        }
    }

    /// Each preamble and trailer field corrupted in turn, then the header's rules.
    static let cases: [Case] = [
        Case(name: "magic", expected: "badMagic") { var b = $0; b[1] = 0x58; return b },
        Case(name: "newer major version", expected: "newerMajorVersion", corrupt: field(8, UInt16(2))),
        Case(name: "flags", expected: "unknownFlags", corrupt: field(12, UInt32(1))),
        Case(name: "header length huge", expected: "headerLengthOutOfRange", corrupt: field(16, UInt64(1) << 40)),
        Case(name: "header length zero", expected: "headerLengthOutOfRange", corrupt: field(16, UInt64(0))),
        Case(name: "header CRC", expected: "headerChecksumMismatch", corrupt: field(24, UInt32(0xDEAD_BEEF))),
        Case(name: "alignment not a power of two", expected: "badAlignment", corrupt: field(28, UInt32(100))),
        Case(name: "alignment too small", expected: "badAlignment", corrupt: field(28, UInt32(8))),
        Case(name: "data offset", expected: "dataOffsetMismatch") { b in
            try field(32, Patch.readLE(UInt64.self, b, at: 32) + 64)(b)
        },
        Case(name: "data length", expected: "fileSizeMismatch") { b in
            try field(40, Patch.readLE(UInt64.self, b, at: 40) + 1)(b)
        },
        Case(name: "data length overflowing", expected: "fileSizeMismatch", corrupt: field(40, UInt64.max)),
        Case(name: "tensor count over the cap", expected: "tensorCountTooLarge", corrupt: field(48, UInt64(10_000_000))),
        Case(name: "tensor count off by one", expected: "tensorCountMismatch") { b in
            try field(48, Patch.readLE(UInt64.self, b, at: 48) + 1)(b)
        },
        Case(name: "preamble CRC", expected: "preambleChecksumMismatch", corrupt: field(56, UInt32(1), fixCRC: false)),
        Case(name: "a length byte, CRC not fixed", expected: "preambleChecksumMismatch", corrupt: field(16, UInt64(99), fixCRC: false)),
        Case(name: "preamble reserved", expected: "reservedNotZero", corrupt: field(60, UInt32(7))),
        Case(name: "end magic", expected: "missingEndMagic") { var b = $0; b[b.count - 1] = 0; return b },
        Case(name: "trailer file CRC", expected: "fileChecksumMismatch") { var b = $0; b[b.count - 16] ^= 0xff; return b },
        Case(name: "trailer reserved", expected: "reservedNotZero") { var b = $0; b[b.count - 12] = 1; return b },
        Case(name: "header padding not zero", expected: "paddingNotZero") { b in
            var b = b
            let h = Int(Patch.readLE(UInt64.self, b, at: 16))
            b[64 + h] = 1  // the first padding byte after the header
            return b
        },
        Case(name: "tensor byte flipped", expected: "tensorChecksumMismatch") { b in
            var b = b
            b[Int(Patch.readLE(UInt64.self, b, at: 32))] ^= 0x40
            return b
        },
        Case(name: "unknown dtype", expected: "unknownDataType") { b in
            try Patch.header(b) { h in h["tensors"] = patchTensor(h, 0) { $0["dtype"] = "FLOAT128" } }
        },
        Case(name: "dims overflowing int64", expected: "invalidDims") { b in
            try Patch.header(b) { h in h["tensors"] = patchTensor(h, 0) { $0["dims"] = [Int64.max, 4] } }
        },
        Case(name: "negative dim", expected: "invalidDims") { b in
            try Patch.header(b) { h in h["tensors"] = patchTensor(h, 0) { $0["dims"] = [-2] } }
        },
        Case(name: "rank over the cap", expected: "rankTooLarge") { b in
            try Patch.header(b) { h in h["tensors"] = patchTensor(h, 0) { $0["dims"] = [Int](repeating: 1, count: 33) } }
        },
        Case(name: "name over the cap", expected: "nameTooLong") { b in
            try Patch.header(b) { h in h["tensors"] = patchTensor(h, 1) { $0["name"] = String(repeating: "n", count: 5000) } }
        },
        Case(name: "length not matching dims", expected: "lengthMismatch") { b in
            try Patch.header(b) { h in h["tensors"] = patchTensor(h, 0) { $0["length"] = 12 } }
        },
        Case(name: "overlapping tensors", expected: "misplacedTensor") { b in
            try Patch.header(b) { h in
                let first = (h["tensors"] as? [[String: Any]])?[0]["offset"] ?? 0
                h["tensors"] = patchTensor(h, 1) { $0["offset"] = first }
            }
        },
        Case(name: "offset past the data section", expected: "misplacedTensor") { b in
            try Patch.header(b) { h in h["tensors"] = patchTensor(h, 1) { $0["offset"] = 1 << 40 } }
        },
        Case(name: "hole between tensors", expected: "misplacedTensor") { b in
            try Patch.header(b) { h in h["tensors"] = patchTensor(h, 1) { t in t["offset"] = (t["offset"] as? Int ?? 0) + 64 } }
        },
        Case(name: "float16 storage on an INT64 tensor", expected: "invalidStorage") { b in
            try Patch.header(b) { h in h["tensors"] = patchTensor(h, 2) { $0["storage"] = "FLOAT16" } }
        },
        Case(name: "CRC not hex", expected: "headerInvalid") { b in
            try Patch.header(b) { h in h["tensors"] = patchTensor(h, 0) { $0["crc32"] = "zzzzzzzz" } }
        },
        Case(name: "required key missing", expected: "headerInvalid") { b in
            try Patch.header(b) { h in h["tensors"] = patchTensor(h, 0) { $0.removeValue(forKey: "dtype") } }
        },
        Case(name: "initializer index out of range", expected: "badTensorReference") { b in
            try Patch.header(b) { h in
                var model = h["model"] as? [String: Any] ?? [:]
                var graph = model["graph"] as? [String: Any] ?? [:]
                graph["initializers"] = [0, 1, 2, 999]
                model["graph"] = graph
                h["model"] = model
            }
        },
        Case(name: "string element not base64", expected: "badBase64") { b in
            try Patch.header(b) { h in h["tensors"] = patchTensor(h, 3) { $0["strings"] = ["%%%", "AA=="] } }
        },
        Case(name: "header not JSON", expected: "headerInvalid") { b in
            var out = b
            return try Patch.raw(out: &out, header: Array("{not json".utf8), dataOffset: Int(Patch.readLE(UInt64.self, b, at: 32)))
        },
        Case(name: "header nested 10,000 deep", expected: "headerTooDeep") { b in
            var out = b
            let deep = Array(String(repeating: "[", count: 10_000).utf8)
            return try Patch.raw(out: &out, header: deep, dataOffset: Int(Patch.readLE(UInt64.self, out, at: 32)))
        },
    ]

    static func patchTensor(_ header: [String: Any], _ i: Int, _ edit: (inout [String: Any]) -> Void) -> [[String: Any]] {
        var tensors = header["tensors"] as? [[String: Any]] ?? []
        edit(&tensors[i])
        return tensors
    }

    /// 64 KiB alignment leaves room after the header, so header edits keep the data offset.
    @Test(arguments: cases)
    func refusedWithItsOwnError(_ c: Case) throws {
        let bytes = try c.corrupt(try rnwBytes(alignment: 65536))
        do {
            _ = try readRNW(bytes)
            Issue.record("\(c.name): loaded, expected \(c.expected)")
        } catch let e as RNWError {
            #expect(errorName(e) == c.expected, "\(c.name): \(e)")
        }
    }

    @Test func newerMinorVersionIsAccepted() throws {
        _ = try readRNW(try Self.field(10, UInt16(9))(try rnwBytes()))
    }

    /// Every prefix of a small file, all of them, ends in an error.
    @Test func truncationAtEveryOffset() throws {
        let bytes = try rnwBytes()
        for n in 0..<bytes.count {
            do {
                _ = try readRNW(Array(bytes[0..<n]))
                Issue.record("prefix of \(n) bytes loaded")
            } catch is RNWError {}
        }
    }

    /// A flipped byte in any tensor is reported with that tensor's name.
    @Test func flippedByteInEveryTensorIsNamed() throws {
        let bytes = try rnwBytes()
        let r = try readRNW(bytes)
        for t in r.tensors where t.length > 0 {
            for offset in [t.offset, t.offset + t.length - 1] {
                var bad = bytes
                bad[offset] ^= 0x01
                #expect(throws: RNWError.self) { try readRNW(bad) }
                do { _ = try readRNW(bad) } catch let e as RNWError {
                    guard case let .tensorChecksumMismatch(name, at, _, _) = e else { Issue.record("\(e)"); continue }
                    #expect(name == t.name && at == t.offset)
                }
                // With data checks skipped the header still loads.
                _ = try readRNW(bad, verify: false)
            }
        }
    }

    @Test func float16StorageWidensExactly() throws {
        var options = RNWWriteOptions()
        options.storeFloat16 = true
        let path = NSTemporaryDirectory() + "rt-rnw-\(UUID().uuidString).rnw"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try RNWWriter.write(tinyModel(), to: path, options: options)
        let r = try RNWReader.read(path: path)
        let w = r.model.graph.initializers[0]
        #expect(w.dataType == .float && w.data.array == tinyModel().graph.initializers[0].data.array, "0.5 and -2 are exact in float16")
        #expect(r.tensors[0].storedAsFloat16 && r.tensors[0].length == 4)
        #expect(r.model.graph.initializers[2].data.count == 16, "INT64 stays as it is")
    }
}
