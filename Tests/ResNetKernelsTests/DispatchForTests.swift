import Dispatch
import Testing
import ResNetKernelsReference

/// The spinning pool behind DispatchFor (CParallel): every index runs exactly once, for
/// loops back to back (where a late worker could claim into the next loop), nested loops
/// and loops started from several threads at once (both run serially on the caller).
struct DispatchForTests {
    /// Runs `loops` loops of `count` indices, each index adding 1 to its own slot.
    static func counts(count: Int, loops: Int, nested: Bool = false) -> [Int] {
        let slots = UnsafeMutablePointer<Int>.allocate(capacity: count * count)
        slots.initialize(repeating: 0, count: count * count)
        defer { slots.deallocate() }
        for _ in 0..<loops {
            DispatchFor.concurrent(count) { i in
                if nested {
                    // Each index owns row i of the slots, so the inner loop's writes never race.
                    DispatchFor.concurrent(count) { j in slots[i * count + j] += 1 }
                } else {
                    slots[i] += 1
                }
            }
        }
        return Array(UnsafeBufferPointer(start: slots, count: nested ? count * count : count))
    }

    @Test(arguments: [0, 1, 2, 3, 7, 64])
    func everyIndexOnce(_ count: Int) {
        #expect(Self.counts(count: count, loops: 2000) == [Int](repeating: 2000, count: count))
    }

    @Test func nestedLoopsRunEveryIndex() {
        #expect(Self.counts(count: 3, loops: 300, nested: true) == [Int](repeating: 300, count: 9))
    }

    @Test func loopsFromSeveralThreads() {
        let callers = 4, loops = 500, count = 2
        let slots = UnsafeMutablePointer<Int>.allocate(capacity: callers * count)
        slots.initialize(repeating: 0, count: callers * count)
        defer { slots.deallocate() }
        // Sound: caller c writes only slots c * count ..< (c + 1) * count.
        DispatchQueue.concurrentPerform(iterations: callers) { c in
            for _ in 0..<loops { DispatchFor.concurrent(count) { i in slots[c * count + i] += 1 } }
        }
        #expect(Array(UnsafeBufferPointer(start: slots, count: callers * count)) == [Int](repeating: loops, count: callers * count))
    }
}
