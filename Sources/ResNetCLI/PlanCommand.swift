import ArgumentParser
import Foundation
import ResNetExec
import ResNetKernelsReference

/// `resnet-check plan MODEL`: the execution plan as data, without running it (issue 11, item 4).
public struct PlanCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "List the executor's plan for a model: each step's kernel and the tensors it reads and writes (shape, layout, buffer), then check the buffers against them.",
        discussion: """
            The plan is the one `run` and `bench` execute for the same options (kernel set, \
            threads, batch, --exact, --no-winograd, --no-per-image); nothing is run. A batch that \
            runs image by image lists the plan for one image. The check verifies the buffer \
            assignment from the steps' reads and writes alone: every read follows a write, no two \
            tensors share a buffer while both are live, every tensor fits its buffer. Exit 0: \
            consistent; 1: the check found a contradiction (a planner defect: please report it); \
            2: the model or input cannot be planned. JSON keys: schemas/plan-listing.schema.json.
            """)

    public enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    @Argument(help: "Model file (.onnx or .rnw).") public var model: String
    @OptionGroup public var inputs: InputOptions
    @Option(help: "Output format: text or json.") public var format: Format = .text

    public init() {}

    public func validate() throws {
        guard ModelFormat(path: model) != nil else { throw ValidationError("'\(model)' has no known extension (expected .onnx or .rnw)") }
    }

    public func run() throws {
        var violations: [PlanViolation] = []
        try ToolError.run(tool: "resnet-check plan") {
            let options = inputs.execOptions
            let loaded = try ModelFiles.load(model)
            try ModelGate.refuse(loaded.model, path: model, scope: .runnable, consequence: "so it is not planned")
            let (_, shape) = try inputs.load(for: loaded.model, budget: options.memoryBudget)
            let listing = try Executor(model: loaded.model, options: options).plan(inputShape: shape).listing
            violations = listing.check()
            if format == .json {
                let e = JSONEncoder()
                e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                let report = PlanReport(model: model, plan: listing, violations: violations.map(\.description))
                print(String(decoding: try e.encode(report), as: UTF8.self))
            } else {
                print(PlanText.render(listing, model: model, violations: violations), terminator: "")
            }
        }
        if !violations.isEmpty { throw ExitCode(ToolExit.modelWanting) }
    }
}

struct PlanReport: Encodable {
    let model: String
    let plan: PlanListing
    /// The check's findings (PlanListing.check), worded; empty: consistent.
    let violations: [String]
}

/// The plan as text: a header, a paragraph per step (what it reads and writes), the buffers, the check.
enum PlanText {
    static func render(_ p: PlanListing, model: String, violations: [PlanViolation]) -> String {
        var out = "plan for \(model): input '\(p.inputName)' \(shape(p.inputShape)), kernels \(p.kernels), \(p.threads) thread\(p.threads == 1 ? "" : "s")\n"
        if let images = p.images, let plans = p.imagePlans {
            out += "a batch of \(images) runs image by image on \(plans) plan\(plans == 1 ? "" : "s") for one image (\(plans == 1 ? "its steps split over the threads" : "one a thread")); the plan for one image:\n"
        }
        let macs = p.steps.reduce(0) { $0 &+ $1.macs }
        out += "\(p.steps.count) steps, \(p.tensors.count) tensors in \(p.buffers.count) buffers (\(megabytes(p.buffers.reduce(0, +)))); "
        let each = p.imagePlans.map { $0 > 1 ? " for each of the \($0) plans" : "" } ?? ""
        out += "\(megabytes(p.plannedBytes)) planned in all\(each); \(ConvertSummary.format(Double(macs) / 1e9, 3)) GMACs\(p.images == nil ? "" : " an image")\n"
        let width = String(p.steps.count - 1).count
        for s in p.steps {
            let index = String(repeating: " ", count: width - String(s.index).count) + String(s.index)
            out += "\n\(index)  \(s.op)  \(s.node)  runs \(s.work)"
            if let kernel = s.kernel { out += "  [\(kernel)]" }
            if s.macs > 0 { out += "  \(ConvertSummary.format(Double(s.macs) / 1e6, 1))M \(s.integer ? "int8 " : "")MACs" }
            out += "\n"
            for id in s.reads { out += "    reads  " + tensor(p, id) + "\n" }
            for id in s.writes { out += "    writes " + tensor(p, id) + "\n" }
        }
        out += "\nbuffers:\n"
        for (b, bytes) in p.buffers.enumerated() {
            let held = p.tensors.filter { $0.buffer == b && $0.id == $0.root }.map { "t\($0.id)" }
            out += "  b\(b)  \(bytes) bytes: \(held.joined(separator: " "))\n"
        }
        out += "outputs: " + p.outputs.map { o in o.tensor.map { "'\(o.name)' t\($0)" } ?? "'\(o.name)' (a constant)" }.joined(separator: ", ") + "\n"
        if violations.isEmpty {
            out += "check: consistent (every read after a write, no buffer shared by two live tensors, every tensor within its buffer)\n"
        } else {
            out += "check: \(violations.count) contradiction\(violations.count == 1 ? "" : "s")\n"
            for v in violations { out += "  \(v)\n" }
        }
        return out
    }

    /// "t12 '/layer1/layer1.0/relu/Relu_output_0' [1, 64, 56, 56] channels last, b3".
    static func tensor(_ p: PlanListing, _ id: Int) -> String {
        guard p.tensors.indices.contains(id) else { return "t\(id) (not in the plan)" }
        let t = p.tensors[id]
        var text = "t\(id)"
        if let name = t.name { text += " '\(name)'" }
        text += " " + shape(t.shape)
        switch t.storage {
        case .values: if t.name == nil && t.source == nil { text += " scratch" }
        case .input: text += " input"
        case .constant: text += " constant"
        case .channelsLast: text += " channels last"
        case .bytes: text += " bytes" + (t.byteOffset.map { $0 == 0 ? "" : " +\($0)" } ?? "")
        }
        if let source = t.source {
            text += " of t\(source)" + (p.tensors.indices.contains(source) ? p.tensors[source].name.map { " '\($0)'" } ?? "" : "")
        }
        if t.root != t.id { text += ", a view of t\(t.root)" }
        return text + ", b\(t.buffer)"
    }

    static func shape(_ dims: [Int]) -> String { "[" + dims.map(String.init).joined(separator: ", ") + "]" }
    static func megabytes(_ bytes: Int) -> String { ConvertSummary.format(Double(bytes) / 1e6, 1) + " MB" }
}
