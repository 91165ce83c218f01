import Foundation
import Testing
import ResNetIR
@testable import ResNetONNX

/// Hostile and malformed ONNX inputs: every case must end in the named error,
/// never a trap, a hang or a large allocation.
struct HostileInputTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let bytes: [UInt8]
        let expected: String
        var testDescription: String { name }
    }

    static let deepNesting: [UInt8] = {
        // Model.graph(7) > Graph.node(1) > Node.attribute(5) > Attribute.g(6) > Graph.node ... 10,000 levels.
        var inner: [UInt8] = []
        for level in 0..<10_000 {
            let field: UInt32 = [1, 5, 6][(9_999 - level) % 3]  // outermost is Graph.node
            inner = Proto.build { $0.data(field, inner) }.bytes
        }
        return Proto.build { $0.data(7, inner) }.bytes
    }()

    static let cases: [Case] = [
        Case(name: "empty file", bytes: [], expected: "emptyFile"),
        Case(name: "one byte: a tag without its value", bytes: [0x08], expected: "malformedVarint"),
        Case(name: "graph length claims 4 GiB", bytes: [0x3a] + Proto.varintBytes(4 << 30) + [0, 0],
             expected: "truncated"),
        Case(name: "graph length claims 2^63", bytes: [0x3a] + Proto.varintBytes(1 << 63), expected: "truncated"),
        Case(name: "varint of 11 bytes", bytes: [0x08] + [UInt8](repeating: 0xff, count: 10) + [0x01],
             expected: "malformedVarint"),
        Case(name: "group wire type 3", bytes: [0x0b, 0x0c], expected: "invalidWireType"),
        Case(name: "wire type 7", bytes: [0x0f, 0x00], expected: "invalidWireType"),
        Case(name: "field number 0", bytes: [0x00, 0x01], expected: "invalidFieldNumber"),
        Case(name: "field number 2^29", bytes: Proto.varintBytes((1 << 29) << 3) + [0x01], expected: "fieldNumberTooLarge"),
        Case(name: "two ir_version fields", bytes: Proto.build { $0.int(1, 8); $0.int(1, 7) }.bytes, expected: "duplicateField"),
        Case(name: "NUL in a node name",
             bytes: Proto.model(attributes: [Proto.build { $0.string(1, "al\u{0}pha"); $0.int(20, 2); $0.int(3, 1) }]).bytes,
             expected: "controlCharacter"),
        Case(name: "newline in a producer name is a control character only where names are",
             bytes: Proto.build { $0.int(1, 8); $0.string(2, "a\nb") }.bytes, expected: "missingGraph"),
        Case(name: "graph sent as a varint", bytes: [0x38, 0x01], expected: "wrongWireType"),
        Case(name: "ir_version sent as bytes", bytes: [0x0a, 0x01, 0x00], expected: "wrongWireType"),
        Case(name: "10,000 nested messages", bytes: deepNesting, expected: "nestingTooDeep"),
        Case(name: "no graph", bytes: Proto.build { $0.int(1, 8) }.bytes, expected: "missingGraph"),
        Case(name: "negative dim",
             bytes: Proto.model(initializers: [.tensor(dims: [-1, 4], raw: [])]).bytes, expected: "invalidDims"),
        Case(name: "dims product overflows int64",
             bytes: Proto.model(initializers: [.tensor(dims: [1 << 40, 1 << 40], raw: [])]).bytes, expected: "invalidDims"),
        Case(name: "dim is Int64.min",
             bytes: Proto.model(initializers: [.tensor(dims: [.min], raw: [])]).bytes, expected: "invalidDims"),
        Case(name: "bytes for dims overflow though elements fit",
             bytes: Proto.model(initializers: [.tensor(dims: [1 << 61], dataType: 11, raw: [])]).bytes,
             expected: "invalidDims"),
        Case(name: "raw_data shorter than dims need",
             bytes: Proto.model(initializers: [.tensor(dims: [2, 2], raw: floatBytes([1, 2]))]).bytes,
             expected: "dataSizeMismatch"),
        Case(name: "raw_data longer than dims need",
             bytes: Proto.model(initializers: [.tensor(dims: [1], raw: floatBytes([1, 2]))]).bytes,
             expected: "dataSizeMismatch"),
        Case(name: "no data for a non-empty tensor",
             bytes: Proto.model(initializers: [.tensor(dims: [3])]).bytes, expected: "dataSizeMismatch"),
        Case(name: "float_data count wrong",
             bytes: Proto.model(initializers: [.tensor(dims: [3], floats: [1, 2])]).bytes, expected: "dataSizeMismatch"),
        Case(name: "unknown data type 99",
             bytes: Proto.model(initializers: [.tensor(dims: [1], dataType: 99, raw: [0])]).bytes,
             expected: "unknownDataType"),
        Case(name: "data type UNDEFINED",
             bytes: Proto.model(initializers: [.tensor(dims: [1], dataType: 0, raw: [0])]).bytes,
             expected: "unknownDataType"),
        Case(name: "negative data type",
             bytes: Proto.model(initializers: [.tensor(dims: [1], dataType: -5, raw: [0])]).bytes,
             expected: "unknownDataType"),
        Case(name: "raw_data and float_data both present",
             bytes: Proto.model(initializers: [.tensor(dims: [1], raw: floatBytes([1]), floats: [1])]).bytes,
             expected: "multipleDataFields"),
        Case(name: "float_data in an INT64 tensor",
             bytes: Proto.model(initializers: [.tensor(dims: [1], dataType: 7, floats: [1])]).bytes,
             expected: "dataFieldMismatch"),
        Case(name: "attribute type 99",
             bytes: Proto.model(attributes: [Proto.build { $0.string(1, "alpha"); $0.int(20, 99) }]).bytes,
             expected: "unknownAttributeType"),
        Case(name: "attribute declares INT but has no i",
             bytes: Proto.model(attributes: [Proto.build { $0.string(1, "axis"); $0.int(20, 2) }]).bytes,
             expected: "attributeTypeMismatch"),
        Case(name: "training_info present",
             bytes: Proto.model(extra: { $0.message(20, Proto()) }).bytes, expected: "unsupportedFeature"),
        Case(name: "external data without a folder",
             bytes: Proto.model(initializers: [.tensor(dims: [1], external: [("location", "w.bin")])]).bytes,
             expected: "externalDataNotFound"),
    ]

    @Test(arguments: cases)
    func refusedWithNamedError(_ c: Case) {
        do {
            _ = try ONNXReader.read(bytes: c.bytes, name: c.name)
            Issue.record("\(c.name): loaded, expected \(c.expected)")
        } catch let error as ONNXError {
            #expect(caseName(error) == c.expected, "\(c.name): \(error)")
            #expect(!String(describing: error).isEmpty)
        } catch {
            Issue.record("\(c.name): unexpected error type \(error)")
        }
    }

    /// A GraphProto body of empty NodeProtos (tag 0x0a, length 0), `bytes` long.
    func emptyNodes(bytes: Int) -> [UInt8] {
        [UInt8]((0..<bytes).map { $0 % 2 == 0 ? 0x0a : 0x00 })
    }

    @Test func manyTinyMessagesHitTheAllocationLimit() {
        // 2 MB of empty NodeProtos: protobuf-c would allocate ~1M structs.
        let graph = emptyNodes(bytes: 2 << 20)
        let bytes = Proto.build { $0.data(7, graph) }.bytes
        var limits = ONNXReadLimits()
        limits.maxDecodedBytes = 32 << 20
        #expect(throws: ONNXError.self) { try ONNXReader.read(bytes: bytes, limits: limits) }
        do { _ = try ONNXReader.read(bytes: bytes, limits: limits) } catch {
            #expect(caseName(error) == "decodedSizeTooLarge")
        }
        limits.maxMessages = 1000
        do { _ = try ONNXReader.read(bytes: bytes, limits: limits) } catch {
            #expect(caseName(error) == "tooManyMessages")
        }
    }

    @Test func defaultLimitScalesWithFileSize() {
        // 8 MB of empty nodes would make protobuf-c allocate ~500 MB: over 64 MiB + 32x the file.
        let graph = emptyNodes(bytes: 8 << 20)
        do {
            _ = try ONNXReader.read(bytes: Proto.build { $0.data(7, graph) }.bytes)
            Issue.record("loaded")
        } catch {
            #expect(caseName(error) == "decodedSizeTooLarge", "\(error)")
        }
    }

    /// Every prefix of a real model: a named error or (cut at a field boundary) a valid load.
    @Test func truncationAtManyOffsets() throws {
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: Repo.fixture("v1.5"))))
        var offsets = Array(0..<min(bytes.count, 3000))
        offsets += stride(from: 3000, to: bytes.count, by: 37)
        var errors = 0, loads = 0
        for n in offsets {
            do {
                _ = try ONNXReader.read(bytes: Array(bytes[0..<n]))
                loads += 1
            } catch is ONNXError {
                errors += 1
            }
        }
        #expect(errors + loads == offsets.count)
        #expect(errors > offsets.count * 9 / 10, "most prefixes cut a field: \(errors) errors, \(loads) loads")
    }

    /// A seeded sweep of random byte changes across a real model.
    @Test func randomByteFlips() throws {
        let original = try Array(Data(contentsOf: URL(fileURLWithPath: Repo.fixture("v1"))))
        var rng = SeededGenerator(seed: 2026)
        var errors = 0
        for _ in 0..<3000 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                // Bias towards the graph structure at the front, where flips matter most.
                let limit = Bool.random(using: &rng) ? min(bytes.count, 4096) : bytes.count
                bytes[Int.random(in: 0..<limit, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            do { _ = try ONNXReader.read(bytes: bytes) } catch is ONNXError { errors += 1 }
        }
        #expect(errors > 0)
    }
}
