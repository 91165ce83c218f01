import Foundation
import ResNetCheck
import ResNetExec
import ResNetIR

/// The run step of `resnet-check ci`: a smoke run, stored outputs, or the original.
extension CICommand {
    func runStep(_ loaded: LoadedModel, _ step: inout CIStep) throws {
        let options = inputs.execOptions
        let exec = Executor(model: loaded.model, options: options)
        let rule = ParityTolerance(atol: atol, rtol: rtol)
        do {
            if let reference {
                let sets = try FileManager.default.contentsOfDirectory(atPath: reference).filter { $0.hasPrefix("test_data_set_") }.sorted()
                guard !sets.isEmpty else { throw InputError("\(reference) has no test_data_set_* folders") }
                var compared = 0
                for set in sets {
                    let dir = reference + "/" + set
                    let x = try InputOptions.readTensor(dir + "/input_0.pb", budget: options.memoryBudget)
                    for (k, o) in try exec.run(x.values, shape: x.shape).enumerated() {
                        let path = dir + "/output_\(k).pb"
                        guard FileManager.default.fileExists(atPath: path) else { continue }
                        let expected = try InputOptions.readTensor(path, budget: options.memoryBudget)
                        compared += 1
                        report(ParityStats(name: o.name, shape: o.shape, actual: o.values, expected: expected.values, tolerance: rule), "\(set)", &step)
                    }
                }
                step.detail = "\(compared) outputs of \(sets.count) stored cases compared (atol \(atol), rtol \(rtol))"
            } else if let against {
                let original = try ModelFiles.load(against)
                if loaded.transforms.isEmpty && original.transforms.isEmpty {
                    step.diagnostics += ModelComparison.differences(loaded.model, original.model, candidate: model, original: against)
                }
                var sized = inputs
                if sized.size == nil { sized.size = 224 }
                let (x, shape) = try sized.load(for: original.model, budget: options.memoryBudget)
                let ya = try exec.run(x, shape: shape)
                let yb = try Executor(model: original.model, options: options).run(x, shape: shape)
                for (a, b) in zip(ya, yb) {
                    report(ParityStats(name: a.name, shape: a.shape, actual: a.values, expected: b.values, tolerance: rule), "seed \(inputs.seed)", &step)
                }
                let lossless = loaded.transforms.isEmpty && original.transforms.isEmpty
                step.detail = "against \(against): \(ya.count) outputs compared on input \(shape)" + (lossless ? "; graph, names, metadata and tensor bytes compared" : " (transforms \(loaded.transforms + original.transforms): outputs only)")
            } else {
                var sized = inputs
                if sized.size == nil { sized.size = 224 }
                let (x, shape) = try sized.load(for: loaded.model, budget: options.memoryBudget)
                let outputs = try exec.run(x, shape: shape)
                for o in outputs {
                    let bad = o.values.filter { !$0.isFinite }.count
                    if bad > 0 {
                        step.diagnostics.append(Diagnostic(.nonFiniteOutput, node: o.name, "\(bad) of \(o.values.count) values of output '\(o.name)' are NaN or infinite on a seeded input",
                                                           expected: "finite values", actual: "\(bad) non-finite"))
                    }
                }
                step.detail = "smoke run on seeded input \(shape): " + outputs.map { "\($0.name) \($0.shape)" }.joined(separator: ", ")
            }
        } catch let e as ExecError {
            step.detail = "refused by the executor before anything ran"
            step.diagnostics.append(Diagnostic(.executorRefused, node: model, e.description))
        }
    }

    /// One output's comparison as a diagnostic when it fails.
    func report(_ s: ParityStats, _ where_: String, _ step: inout CIStep) {
        guard !s.pass else { return }
        step.diagnostics.append(Diagnostic(.outputMismatch, node: s.name,
            "\(where_): \(s.failingElements) of \(s.elements) elements of '\(s.name)' out of tolerance (max abs \(s.maxAbsError), \(s.nanMismatches) NaN and \(s.infMismatches) Inf mismatches)",
            expected: "within atol \(atol) or rtol \(rtol)", actual: "max abs error \(s.maxAbsError)"))
    }
}

/// What differs between a lossless conversion and its original, by name.
public enum ModelComparison {
    public static func differences(_ a: Model, _ b: Model, candidate: String, original: String) -> [Diagnostic] {
        var out: [Diagnostic] = []
        func differ(_ node: String, _ what: String, _ x: String, _ y: String) {
            if out.count < 50 { out.append(Diagnostic(.conversionDiffers, node: node, "\(what) differs from \(original)", expected: y, actual: x)) }
        }
        if a.opsetImports != b.opsetImports { differ("model", "opset imports", "\(a.opsetImports.map { "\($0.domain):\($0.version)" })", "\(b.opsetImports.map { "\($0.domain):\($0.version)" })") }
        if a.irVersion != b.irVersion { differ("model", "ir_version", "\(a.irVersion.map(String.init) ?? "none")", "\(b.irVersion.map(String.init) ?? "none")") }
        if a.producerName != b.producerName { differ("model", "producer_name", a.producerName, b.producerName) }
        if a.metadata != b.metadata { differ("model", "metadata_props", "\(a.metadata.count) entries", "\(b.metadata.count) entries") }
        let ga = a.graph, gb = b.graph
        if ga.nodes.count != gb.nodes.count { differ("graph", "node count", String(ga.nodes.count), String(gb.nodes.count)) }
        for (i, (x, y)) in zip(ga.nodes, gb.nodes).enumerated() {
            let label = x.name.isEmpty ? "node \(i)" : x.name
            if x.opType != y.opType || x.domain != y.domain { differ(label, "operator", "\(x.domain).\(x.opType)", "\(y.domain).\(y.opType)") }
            if x.name != y.name { differ(label, "node name", x.name, y.name) }
            if x.inputs != y.inputs || x.outputs != y.outputs { differ(label, "inputs/outputs", "\(x.inputs) -> \(x.outputs)", "\(y.inputs) -> \(y.outputs)") }
            let ax = x.attributes.map { "\($0.name)=\(signature($0.value))" }, ay = y.attributes.map { "\($0.name)=\(signature($0.value))" }
            if ax != ay { differ(label, "attributes", ax.joined(separator: ", "), ay.joined(separator: ", ")) }
        }
        if ga.inputs.map(\.name) != gb.inputs.map(\.name) { differ("graph", "inputs", "\(ga.inputs.map(\.name))", "\(gb.inputs.map(\.name))") }
        if ga.outputs.map(\.name) != gb.outputs.map(\.name) { differ("graph", "outputs", "\(ga.outputs.map(\.name))", "\(gb.outputs.map(\.name))") }
        func compare(_ t: Tensor, _ u: Tensor) {
            if t.dataType != u.dataType || t.dims != u.dims { differ(t.name, "tensor type", "\(t.dataType) \(t.dims)", "\(u.dataType) \(u.dims)"); return }
            let same = t.data.withUnsafeBytes { p in u.data.withUnsafeBytes { q in p.count == q.count && p.elementsEqual(q) } }
            if !same || t.strings != u.strings { differ(t.name, "tensor bytes", "\(t.data.count) bytes", "\(u.data.count) bytes, different") }
        }
        if ga.initializers.map(\.name) == gb.initializers.map(\.name) {
            // Same names in the same order: pair by position, so duplicated names
            // (which validation refuses, RN023) still compare tensor to tensor.
            for (t, u) in zip(ga.initializers, gb.initializers) { compare(t, u) }
            return out
        }
        let byName = Dictionary(gb.initializers.map { ($0.name, $0) }, uniquingKeysWith: { x, _ in x })
        let names = Set(ga.initializers.map(\.name))
        for t in ga.initializers {
            guard let u = byName[t.name] else { differ(t.name, "tensor", "present", "absent"); continue }
            compare(t, u)
        }
        for u in gb.initializers where !names.contains(u.name) { differ(u.name, "tensor", "absent", "present") }
        return out
    }

    /// An attribute's value by content (a tensor's bytes, not where they are stored), for comparison.
    static func signature(_ v: Attribute.Value) -> String {
        func tensor(_ t: Tensor) -> String {
            "\(t.dataType)\(t.dims):" + t.data.withUnsafeBytes { $0.map { String($0, radix: 16) }.joined(separator: ".") } + "\(t.strings)"
        }
        switch v {
        case let .float(f): return "float \(f.bitPattern)"
        case let .int(i): return "int \(i)"
        case let .string(b): return "string \(b)"
        case let .tensor(t): return "tensor " + tensor(t)
        case let .floats(f): return "floats \(f.map(\.bitPattern))"
        case let .ints(i): return "ints \(i)"
        case let .strings(s): return "strings \(s)"
        case let .tensors(ts): return "tensors " + ts.map(tensor).joined(separator: "|")
        default: return String(describing: v)
        }
    }
}
