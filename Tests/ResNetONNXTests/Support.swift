import Foundation
import ResNetIR
@testable import ResNetONNX

/// Repository paths for tests.
enum Repo {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let fixtures = root + "/fixtures"
    static func fixture(_ name: String) -> String { "\(fixtures)/\(name)/model.onnx" }
    static var fixtureNames: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: fixtures)) ?? [])
            .filter { FileManager.default.fileExists(atPath: fixture($0)) }.sorted()
    }
}

/// Hand-assembled protobuf bytes, for inputs no well-behaved writer produces.
struct Proto {
    var bytes: [UInt8] = []

    static func varintBytes(_ v: UInt64) -> [UInt8] {
        var out: [UInt8] = []
        var v = v
        while v >= 0x80 { out.append(UInt8(v & 0x7f) | 0x80); v >>= 7 }
        out.append(UInt8(v))
        return out
    }

    func tag(_ field: UInt32, _ wire: UInt64) -> [UInt8] { Proto.varintBytes(UInt64(field) << 3 | wire) }

    mutating func int(_ field: UInt32, _ v: Int64) { bytes += tag(field, 0) + Proto.varintBytes(UInt64(bitPattern: v)) }
    mutating func data(_ field: UInt32, _ b: [UInt8]) { bytes += tag(field, 2) + Proto.varintBytes(UInt64(b.count)) + b }
    mutating func string(_ field: UInt32, _ s: String) { data(field, Array(s.utf8)) }
    mutating func message(_ field: UInt32, _ m: Proto) { data(field, m.bytes) }
    mutating func floats(_ field: UInt32, _ values: [Float]) {
        data(field, values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } })
    }

    static func build(_ body: (inout Proto) -> Void) -> Proto {
        var p = Proto()
        body(&p)
        return p
    }

    /// TensorProto fields: dims 1, data_type 2, float_data 4, name 8, raw_data 9, external_data 13, data_location 14.
    static func tensor(name: String = "w", dims: [Int64], dataType: Int64 = 1, raw: [UInt8]? = nil,
                       floats: [Float]? = nil, external: [(String, String)]? = nil) -> Proto {
        build { t in
            for d in dims { t.int(1, d) }
            t.int(2, dataType)
            t.string(8, name)
            if let raw { t.data(9, raw) }
            if let floats { t.floats(4, floats) }
            if let external {
                for (k, v) in external { t.message(13, build { $0.string(1, k); $0.string(2, v) }) }
                t.int(14, 1)
            }
        }
    }

    /// A valid ModelProto: y = Relu(x), with optional extra initializers and node attributes.
    static func model(initializers: [Proto] = [], attributes: [Proto] = [], extra: (inout Proto) -> Void = { _ in }) -> Proto {
        build { m in
            m.int(1, 8)
            m.message(8, build { $0.string(1, ""); $0.int(2, 17) })
            m.message(7, build { g in
                g.message(1, build { n in
                    n.string(1, "x"); n.string(2, "y"); n.string(3, "relu"); n.string(4, "Relu")
                    for a in attributes { n.message(5, a) }
                })
                g.string(2, "g")
                for t in initializers { g.message(5, t) }
                g.message(11, build { $0.string(1, "x") })
                g.message(12, build { $0.string(1, "y") })
            })
            extra(&m)
        }
    }
}

/// A small deterministic generator (SplitMix64) so sweeps are repeatable.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func floatBytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
}

/// The case name of an error, e.g. "dataSizeMismatch", for table assertions.
func caseName(_ error: Error) -> String {
    let text = String(describing: Mirror(reflecting: error).children.first?.label ?? "\(error)")
    return text
}
