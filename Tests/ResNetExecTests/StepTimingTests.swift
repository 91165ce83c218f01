import Testing
import ResNetExec

/// `bench`'s per-layer profile: each step's median over the profiled runs, the step's other
/// fields from the runs as they are (the same steps in the same order in each run).
struct StepTimingTests {
    static func run(_ seconds: [Double]) -> [StepTiming] {
        seconds.enumerated().map {
            StepTiming(node: "n\($0.offset)", op: $0.offset == 0 ? "Conv" : "Add", macs: 10 * $0.offset, integer: $0.offset == 2,
                       kernel: $0.offset == 0 ? "avx512 shifted rows" : nil, seconds: $0.element)
        }
    }

    @Test func medianOfAnOddCountIgnoresOneSlowRun() {
        let m = StepTiming.medians([Self.run([1, 5, 2]), Self.run([9, 4, 3]), Self.run([2, 6, 1])])
        #expect(m.map(\.seconds) == [2, 5, 2])
        #expect(m.map(\.node) == ["n0", "n1", "n2"] && m.map(\.op) == ["Conv", "Add", "Add"])
        #expect(m.map(\.macs) == [0, 10, 20] && m.map(\.integer) == [false, false, true])
        #expect(m.map(\.kernel) == ["avx512 shifted rows", nil, nil])
    }

    @Test func medianOfAnEvenCountIsTheMiddlePairsMean() {
        let m = StepTiming.medians([Self.run([1, 8]), Self.run([4, 2]), Self.run([100, 4]), Self.run([3, 6])])
        #expect(m.map(\.seconds) == [3.5, 5])
    }

    @Test func oneRunAndNone() {
        #expect(StepTiming.medians([Self.run([0.25, 0.5])]).map(\.seconds) == [0.25, 0.5])
        #expect(StepTiming.medians([]).isEmpty)
    }
}
