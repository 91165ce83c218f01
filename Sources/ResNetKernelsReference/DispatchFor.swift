import Dispatch

/// Runs `body(0..<count)` on up to `count` threads and waits (the machine has 2 cores).
public enum DispatchFor {
    public static func concurrent(_ count: Int, _ body: (Int) -> Void) {
        DispatchQueue.concurrentPerform(iterations: count, execute: body)
    }
}
