import Foundation
import ResNetIR
import ResNetSafetensors
import Testing

struct SafetensorsWriterTests {
    static let tensors = [
        SafetensorsTensor(name: "fc.weight", dtype: .f32, shape: [2, 1], data: TensorBytes([0, 0, 128, 63, 0, 0, 0, 64])),
        SafetensorsTensor(name: "bn1.num_batches_tracked", dtype: .i64, shape: [], data: TensorBytes([7, 0, 0, 0, 0, 0, 0, 0])),
        SafetensorsTensor(name: "empty", dtype: .bf16, shape: [0, 3], data: TensorBytes([])),
        SafetensorsTensor(name: "quote\"and\nnewline", dtype: .u8, shape: [1], data: TensorBytes([9])),
    ]

    @Test func readsBackWhatItWrote() throws {
        let bytes = try SafetensorsWriter.encode(Self.tensors, metadata: [StringPair("format", "pt")])
        let back = try SafetensorsReader.read(bytes: bytes)
        #expect(back.metadata == [StringPair("format", "pt")])
        // Stored widest element first, then by name.
        #expect(back.tensors.map(\.name) == ["bn1.num_batches_tracked", "fc.weight", "empty", "quote\"and\nnewline"])
        for t in Self.tensors {
            let r = try #require(back.tensors.first { $0.name == t.name })
            #expect(r.dtype == t.dtype && r.shape == t.shape && r.data.bytesEqual(t.data))
        }
    }

    @Test func outputIsDeterministicAndAligned() throws {
        let a = try SafetensorsWriter.encode(Self.tensors, metadata: [StringPair("b", "2"), StringPair("a", "1")])
        let b = try SafetensorsWriter.encode(Self.tensors.reversed(), metadata: [StringPair("a", "1"), StringPair("b", "2")])
        #expect(a == b)
        let headerLength = (0..<8).reduce(0) { $0 | Int(a[$1]) << (8 * $1) }
        #expect((8 + headerLength) % 8 == 0, "data section starts 8-byte aligned")
        let header = String(decoding: a[8..<(8 + headerLength)], as: UTF8.self)
        #expect(header.hasPrefix(#"{"__metadata__":{"a":"1","b":"2"},"bn1.num_batches_tracked":{"dtype":"I64","shape":[],"data_offsets":[0,8]}"#))
    }

    /// Every tensor starts at a multiple of its element size in the file, whatever
    /// the names: one of each dtype, with odd element counts and names that would
    /// put the narrow ones first.
    @Test func everyTensorIsAlignedToItsElementSize() throws {
        let tensors = SafetensorsDType.allCases.map { dtype in
            let size = dtype.dataType.byteCount(elements: 1)!
            return SafetensorsTensor(name: (size == 1 ? "a." : "z.") + dtype.rawValue,
                                     dtype: dtype, shape: [3], data: TensorBytes([UInt8](repeating: 1, count: 3 * size)))
        }
        let bytes = try SafetensorsWriter.encode(tensors, metadata: [StringPair("format", "pt")])
        let offsets = try dataOffsets(bytes)
        #expect(offsets.count == tensors.count)
        for t in tensors {
            let size = t.dtype.dataType.byteCount(elements: 1)!
            let begin = try #require(offsets[t.name])
            #expect(begin % size == 0, "\(t.name) at file offset \(begin), element size \(size)")
        }
        #expect(try SafetensorsWriter.encode(tensors.reversed(), metadata: [StringPair("format", "pt")]) == bytes)
    }

    /// Tensor names to file offsets of their first byte, from the header's text.
    func dataOffsets(_ file: [UInt8]) throws -> [String: Int] {
        let n = (0..<8).reduce(0) { $0 | Int(file[$1]) << (8 * $1) }
        let object = try #require(try JSONSerialization.jsonObject(with: Data(file[8..<(8 + n)])) as? [String: Any])
        var out: [String: Int] = [:]
        for (name, entry) in object where name != "__metadata__" {
            let offsets = try #require((entry as? [String: Any])?["data_offsets"] as? [Int])
            out[name] = 8 + n + offsets[0]
        }
        return out
    }

    @Test(arguments: [
        WriteRefusal(name: "two tensors with one name", tensors: [SafetensorsWriterTests.tensors[0], SafetensorsWriterTests.tensors[0]],
                     expected: .duplicateTensorName(name: "fc.weight"), message: "two tensors are named 'fc.weight'"),
        WriteRefusal(name: "data shorter than the shape", tensors: [SafetensorsTensor(name: "w", dtype: .f32, shape: [3], data: TensorBytes([0, 0, 0, 0]))],
                     expected: .tensorDataMismatch(tensor: "w", expected: 12, actual: 4), message: "'w' has 4 bytes"),
        WriteRefusal(name: "a tensor named __metadata__",
                     tensors: [SafetensorsTensor(name: "__metadata__", dtype: .u8, shape: [1], data: TensorBytes([0]))],
                     expected: .reservedTensorName(name: "__metadata__"), message: "reserves for the file's metadata"),
        WriteRefusal(name: "a duplicate metadata key", tensors: [], metadata: [StringPair("format", "pt"), StringPair("format", "np")],
                     expected: .duplicateMetadataKey(key: "format"), message: "two metadata entries have the key 'format'"),
        WriteRefusal(name: "empty shape whose extent overflows",
                     tensors: [SafetensorsTensor(name: "w", dtype: .f32, shape: [0, 1 << 62, 1 << 62], data: TensorBytes([]))],
                     expected: .shapeExtentOverflow(tensor: "w", dtype: "F32", shape: [0, 1 << 62, 1 << 62]), message: "extent"),
    ])
    func refusesWhatCannotBeRead(_ c: WriteRefusal) {
        do {
            _ = try SafetensorsWriter.encode(c.tensors, metadata: c.metadata)
            Issue.record("written")
        } catch let e as SafetensorsError {
            #expect(e == c.expected)
            #expect(e.description.contains(c.message), "\(e)")
            #expect(!e.description.contains("byte 0"))
        } catch {
            Issue.record("untyped error \(error)")
        }
    }

    /// Keys equal under Unicode canonical equivalence but different in bytes
    /// are different keys (as in Python), not duplicates.
    @Test func keysCompareByBytes() throws {
        let kelvin = SafetensorsTensor(name: "\u{212A}", dtype: .u8, shape: [1], data: TensorBytes([1]))
        let k = SafetensorsTensor(name: "K", dtype: .u8, shape: [1], data: TensorBytes([2]))
        let back = try SafetensorsReader.read(bytes: try SafetensorsWriter.encode([kelvin, k]))
        #expect(back.tensors.count == 2)
    }
}

struct WriteRefusal: CustomTestStringConvertible, Sendable {
    let name: String
    let tensors: [SafetensorsTensor]
    var metadata: [StringPair] = []
    let expected: SafetensorsError
    let message: String
    var testDescription: String { name }
}
