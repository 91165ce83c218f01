import ArgumentParser
import Foundation
import ResNetExec
import ResNetKernelsReference
import ResNetSystem

extension KernelSet: ExpressibleByArgument {}

/// `resnet-check bench MODEL`: latency, throughput and a per-layer profile (issue 11).
public struct BenchCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time a model on the executor: latency percentiles, images/s, GFLOP/s against the micro-kernel's peak, and the slowest layers.",
        discussion: """
            The plan is built once (weights packed for the kernel set), then run --warmup times \
            untimed and --runs times timed; then --profile-runs profiled runs time every step, \
            each step's time the median over them (one slow spell of a shared host moves a mean \
            of three by a third: resnet18's downsamples read 62-82% of peak so). GFLOP/s \
            counts 2 per multiply-add of Conv, Gemm and MatMul. The peak is the selected \
            micro-kernel's own speed on one core (A and B in L1), measured in this run, times \
            --threads; an int8 model's integer layers are rated against the integer tile's own \
            peak (GOP/s), measured likewise. JSON keys: schemas/bench-report.schema.json.
            """)

    public enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    @Argument(help: "Model file (.onnx or .rnw).") public var model: String
    @OptionGroup public var inputs: InputOptions
    @Option(help: "Untimed runs first.") public var warmup: Int = 3
    @Option(help: "Timed runs.") public var runs: Int = 20
    @Option(help: "Layers listed in the profile, slowest first.") public var top: Int = 10
    @Option(help: "Profiled runs; each step's time is its median over them.") public var profileRuns: Int = 5
    @Option(help: "Output format: text or json.") public var format: Format = .text

    public init() {}

    public func validate() throws {
        guard ModelFormat(path: model) != nil else { throw ValidationError("'\(model)' has no known extension (expected .onnx or .rnw)") }
        guard warmup >= 0, runs >= 1, runs <= 100_000, top >= 0 else { throw ValidationError("--warmup >= 0, 1 <= --runs <= 100000, --top >= 0") }
        guard profileRuns >= 1, profileRuns <= 1_000 else { throw ValidationError("--profile-runs must be within 1...1000 (got \(profileRuns))") }
    }

    public func run() throws {
        try ToolError.run(tool: "resnet-check bench") {
            let options = inputs.execOptions
            let loaded = try ModelFiles.load(model)
            try ModelGate.refuse(loaded.model, path: model, scope: .runnable, consequence: "so bench does not run it")
            let (x, shape) = try inputs.load(for: loaded.model, budget: options.memoryBudget)
            let executor = Executor(model: loaded.model, options: options)
            let plan = try executor.plan(inputShape: shape)
            for _ in 0..<warmup { _ = try plan.run(x) }
            var times: [Double] = []
            for _ in 0..<runs {
                let start = ProcessInfoLite.monotonicSeconds()
                _ = try plan.run(x)
                times.append(ProcessInfoLite.monotonicSeconds() - start)
            }
            // --top 0 lists no layers: nothing to profile (bench_compare's rounds ask so).
            let profiled = top > 0 ? profileRuns : 0
            let profiles = try (0..<profiled).map { _ in try plan.profile(x) }
            let perStep = StepTiming.medians(profiles)
            let peakPerCore = KernelPeakGFLOPs.measure(options.kernels)
            // The integer tile's own peak, where the plan runs it (an int8 model's convs).
            let integerPeak = plan.integerMacs > 0 ? KernelPeakGFLOPs.measureInteger(options.kernels) : nil
            let report = BenchReport.make(model: model, shape: shape, options: options, times: times, warmup: warmup,
                                          macs: plan.macs, integerMacs: plan.integerMacs,
                                          steps: perStep, profileRuns: profiled,
                                          peakPerCore: peakPerCore, integerPeakPerCore: integerPeak, top: top,
                                          schedule: plan.runsImagewise ? .perImage : .batched,
                                          batchedReason: plan.runsImagewise || shape.first ?? 1 <= 1 ? nil : executor.batchedReason(inputShape: shape))
            if format == .json {
                let e = JSONEncoder()
                e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try e.encode(report), as: UTF8.self))
            } else {
                print(report.text, terminator: "")
            }
        }
    }
}

/// What `bench` reports (JSON names via CodingKeys; schemas/bench-report.schema.json).
struct BenchReport: Encodable {
    struct Layer: Encodable {
        let node: String, op: String, milliseconds: Double, share: Double, gflopsPerSecond: Double, percentOfPeak: Double?
        /// The step's multiply-adds ran on the integer tile: its rate is GOP/s against that tile's peak.
        let integer: Bool
        /// The kernel and algorithm the plan chose (convolutions and quantized products), else nil.
        let kernel: String?
        enum CodingKeys: String, CodingKey {
            case node, op, milliseconds, share, integer, kernel
            case gflopsPerSecond = "gflops_per_second", percentOfPeak = "percent_of_peak"
        }
    }
    let model: String, inputShape: [Int], kernels: String, threads: Int, runs: Int, warmup: Int, profileRuns: Int
    let p50Milliseconds: Double, p90Milliseconds: Double, minMilliseconds: Double
    let imagesPerSecond: Double, gmacs: Double, gflopsPerSecond: Double
    let kernelPeakGflopsPerCore: Double, kernelPeakInt8GopsPerCore: Double?, percentOfPeak: Double?, peakRSSBytes: Int
    let layers: [Layer]
    /// How a batch ran: image by image on plans for one image, or as one batched plan (and why).
    enum Schedule: String, Encodable { case perImage = "per-image", batched }
    let schedule: Schedule, batchedReason: String?

    enum CodingKeys: String, CodingKey {
        case model, kernels, threads, runs, warmup, gmacs, layers, schedule
        case batchedReason = "batched_reason", profileRuns = "profile_runs"
        case inputShape = "input_shape", p50Milliseconds = "p50_ms", p90Milliseconds = "p90_ms", minMilliseconds = "min_ms"
        case imagesPerSecond = "images_per_second", gflopsPerSecond = "gflops_per_second"
        case kernelPeakGflopsPerCore = "kernel_peak_gflops_per_core", kernelPeakInt8GopsPerCore = "kernel_peak_int8_gops_per_core"
        case percentOfPeak = "percent_of_peak", peakRSSBytes = "peak_rss_bytes"
    }

    /// Percent of peak: float multiply-adds against the float tile's peak, integer ones against
    /// the integer tile's (`integerPeakPerCore`); for the whole run, the time both would take at
    /// their peaks over p50.
    static func make(model: String, shape: [Int], options: ExecOptions, times: [Double], warmup: Int, macs: Int, integerMacs: Int = 0,
                     steps: [StepTiming], profileRuns: Int, peakPerCore: Double, integerPeakPerCore: Double? = nil, top: Int,
                     schedule: Schedule = .batched, batchedReason: String? = nil) -> BenchReport {
        let sorted = times.sorted()
        func percentile(_ q: Double) -> Double { sorted[min(sorted.count - 1, Int((q * Double(sorted.count - 1)).rounded()))] }
        let p50 = percentile(0.5)
        let flops = 2 * Double(macs)
        let threads = Double(options.threads)
        let peak = peakPerCore * threads, integerPeak = (integerPeakPerCore ?? 0) * threads
        let total = steps.reduce(0) { $0 + $1.seconds }
        let layers = steps.sorted { $0.seconds > $1.seconds }.prefix(top).map { s -> Layer in
            let g = s.seconds > 0 ? 2 * Double(s.macs) / s.seconds / 1e9 : 0
            let layerPeak = s.integer ? integerPeak : peak
            return Layer(node: s.node, op: s.op, milliseconds: s.seconds * 1e3, share: total > 0 ? s.seconds / total : 0,
                         gflopsPerSecond: g, percentOfPeak: layerPeak > 0 && s.macs > 0 ? 100 * g / layerPeak : nil, integer: s.integer,
                         kernel: s.kernel)
        }
        let gflops = p50 > 0 ? flops / p50 / 1e9 : 0
        // Seconds the run's multiply-adds take at the peaks (nil where a peak is unknown).
        let floatOps = 2 * Double(macs - integerMacs), integerOps = 2 * Double(integerMacs)
        let idealSeconds: Double? = (floatOps > 0 && peak <= 0) || (integerOps > 0 && integerPeak <= 0) ? nil
            : (floatOps > 0 ? floatOps / (peak * 1e9) : 0) + (integerOps > 0 ? integerOps / (integerPeak * 1e9) : 0)
        return BenchReport(model: model, inputShape: shape, kernels: options.kernels.rawValue, threads: options.threads, runs: times.count,
                           warmup: warmup, profileRuns: profileRuns, p50Milliseconds: p50 * 1e3, p90Milliseconds: percentile(0.9) * 1e3, minMilliseconds: sorted[0] * 1e3,
                           imagesPerSecond: p50 > 0 ? Double(shape.first ?? 1) / p50 : 0, gmacs: Double(macs) / 1e9, gflopsPerSecond: gflops,
                           kernelPeakGflopsPerCore: peakPerCore, kernelPeakInt8GopsPerCore: integerPeakPerCore,
                           percentOfPeak: idealSeconds.flatMap { p50 > 0 && $0 > 0 ? 100 * $0 / p50 : nil },
                           peakRSSBytes: ProcessInfoLite.peakResidentBytes(), layers: Array(layers), schedule: schedule, batchedReason: batchedReason)
    }

    var text: String {
        func f(_ v: Double, _ d: Int = 1) -> String { ProcessInfoLite.format("%.\(d)f", v) }
        var out = "\(model): input \(inputShape), \(kernels) kernels, \(threads) thread(s), \(runs) runs after \(warmup) warm-up\n"
        if (inputShape.first ?? 1) > 1 {
            out += schedule == .perImage ? "  batch run image by image (each thread its own images)\n"
                : "  batch run layer by layer as one plan" + (batchedReason.map { " (\($0))" } ?? "") + "\n"
        }
        out += "  latency p50 \(f(p50Milliseconds, 2)) ms, p90 \(f(p90Milliseconds, 2)) ms, min \(f(minMilliseconds, 2)) ms; \(f(imagesPerSecond)) images/s\n"
        out += "  \(f(gmacs, 3)) GMACs, \(f(gflopsPerSecond)) GFLOP/s"
        if let percentOfPeak {
            out += " = \(f(percentOfPeak))% of the micro-kernel's \(f(kernelPeakGflopsPerCore)) GFLOP/s"
            if let kernelPeakInt8GopsPerCore { out += " (integer tile: \(f(kernelPeakInt8GopsPerCore)) GOP/s)" }
            out += " per core x \(threads)"
        }
        out += "; peak RSS \(peakRSSBytes / 1_048_576) MiB\n"
        if profileRuns > 0 { out += "  slowest layers (median of \(profileRuns) profiled run\(profileRuns == 1 ? "" : "s")):\n" }
        for l in layers {
            out += "    \(f(l.milliseconds, 2)) ms  \(f(100 * l.share))%  \(l.op) \(l.node)"
            if l.gflopsPerSecond > 0 { out += "  \(f(l.gflopsPerSecond)) \(l.integer ? "GOP/s (int8)" : "GFLOP/s")" }
            if let p = l.percentOfPeak { out += " (\(f(p))% of peak)" }
            if let kernel = l.kernel { out += "  [\(kernel)]" }
            out += "\n"
        }
        return out
    }
}
