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
