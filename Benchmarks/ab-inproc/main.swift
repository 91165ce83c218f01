// ab-inproc: variants of the executor against each other inside one process, alternating
// round by round (issue 11). A fresh process lands its buffers on other physical pages each
// time, and on a shared host that moved our layers by more than the changes being measured
// (scripts/bench_ab.py: two identical binaries differed by up to 7% in summed layer times);
// here the same plan, the same pages, alternately, within seconds.
//
// A variant is a value of ExperimentSwitch, which code under trial reads (released code
// never does):
// - run-time choices (the default): one plan; before variant v's runs the switch is v;
// - plan-time choices (--plans): a plan per variant, built with the switch at v << 3 (so
//   run-time bits stay clear), then run with it at 0; --reverse builds them in the other
//   order, to tell a variant from the order its memory was allocated in.
// Each round runs each variant once untimed, then once profiled (every step timed), the
// variants in an order rotated round by round; the report gives per step (named by node,
// op and occurrence) and per layer group the median and minimum over rounds. The input is
// one 3x224x224 image of uniform noise.
//
//     swift build -c release --product ab-inproc
//     .build/release/ab-inproc MODEL [--threads T] [--rounds R] [--variants N] [--plans [--reverse]] [--kernels avx512|avx2]
import Foundation
import ResNetExec
import ResNetKernelsReference
import ResNetONNX

let usage = "usage: ab-inproc MODEL [--threads T] [--rounds R] [--variants N] [--plans [--reverse]] [--kernels avx512|avx2]"
var args = CommandLine.arguments.dropFirst()
guard let model = args.popFirst(), !model.hasPrefix("-") else { print(usage); exit(64) }
var threads = 1, rounds = 20, variants = 2, planPerVariant = false, reverse = false
var kernels: KernelSet? = nil
while let a = args.popFirst() {
    switch a {
    case "--threads": threads = Int(args.popFirst() ?? "") ?? threads
    case "--rounds": rounds = Int(args.popFirst() ?? "") ?? rounds
    case "--variants": variants = Int(args.popFirst() ?? "") ?? variants
    case "--plans": planPerVariant = true
    case "--reverse": reverse = true
    case "--kernels":
        switch args.popFirst() {
        case "avx2": kernels = .avx2
        case "avx512": kernels = .avx512
        default: print(usage); exit(64)
        }
    default: print(usage); exit(64)
    }
}
// Run-time variants stay below 8: bit 3 and up are the plan-time ones (--plans).
guard rounds >= 1, variants >= 1, planPerVariant ? variants <= 1 << 20 : variants <= 8, threads >= 1 else { print(usage); exit(64) }

/// Reports an error reading, planning or running the model on stderr and exits 1.
func fail(_ error: Error) -> Never {
    FileHandle.standardError.write(Data("ab-inproc: \(model): \(error)\n".utf8))
    exit(1)
}
let read: ONNXReadResult
do { read = try ONNXReader.read(path: model) } catch { fail(error) }
let options = ExecOptions(kernels: kernels, threads: threads)
let shape = [1, 3, 224, 224]
var plans: [ExecutionPlan] = []
for v in 0..<(planPerVariant ? variants : 1) {
    ExperimentSwitch.value = (reverse ? variants - 1 - v : v) << 3
    do { plans.append(try Executor(model: read.model, options: options).plan(inputShape: shape)) } catch { fail(error) }
}
ExperimentSwitch.value = 0
var rng = SystemRandomNumberGenerator()
let x = (0..<(3 * 224 * 224)).map { _ in Float.random(in: -1...1, using: &rng) }

/// Selects variant v: its plan, and the switch it runs with.
func select(_ v: Int) -> ExecutionPlan {
    ExperimentSwitch.value = planPerVariant ? 0 : v
    return plans[planPerVariant ? v : 0]
}
do { for v in 0..<variants { let plan = select(v); for _ in 0..<2 { _ = try plan.run(x) } } } catch { fail(error) }
var totals = [[Double]](repeating: [], count: variants)
var steps = [[String: [Double]]](repeating: [:], count: variants)
var order: [String] = []  // every step name any variant ran, in first-seen order
for round in 0..<rounds {
    for i in 0..<variants {
        let v = (i + round) % variants
        let plan = select(v)
        let timings: [StepTiming]
        do {
            _ = try plan.run(x)
            timings = try plan.profile(x)
        } catch { fail(error) }
        totals[v].append(timings.reduce(0) { $0 + $1.seconds } * 1e3)
        // A name a plan repeats (two layout copies feeding one node) gets its occurrence appended.
        var seen: [String: Int] = [:]
        for s in timings {
            let base = "\(s.node) \(s.op)", k = seen[base, default: 0]
            seen[base] = k + 1
            let name = k == 0 ? base : "\(base) #\(k + 1)"
            if steps[v][name] == nil && !order.contains(name) { order.append(name) }
            steps[v][name, default: []].append(s.seconds * 1e3)
        }
    }
}
ExperimentSwitch.value = 0

func median(_ a: [Double]) -> Double {
    let s = a.sorted(), h = s.count / 2
    return s.count % 2 == 1 ? s[h] : (s[h - 1] + s[h]) / 2
}
func ms(_ v: Double) -> String { String(format: "%.3f", v) }
for v in 0..<variants {
    let built = planPerVariant ? ", plan built with \((reverse ? variants - 1 - v : v) << 3)" : ""
    print("variant \(v)\(built): summed steps median \(ms(median(totals[v]))) ms, min \(ms(totals[v].min()!))")
}
print("step".padding(toLength: 44, withPad: " ", startingAt: 0) + (0..<variants).map { "   median\($0)     min\($0)" }.joined())
var groups: [String: [Double]] = [:]
for name in order {
    var line = name.padding(toLength: 44, withPad: " ", startingAt: 0)
    // A layer group: the node name up to its first dot ("layer1", "conv1", "fc").
    let group = String(name.prefix { $0 != "." && $0 != " " })
    for v in 0..<variants {
        guard let a = steps[v][name] else { line += "       -         -"; continue }  // a step this variant's plan lacks
        line += "  " + ms(median(a)).leftPadded(8) + "  " + ms(a.min()!).leftPadded(8)
        groups[group, default: [Double](repeating: 0, count: variants)][v] += median(a)
    }
    print(line)
}
for (g, sums) in groups.sorted(by: { $0.key < $1.key }) {
    print("group \(g) (summed medians):" + sums.map { "  " + ms($0) }.joined())
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
