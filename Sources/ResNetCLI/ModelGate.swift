import ResNetCheck
import ResNetIR

/// One gate for every entry point (issue 10): what `resnet-check ci` fails on by
/// default — error-severity findings of its integrity, validation and shapes steps —
/// `run` and `parity` refuse before planning, and `resnet-convert` refuses before writing.
enum ModelGate {
    enum Scope {
        /// Integrity and ONNX validation: a file that is malformed as a model.
        /// `resnet-convert` stops here: a well-formed model with a shape defect is
        /// copied faithfully (and `ci` refuses the copy for the same finding).
        case wellFormed
        /// Also every error-severity shape-checker finding: what `run`/`parity` need.
        case runnable
    }

    /// The findings `ci --fail-on error` would fail on, in ci's step order.
    static func errors(_ model: Model, path: String, scope: Scope) -> [Diagnostic] {
        var found = GraphValidation.problems(model.graph).map { Diagnostic(.integrity, node: $0.location, $0.message) }
        found += ONNXValidation.findings(model)
        // Warnings (a duplicated node name) do not stop ci's shapes step, so they do not stop it here.
        if scope == .runnable && !found.contains(where: { $0.severity >= .error }) {
            found += ShapeChecker.check(model, file: path).diagnostics
        }
        return found.filter { $0.severity >= .error }
    }

    /// Throws an InputError (exit 2) naming the first findings and how many there are.
    static func refuse(_ model: Model, path: String, scope: Scope, consequence: String) throws {
        let found = errors(model, path: path, scope: scope)
        guard let first = found.first else { return }
        let more = found.count > 1 ? " (and \(found.count - 1) more: resnet-check ci \(path) lists them)" : ""
        var what = "\(first.code.rawValue) at \(first.node): \(first.message)"
        if let e = first.expected, let a = first.actual { what += " (expected \(e), got \(a))" }
        throw InputError("\(path): \(what)\(more); resnet-check ci refuses this model, \(consequence)")
    }
}
