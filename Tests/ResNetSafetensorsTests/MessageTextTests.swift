import ResNetIR
import ResNetSafetensors
import ResNetTorchvision
import Testing

/// How a hostile name is shown: every invisible or terminal-controlling scalar escaped.
struct EscapeCase: CustomTestStringConvertible, Sendable {
    let name: String
    let key: String
    /// SafetensorsText.quoted's text.
    let shown: String
    var testDescription: String { name }
}

let escapeCases: [EscapeCase] = [
    EscapeCase(name: "plain ASCII", key: "conv1.weight", shown: "'conv1.weight'"),
    EscapeCase(name: "non-ASCII letters stay", key: "gewicht.\u{E9}", shown: "'gewicht.\u{E9}'"),
    EscapeCase(name: "quote and backslash", key: "a'b\\c", shown: "'a\\'b\\\\c'"),
    EscapeCase(name: "newline, tab, return", key: "a\nb\tc\r", shown: "'a\\nb\\tc\\r'"),
    EscapeCase(name: "escape (C0)", key: "x\u{1B}[2J", shown: "'x\\u{1b}[2J'"),
    EscapeCase(name: "DEL and C1", key: "\u{7F}\u{85}", shown: "'\\u{7f}\\u{85}'"),
    EscapeCase(name: "zero-width space (Cf)", key: "conv1.weight\u{200B}", shown: "'conv1.weight\\u{200b}'"),
    EscapeCase(name: "bidi override (Cf)", key: "fc.\u{202E}thgiew", shown: "'fc.\\u{202e}thgiew'"),
    EscapeCase(name: "byte order mark (Cf)", key: "\u{FEFF}fc.bias", shown: "'\\u{feff}fc.bias'"),
    EscapeCase(name: "soft hyphen (Cf)", key: "fc\u{AD}.bias", shown: "'fc\\u{ad}.bias'"),
    EscapeCase(name: "line separator (Zl)", key: "a\u{2028}b", shown: "'a\\u{2028}b'"),
    EscapeCase(name: "paragraph separator (Zp)", key: "a\u{2029}b", shown: "'a\\u{2029}b'"),
]

struct MessageTextTests {
    @Test(arguments: escapeCases)
    func hostileNamesAreEscaped(_ c: EscapeCase) {
        #expect(SafetensorsText.quoted(c.key) == c.shown)
        // The reader's messages name tensors the same way.
        #expect(SafetensorsError.missingField(tensor: c.key, field: "dtype").description == "tensor \(c.shown) has no \"dtype\"")
    }

    /// A key that differs from an expected one only by an invisible scalar is
    /// shown as different, not as the key it imitates.
    @Test func invisibleSuffixIsShownInStateDictErrors() throws {
        let graph = ArchitectureGraph(ArchitectureOptions(architecture: .resnet18))
        let sd = stateDict(graph).map { t -> Tensor in
            var t = t
            if t.name == "conv1.weight" { t.name = "conv1.weight\u{200B}" }
            return t
        }
        #expect(throws: StateDictError.self) { try StateDictBinding.bind(sd, to: graph) }
        do { _ = try StateDictBinding.bind(sd, to: graph) } catch let e as StateDictError {
            let text = e.description
            #expect(text.contains("Unexpected key(s) in state_dict: \"conv1.weight\\u{200b}\"."), "\(text)")
            #expect(text.contains("Missing key(s) in state_dict: \"conv1.weight\"."), "\(text)")
        }
    }

    @Test(arguments: [
        ([Int64](), "[]"),
        ([2, 3], "[2, 3]"),
        ([1, 2, 3, 4, 5, 6, 7, 8], "[1, 2, 3, 4, 5, 6, 7, 8]"),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9], "[1, 2, 3, 4, 5, 6, 7, 8, … (9 dims)]"),
        ([Int64](repeating: 1, count: 1_000_000), "[1, 1, 1, 1, 1, 1, 1, 1, … (1000000 dims)]"),
    ])
    func shapesAreCapped(_ dims: [Int64], _ shown: String) {
        #expect(MessageText.shape(dims) == shown)
    }

    @Test(arguments: [
        (0, ""), (1, "k0"), (20, (0..<20).map { "k\($0)" }.joined(separator: ", ")),
        (21, (0..<20).map { "k\($0)" }.joined(separator: ", ") + ", … and 1 more"),
        (100_000, (0..<20).map { "k\($0)" }.joined(separator: ", ") + ", … and 99980 more"),
    ])
    func listsAreCapped(_ count: Int, _ shown: String) {
        #expect(MessageText.list((0..<count).map { "k\($0)" }) == shown)
    }

    /// Messages stay short whatever the file holds: the longest shape, the most keys.
    @Test func messagesFromHugeInputsAreCapped() throws {
        let dims = [String](repeating: "1", count: 1_000_000).joined(separator: ",")
        let file = safetensorsFile("{\"w\":{\"dtype\":\"F32\",\"shape\":[\(dims)],\"data_offsets\":[0,8]}}", data: [UInt8](repeating: 0, count: 8))
        do {
            _ = try SafetensorsReader.read(bytes: file)
            Issue.record("accepted")
        } catch let e as SafetensorsError {
            #expect(e.description == "tensor 'w' F32 [1, 1, 1, 1, 1, 1, 1, 1, … (1000000 dims)] needs 4 bytes, data_offsets span 8")
        }

        let graph = ArchitectureGraph(ArchitectureOptions(architecture: .resnet18))
        var sd = stateDict(graph).map { t -> Tensor in
            var t = t
            t.dims = [Int64](repeating: 1, count: 100) + t.dims
            return t
        }
        sd += (0..<100_000).map { Tensor(name: "extra.\($0)", dataType: .float, dims: [], data: TensorBytes([])) }
        do {
            _ = try StateDictBinding.bind(sd, to: graph)
            Issue.record("accepted")
        } catch let e as StateDictError {
            #expect(e.unexpected.count == 100_000 && e.sizeMismatches.count == graph.parameters.count)
            let lines = e.description.split(separator: "\n")
            #expect(e.description.utf8.count < 5_000, "\(e.description.utf8.count) bytes")
            #expect(lines.contains { $0.hasSuffix("\"extra.19\", … and 99980 more.") })
            #expect(lines.contains { $0.hasPrefix("\tsize mismatch for conv1.weight: expected [64, 3, 7, 7], got [1, 1, 1, 1, 1, 1, 1, 1, … (104 dims)].") })
            #expect(lines.last == "\t… and \(graph.parameters.count - 20) more")
        }
    }
}

