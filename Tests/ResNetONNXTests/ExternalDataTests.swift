import Foundation
import Testing
import ResNetIR
@testable import ResNetONNX

/// External data must stay inside the model's folder, be a regular file, and
/// have its offset/length inside that file; each refusal has its own error.
struct ExternalDataTests {
    /// A folder holding `weights.bin` (16 floats), a FIFO, a sub-folder, a link
    /// pointing outside and one pointing inside; plus a file outside the folder.
    final class Sandbox {
        let root: String
        let folder: String
        init() throws {
            root = NSTemporaryDirectory() + "rt-ext-\(UUID().uuidString)"
            folder = root + "/model"
            let fm = FileManager.default
            try fm.createDirectory(atPath: folder + "/sub", withIntermediateDirectories: true)
            try Data(floatBytes((0..<16).map(Float.init))).write(to: URL(fileURLWithPath: folder + "/weights.bin"))
            try Data(floatBytes([42])).write(to: URL(fileURLWithPath: root + "/secret.bin"))
            try fm.createSymbolicLink(atPath: folder + "/outside.bin", withDestinationPath: root + "/secret.bin")
            try fm.createSymbolicLink(atPath: folder + "/inside.bin", withDestinationPath: "weights.bin")
            try fm.createSymbolicLink(atPath: folder + "/devzero", withDestinationPath: "/dev/zero")
            #expect(mkfifo(folder + "/fifo", 0o644) == 0)
        }
        deinit { try? FileManager.default.removeItem(atPath: root) }

        /// Writes a model whose one initializer (dims [n], FLOAT) uses these external entries.
        func model(_ entries: [(String, String)], elements: Int64 = 4) throws -> String {
            let path = folder + "/model.onnx"
            let bytes = Proto.model(initializers: [.tensor(dims: [elements], external: entries)]).bytes
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            return path
        }
    }

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let entries: [(String, String)]
        let expected: String
        var testDescription: String { name }
    }

    static let refusals: [Case] = [
        Case(name: "absolute path", entries: [("location", "/etc/passwd")], expected: "externalDataAbsolutePath"),
        Case(name: "backslash absolute path", entries: [("location", "\\etc\\passwd")], expected: "externalDataAbsolutePath"),
        Case(name: "drive letter", entries: [("location", "C:weights.bin")], expected: "externalDataAbsolutePath"),
        Case(name: "parent folder", entries: [("location", "../secret.bin")], expected: "externalDataEscapesFolder"),
        Case(name: "parent folder in the middle", entries: [("location", "sub/../../secret.bin")],
             expected: "externalDataEscapesFolder"),
        Case(name: "symbolic link leading outside", entries: [("location", "outside.bin")],
             expected: "externalDataEscapesFolder"),
        Case(name: "symbolic link to a device", entries: [("location", "devzero")],
             expected: "externalDataEscapesFolder"),
        Case(name: "FIFO", entries: [("location", "fifo")], expected: "externalDataNotRegularFile"),
        Case(name: "directory", entries: [("location", "sub")], expected: "externalDataNotRegularFile"),
        Case(name: "missing file", entries: [("location", "nope.bin")], expected: "externalDataNotFound"),
        Case(name: "no location key", entries: [("offset", "0")], expected: "externalDataMissingLocation"),
        Case(name: "offset past the end", entries: [("location", "weights.bin"), ("offset", "65"), ("length", "0")],
             expected: "externalDataOutOfRange"),
        Case(name: "length past the end", entries: [("location", "weights.bin"), ("offset", "60"), ("length", "16")],
             expected: "externalDataOutOfRange"),
        Case(name: "huge length", entries: [("location", "weights.bin"), ("length", "9223372036854775807")],
             expected: "externalDataOutOfRange"),
        Case(name: "negative offset", entries: [("location", "weights.bin"), ("offset", "-1")],
             expected: "externalDataBadNumber"),
        Case(name: "offset with exponent", entries: [("location", "weights.bin"), ("offset", "1e3")],
             expected: "externalDataBadNumber"),
        Case(name: "offset overflowing Int64", entries: [("location", "weights.bin"), ("offset", "99999999999999999999")],
             expected: "externalDataBadNumber"),
        Case(name: "length not matching dims", entries: [("location", "weights.bin"), ("length", "12")],
             expected: "dataSizeMismatch"),
    ]

    @Test(arguments: refusals)
    func refused(_ c: Case) throws {
        let box = try Sandbox()
        let path = try box.model(c.entries)
        do {
            _ = try ONNXReader.read(path: path)
            Issue.record("\(c.name): loaded, expected \(c.expected)")
        } catch {
            #expect(caseName(error) == c.expected, "\(c.name): \(error)")
        }
    }

    @Test func inBoundsDataLoadsWithoutCopying() throws {
        let box = try Sandbox()
        for location in ["weights.bin", "inside.bin", "./sub/../weights.bin".replacingOccurrences(of: "sub/../", with: "")] {
            let path = try box.model([("location", location), ("offset", "16"), ("length", "16")])
            let t = try ONNXReader.read(path: path).model.graph.initializers[0]
            #expect(t.data.isBorrowed)
            #expect(t.data.array == floatBytes([4, 5, 6, 7]), "\(location)")
        }
    }

    @Test func lengthDefaultsToTheRestOfTheFile() throws {
        let box = try Sandbox()
        let path = try box.model([("location", "weights.bin"), ("offset", "48")])
        #expect(try ONNXReader.read(path: path).model.graph.initializers[0].data.array == floatBytes([12, 13, 14, 15]))
    }

    @Test func bundledFixtureWithExternalData() throws {
        let model = try ONNXReader.read(path: Repo.fixture("external-data")).model
        let weights = try Data(contentsOf: URL(fileURLWithPath: Repo.fixtures + "/external-data/weights.bin"))
        let external = model.graph.initializers.filter { $0.data.count >= 256 }
        #expect(!external.isEmpty)
        #expect(external.reduce(0) { $0 + $1.data.count } <= weights.count)
    }
}
