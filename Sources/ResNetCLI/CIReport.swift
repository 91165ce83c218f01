import Foundation
import ResNetCheck
import ResNetSystem

/// One named step of `resnet-check ci`.
public struct CIStep: Encodable {
    public enum Status: String, Encodable { case passed, failed, skipped }
    public let name: String
    public internal(set) var status: Status
    public internal(set) var seconds: Double
    /// One line on what the step checked.
    public internal(set) var detail: String
    public internal(set) var diagnostics: [Diagnostic]
}

/// The whole gate: every step, and whether the model passes at --fail-on.
public struct CIReport: Encodable {
    public let file: String
    public let failOn: Severity
    public let steps: [CIStep]
    public let pass: Bool

    enum CodingKeys: String, CodingKey { case file, failOn = "fail_on", steps, pass }

    public var diagnostics: [Diagnostic] { steps.flatMap(\.diagnostics) }
}

/// The ci report as text, JSON, JUnit XML or GitHub annotations.
enum CIRendering {
    static func json(_ r: CIReport) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try e.encode(r), as: UTF8.self) + "\n"
    }

    static func text(_ r: CIReport) -> String {
        var out = "\(r.file): \(r.pass ? "PASS" : "FAIL") (fail on \(r.failOn.rawValue))\n"
        for s in r.steps {
            out += "  \(s.name): \(s.status.rawValue) (\(ProcessInfoLite.format("%.2f", s.seconds)) s) \(s.detail)\n"
            for d in s.diagnostics {
                out += "    \(d.severity.rawValue) \(d.code) \(d.node): \(d.message)\n"
                if let e = d.expected, let a = d.actual { out += "      expected \(e), actual \(a)\n" }
            }
        }
        return out
    }

    /// GitHub workflow annotations, one per diagnostic, and a notice with the verdict.
    static func github(_ r: CIReport) -> String {
        let escape = Annotation.escape, property = Annotation.property
        var out = ""
        for s in r.steps {
            for d in s.diagnostics {
                let level = d.severity == .error ? "error" : d.severity == .warning ? "warning" : "notice"
                out += "::\(level) file=\(property(r.file)),title=\(property("\(d.code) \(s.name) \(d.node)"))::\(escape(d.message))\n"
            }
        }
        return out + "::notice file=\(property(r.file)),title=resnet-check ci::\(r.pass ? "pass" : "fail")\n"
    }

    /// JUnit XML: one testcase per step; a step with a diagnostic at or above --fail-on is a failure.
    static func junit(_ r: CIReport) -> String {
        func xml(_ s: String) -> String {
            var out = ""
            for u in s.unicodeScalars {
                switch u {
                case "&": out += "&amp;"
                case "<": out += "&lt;"
                case ">": out += "&gt;"
                case "\"": out += "&quot;"
                case "'": out += "&apos;"
                default:
                    // XML 1.0 allows tab, newline, carriage return and nothing else below 0x20.
                    if u.value < 0x20 && u != "\t" && u != "\n" && u != "\r" { out += "?" } else { out.unicodeScalars.append(u) }
                }
            }
            return out
        }
        let failures = r.steps.filter { $0.status == .failed }.count, skipped = r.steps.filter { $0.status == .skipped }.count
        let total = r.steps.reduce(0) { $0 + $1.seconds }
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<testsuites name=\"resnet-check ci\" tests=\"\(r.steps.count)\" failures=\"\(failures)\" skipped=\"\(skipped)\" time=\"\(ProcessInfoLite.format("%.3f", total))\">\n"
        out += "  <testsuite name=\"\(xml(r.file))\" tests=\"\(r.steps.count)\" failures=\"\(failures)\" skipped=\"\(skipped)\" time=\"\(ProcessInfoLite.format("%.3f", total))\">\n"
        for s in r.steps {
            out += "    <testcase classname=\"resnet-check ci\" name=\"\(xml(s.name))\" time=\"\(ProcessInfoLite.format("%.3f", s.seconds))\">"
            let lines = s.diagnostics.map { "\($0.severity.rawValue) \($0.code) \($0.node): \($0.message)" }.joined(separator: "\n")
            switch s.status {
            case .failed:
                let worst = s.diagnostics.filter { $0.severity >= r.failOn }.first
                out += "\n      <failure message=\"\(xml(worst.map { "\($0.code): \($0.message)" } ?? s.detail))\">\(xml(lines))</failure>\n    "
            case .skipped:
                out += "\n      <skipped message=\"\(xml(s.detail))\"/>\n    "
            case .passed:
                if !lines.isEmpty { out += "\n      <system-out>\(xml(s.detail + "\n" + lines))</system-out>\n    " }
            }
            out += "</testcase>\n"
        }
        return out + "  </testsuite>\n</testsuites>\n"
    }
}
