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
        #expect(back.tensors.map(\.name) == Self.tensors.map(\.name).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
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

    @Test func refusesWhatCannotBeRead() {
        let twice = [Self.tensors[0], Self.tensors[0]]
        #expect(throws: SafetensorsError.duplicateTensorName(name: "fc.weight")) { try SafetensorsWriter.encode(twice) }
        let short = SafetensorsTensor(name: "w", dtype: .f32, shape: [3], data: TensorBytes([0, 0, 0, 0]))
        #expect(throws: SafetensorsError.tensorDataMismatch(tensor: "w", expected: 12, actual: 4)) { try SafetensorsWriter.encode([short]) }
        let named = SafetensorsTensor(name: "__metadata__", dtype: .u8, shape: [1], data: TensorBytes([0]))
        #expect(throws: SafetensorsError.duplicateTensorName(name: "__metadata__")) { try SafetensorsWriter.encode([named]) }
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
