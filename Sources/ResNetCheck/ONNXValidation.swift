import ResNetIR
import ResNetShapes

/// Model-level ONNX rules `resnet-check ci` adds to the graph rules and the
/// shape library's per-operator checks: at least as strict as onnx.checker,
/// and stricter where it is lenient (unknown domains, duplicate imports).
public enum ONNXValidation {
    /// IR versions ONNX has defined, up to schemas/onnx.proto's (ONNX 1.23: IR 14).
    public static let irVersions: ClosedRange<Int64> = 3...14
    /// Opset versions that exist for the default domain (ONNX 1.23: 28). The shape checker knows 7-21 (RN007 warns past them).
    public static let defaultOpsets: ClosedRange<Int64> = 1...28
    public static let knownDomains: Set<String> = ["", "ai.onnx"]

    public static func findings(_ model: Model) -> [Diagnostic] {
        var out: [Diagnostic] = []
        if let v = model.irVersion {
            if !irVersions.contains(v) {
                out.append(Diagnostic(.irVersion, node: "model", "ir_version \(v) is outside the versions ONNX defines",
                                      expected: "\(irVersions.lowerBound)...\(irVersions.upperBound)", actual: String(v)))
            }
        } else {
            out.append(Diagnostic(.irVersion, node: "model", "ir_version is missing", expected: "\(irVersions.lowerBound)...\(irVersions.upperBound)", actual: "none"))
        }
        var seen: Set<String> = []
        for o in model.opsetImports {
            let domain = o.domain == "ai.onnx" ? "" : o.domain
            if !seen.insert(domain).inserted {
                out.append(Diagnostic(.opsetImports, node: "model", "opset domain '\(o.domain)' is imported twice", expected: "one import per domain", actual: "2 or more"))
            }
            if domain.isEmpty && !defaultOpsets.contains(o.version) {
                out.append(Diagnostic(.opsetImports, node: "model", "default opset \(o.version) does not exist",
                                      expected: "\(defaultOpsets.lowerBound)...\(defaultOpsets.upperBound)", actual: String(o.version)))
            }
        }
        if !seen.contains("") {
            out.append(Diagnostic(.opsetImports, node: "model", "no import of the default ONNX domain", expected: "an opset_import with domain \"\"", actual: "none"))
        }
        var nodeNames: [String: Int] = [:]
        for (i, n) in model.graph.nodes.enumerated() {
            let label = ShapeInference.label(n, i)
            let domain = n.domain == "ai.onnx" ? "" : n.domain
            // com.microsoft: the operators onnxruntime's quantizer writes, which the shape library knows.
            let known = knownDomains.contains(n.domain) || OperatorArity.knows(n.opType, domain: n.domain)
            if !known || !seen.contains(domain) {
                out.append(Diagnostic(.unknownDomain, node: label, "\(n.opType) is in domain '\(n.domain)', which is \(seen.contains(domain) ? "not one this tool knows" : "not imported")",
                                      expected: "the default ONNX domain", actual: "'\(n.domain)'"))
            }
            if !n.name.isEmpty, let j = nodeNames[n.name] {
                out.append(Diagnostic(.duplicateNodeName, node: label, "node name '\(n.name)' is also node \(j)'s", expected: "unique node names", actual: "nodes \(j) and \(i)"))
            } else if !n.name.isEmpty {
                nodeNames[n.name] = i
            }
        }
        for (what, names) in [("initializer", model.graph.initializers.map(\.name)), ("graph input", model.graph.inputs.map(\.name)),
                              ("graph output", model.graph.outputs.map(\.name))] {
            var seenNames: Set<String> = []
            for name in names where !seenNames.insert(name).inserted {
                out.append(Diagnostic(.duplicateName, node: name, "two \(what)s are named '\(name)'", expected: "unique names", actual: "duplicate"))
            }
        }
        let initializers = Set(model.graph.initializers.map(\.name))
        for v in model.graph.inputs where !initializers.contains(v.name) {
            guard case let .tensor(elem, _)? = v.type?.kind else {
                out.append(Diagnostic(.inputType, node: v.name, "graph input '\(v.name)' declares no tensor type", expected: "a tensor type", actual: "none"))
                continue
            }
            if elem != DataType.float.rawValue {
                out.append(Diagnostic(.inputType, node: v.name, "graph input '\(v.name)' is \(DataType(rawValue: elem)?.description ?? "type \(elem)")",
                                      expected: "FLOAT", actual: DataType(rawValue: elem)?.description ?? String(elem)))
            }
        }
        return out
    }
}
