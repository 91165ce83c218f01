import CParallel

/// Runs `body(0..<count)` on the calling thread and up to count - 1 pool workers, and
/// waits. The pool (CParallel) spins between loops instead of waking a sleeping thread
/// for each: a ResNet inference runs some fifty loops of 0.1-2 ms. Nested calls, and
/// calls while another thread's loop runs, run serially on the calling thread.
public enum DispatchFor {
    public static func concurrent(_ count: Int, _ body: (Int) -> Void) {
        guard count > 1 else {
            if count == 1 { body(0) }
            return
        }
        withoutActuallyEscaping(body) { body in
            var task = body
            withUnsafeMutablePointer(to: &task) { pointer in
                // Sound: rt_parallel_for returns only after every index has run, so `task`
                // (and what it captures) outlives every use of the pointer.
                rt_parallel_for(count, count, { context, index in
                    context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(index)
                }, pointer)
            }
        }
    }

    /// Runs body(thread, item) for every item in 0..<items on up to `threads` threads, each
    /// claiming the next item as it finishes one (a thread slowed by a shared core runs fewer).
    public static func claiming(_ items: Int, threads: Int, _ body: (_ thread: Int, _ item: Int) -> Void) {
        var next = 0
        withUnsafeMutablePointer(to: &next) { counter in
            // Sound: `next` outlives the loop, which returns only after every index has run.
            concurrent(threads) { t in
                while true {
                    let item = rt_claim_next(counter)
                    guard item < items else { break }
                    body(t, item)
                }
            }
        }
    }
}

extension DispatchFor {
    /// Whether one way of splitting a product between threads leaves its busiest thread less
    /// work than another by more than 1/16: each way as (the busiest thread's share of the split
    /// dimension) x (the whole other dimension), in tiles. The margin pays for what the cheaper
    /// split costs besides (B packed twice, B read across cores). False where a product overflows.
    /// One rule for the float narrow products (PackedGemm.narrowShare) and the integer ones
    /// (Int8Gemm.rowSplitBalancesBetter).
    @inlinable
    public static func splitsEvenlier(_ candidate: (share: Int, other: Int), than current: (share: Int, other: Int)) -> Bool {
        let (a, o1) = candidate.share.multipliedReportingOverflow(by: candidate.other)
        let (b, o2) = current.share.multipliedReportingOverflow(by: current.other)
        let (a16, o3) = a.multipliedReportingOverflow(by: 16), (b15, o4) = b.multipliedReportingOverflow(by: 15)
        return !(o1 || o2 || o3 || o4) && a16 < b15
    }
}
