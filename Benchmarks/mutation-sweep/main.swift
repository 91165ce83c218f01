// mutation-sweep MODEL.onnx... --count N --seed S: IR-level mutants of the
// models through the shape checker, the planner and a run (issue 8). Prints
// executions, outcomes by kind, worst time and peak memory. Run it from
// scripts/mutation_sweep.sh; a crash leaves the mutant's id as the last line
// on stderr for replay (--count 1 --first INDEX).
import Glibc
import ResNetIR
import ResNetMutation
import ResNetONNX
import ResNetSystem

var paths: [String] = []
var count = 10_000, seed: UInt64 = 1, first = 0
var args = CommandLine.arguments.dropFirst().makeIterator()
while let a = args.next() {
    switch a {
    case "--count": count = Int(args.next() ?? "") ?? count
    case "--seed": seed = UInt64(args.next() ?? "") ?? seed
    case "--first": first = Int(args.next() ?? "") ?? first
    default: paths.append(a)
    }
}
var models: [(name: String, model: Model)] = []
for p in paths {
    do { models.append((p, try ONNXReader.read(path: p).model)) } catch {
        ProcessInfoLite.writeStandardError("mutation-sweep: \(p): \(error)\n")
    }
}
guard !models.isEmpty else {
    ProcessInfoLite.writeStandardError("usage: mutation-sweep MODEL.onnx... [--count N] [--seed S] [--first I]\n")
    exit(64)
}
var sweep = MutationSweep(models: models)
let verbose = ProcessInfoLite.environment("MUTATION_SWEEP_TRACE") != nil
sweep.onMutant = { id in if verbose { ProcessInfoLite.writeStandardError(id + "\n") } }
let start = ProcessInfoLite.monotonicSeconds()
var total = MutationSweep.Report()
let chunk = 5_000
var done = 0
while done < count {
    let n = min(chunk, count - done)
    // Each chunk is its own sub-seed range so a crash can be replayed from the printed index.
    let r = sweep.run(seed: seed, count: n, offset: first + done)
    total.merge(r)
    done += n
    print("  \(done) / \(count) mutants, \(Int(ProcessInfoLite.monotonicSeconds() - start)) s")
}
let seconds = ProcessInfoLite.monotonicSeconds() - start
print("mutation sweep: \(total.executions) executions over \(models.count) models in \(Int(seconds)) s (seed \(seed))")
print("  mutations applied: " + total.mutations.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
print("  checker, worst severity: " + total.checkerWorst.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
print("  executor: " + total.executor.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
print("  poisoned stepwise runs matching their plain runs (buffers up to 8 MiB): \(total.poisonedRuns)")
print("  worst time per mutant: \(Int(total.worstSeconds * 1000)) ms (\(total.worstMutant))")
print("  peak resident memory: \(total.peakResidentBytes >> 20) MiB")
print("  signals: 0 (the process would not be here otherwise)")
let contradicted = total.executor[MutationSweep.inconsistentPlan] ?? 0, undeclared = total.executor[MutationSweep.undeclaredRead] ?? 0
if contradicted + undeclared > 0 {
    ProcessInfoLite.writeStandardError("mutation-sweep: \(contradicted) plans contradicted themselves (PlanListing.check), \(undeclared) read what their "
                                       + "listing lets go (poisoned run); the first: \(total.firstInconsistent ?? "?")\n")
    exit(1)
}
