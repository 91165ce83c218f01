import Foundation
import Testing
import ResNetIR
import ResNetSystem
@testable import ResNetONNX

struct ReadWriteTests {
    static func tempDir() throws -> String {
        let d = NSTemporaryDirectory() + "rt-rw-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    @Test(arguments: Repo.fixtureNames)
    func everyFixtureLoads(_ name: String) throws {
        let result = try ONNXReader.read(path: Repo.fixture(name))
        let g = result.model.graph
        #expect(!g.nodes.isEmpty && !g.initializers.isEmpty)
        #expect(g.inputs.first?.name == "input")
        #expect(result.warnings.isEmpty)
        #expect(result.model.defaultOpsetVersion != nil)
        // raw_data is used in place from the mapped file, never copied.
        for t in g.initializers where t.dataType != .string && t.data.count > 0 && name != "encodings" {
            #expect(t.data.isBorrowed, "\(t.name)")
        }
    }

    @Test func symbolicBatchDimAndAttributesSurvive() throws {
        let g = try ONNXReader.read(path: Repo.fixture("v1.5")).model.graph
        guard case let .tensor(elem, shape)? = g.inputs[0].type?.kind else { Issue.record("no tensor type"); return }
        #expect(elem == DataType.float.rawValue)
        #expect(shape == [.symbol("N"), .known(3), .known(32), .known(32)])
        let conv = try #require(g.nodes.first { $0.name == "layer2.0.conv2" })
        #expect(conv.attribute("strides")?.ints == [2, 2])
        #expect(conv.attribute("kernel_shape")?.ints == [3, 3])
    }

    /// Every typed encoding decodes to the same values as onnx's numpy_helper.
    @Test func typedEncodingsDecode() throws {
        let inits = Dictionary(uniqueKeysWithValues: try ONNXReader.read(path: Repo.fixture("encodings")).model
            .graph.initializers.map { ($0.name, $0) })
        let raw = try #require(inits["raw_f32"]).data.array
        #expect(try #require(inits["float_data"]).data.array == raw, "float_data equals raw_data of the same values")
        func ints<T: FixedWidthInteger>(_ name: String, _: T.Type) throws -> [T] {
            let b = try #require(inits[name]).data.array
            return stride(from: 0, to: b.count, by: MemoryLayout<T>.size).map { i in
                (0..<MemoryLayout<T>.size).reduce(T.zero) { $0 | T(truncatingIfNeeded: b[i + $1]) << (8 * $1) }
            }
        }
        #expect(try ints("int64_data", Int64.self) == [-3, -2, -1, 1, 2, 1 << 40])
        #expect(try ints("uint64_data", UInt64.self) == [0, 1, 2, 3, 4, 1 << 40])
        #expect(try ints("uint32_data", UInt32.self) == [0, 1, 2, 3, 4, 1 << 31])
        #expect(try ints("int32_data", Int32.self) == [-7, 0, 7, 1, 2, 1 << 30])
        #expect(try ints("int8_data", Int8.self) == [-128, -1, 0, 1, 2, 127])
        #expect(try #require(inits["bool_data"]).data.array == [1, 0, 1, 1, 0, 0])
        let floats = stride(from: 0, to: raw.count, by: 4).map { i in
            Float(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(raw[i + $1]) << (8 * UInt32($1)) })
        }
        let halves = try ints("f16_data", UInt16.self).map { Float(Float16(bitPattern: $0)) }
        #expect(zip(halves, floats).allSatisfy { abs($0 - $1) <= abs($1) * 1e-3 })
        let bf16 = try ints("bf16_data", UInt16.self).map { Float(bitPattern: UInt32($0) << 16) }
        #expect(zip(bf16, floats).allSatisfy { abs($0 - $1) <= abs($1) * 1e-2 })
        let doubles = try ints("double_data", UInt64.self).map { Float(Double(bitPattern: $0)) }
        #expect(doubles == floats)
        let labels = try #require(inits["labels"])
        #expect(labels.strings == [Array("cat".utf8), Array("d\u{f6}g".utf8)])
    }

    @Test func writeThenReadKeepsEverything() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let original = try ONNXReader.read(path: Repo.fixture("optA-concat")).model
        for external in [false, true] {
            let out = dir + "/out-\(external).onnx"
            let summary = try ONNXWriter.write(original, to: out, options: ONNXWriteOptions(externalData: external))
            #expect((summary.externalDataPath != nil) == external)
            let back = try ONNXReader.read(path: out).model
            #expect(back.graph.nodes.map(\.name) == original.graph.nodes.map(\.name))
            #expect(back.graph.nodes.map(\.inputs) == original.graph.nodes.map(\.inputs))
            #expect(back.metadata == original.metadata)
            #expect(back.opsetImports == original.opsetImports)
            for (a, b) in zip(original.graph.initializers, back.graph.initializers) {
                #expect(a.name == b.name && a.dims == b.dims && a.dataType == b.dataType)
                #expect(a.data.bytesEqual(b.data), "\(a.name)")
            }
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains(".tmp-") }
            #expect(leftovers.isEmpty)
        }
    }

    @Test func refusesToOverwriteItsInput() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/m.onnx"
        try FileManager.default.copyItem(atPath: Repo.fixture("v1"), toPath: path)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let model = try ONNXReader.read(path: path).model
        #expect(throws: AtomicWriteError.wouldOverwriteInput(path: path)) {
            try ONNXWriter.write(model, to: path, protectedInputs: [path])
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }

    /// A failed write leaves neither the destination nor a temporary file.
    @Test func failedWriteLeavesNoFile() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A 2.2 GB sparse file: mapping it costs nothing, and as one inline
        // tensor it is over protobuf's 2 GiB limit, found before any byte is written.
        let bigPath = dir + "/big.bin"
        #expect(FileManager.default.createFile(atPath: bigPath, contents: nil))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: bigPath))
        try handle.truncate(atOffset: 2_200_000_000)
        try handle.close()
        let big = try MappedFile(path: bigPath)
        let tensor = Tensor(name: "big", dataType: .uint8, dims: [Int64(big.count)],
                            data: try #require(TensorBytes(owner: big, range: 0..<big.count)))
        let model = Model(opsetImports: [OpsetImport(domain: "", version: 17)],
                          graph: Graph(name: "g", initializers: [tensor]))
        let out = dir + "/out.onnx"
        #expect(throws: ONNXError.self) { try ONNXWriter.write(model, to: out) }
        let names = try FileManager.default.contentsOfDirectory(atPath: dir)
        #expect(names == ["big.bin"], "left behind: \(names)")
    }
}
