import ResNetKernelsReference

/// A batch run image by image on a plan for one image (BatchSeparability says when that is
/// the same computation): each image's activations stay in the caches from one layer to the
/// next, as at batch 1, instead of the whole batch's passing through them layer by layer.
/// With several plans (one per thread, each single-threaded), threads run whole images side
/// by side and never wait for each other between layers.
extension ExecutionPlanOf {
    /// Outputs of `input` (the whole batch, row-major) computed one image at a time on
    /// `imagePlans`, concatenated along the batch axis. With `seconds` (one entry per step of
    /// a plan for one image), each step's time over the images is added to it: over all images
    /// on one thread, else the threads' sums averaged (each thread's steps take wall time side
    /// by side).
    func runImagewise(_ input: [Float], seconds: UnsafeMutableBufferPointer<Double>?) -> [(name: String, shape: [Int], values: [T])] {
        let images = inputShape[0], perImage = input.count / max(images, 1), threads = imagePlans.count
        let outputSizes = imagePlans[0].outputs.map { $0.1.shape.reduce(1, *) }
        let results = outputSizes.map { UnsafeMutablePointer<T>.allocate(capacity: images * $0) }
        defer { results.forEach { $0.deallocate() } }
        let stepCount = imagePlans[0].steps.count
        let perThread = UnsafeMutablePointer<Double>.allocate(capacity: threads * stepCount)
        perThread.initialize(repeating: 0, count: threads * stepCount)
        defer { perThread.deallocate() }
        // Threads claim the next image as they finish one, so a thread slowed by the machine (a
        // shared core) runs fewer images instead of holding up the batch.
        input.withUnsafeBufferPointer { x in
            DispatchFor.claiming(images, threads: threads) { t, image in
                let plan = imagePlans[t]
                // Sound: thread t writes only its own row of perThread and the rows of the images it claimed.
                let times = seconds == nil ? nil : UnsafeMutableBufferPointer(start: perThread + t * stepCount, count: stepCount)
                plan.load(UnsafeBufferPointer(rebasing: x[(image * perImage)..<((image + 1) * perImage)]))
                plan.runSteps(seconds: times)
                for (k, (_, value)) in plan.outputs.enumerated() {
                    // The Executor built these plans only over runtime-tensor outputs (servesImagewise).
                    guard case let .tensor(id, _) = value else { continue }
                    (results[k] + image * outputSizes[k]).update(from: plan.pointer(id), count: outputSizes[k])
                }
            }
        }
        if let seconds {
            for i in 0..<stepCount { seconds[i] += (0..<threads).reduce(0) { $0 + perThread[$1 * stepCount + i] } / Double(threads) }
        }
        return zip(outputs, zip(results, outputSizes)).map { output, result in
            (output.0, output.1.shape, Array(UnsafeBufferPointer(start: result.0, count: images * result.1)))
        }
    }

    /// Whether a plan for one image can serve a batch: every output a runtime tensor of batch 1.
    var servesImagewise: Bool {
        outputs.allSatisfy { _, value in
            if case let .tensor(_, shape) = value { return shape.first == 1 }
            return false
        }
    }
}
