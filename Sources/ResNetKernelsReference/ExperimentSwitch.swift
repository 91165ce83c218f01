/// A value an in-process A/B flips between runs (Benchmarks/ab-inproc): kernel code under
/// trial reads it to pick between two variants, so both run on one plan, in one process, on
/// the same physical pages, alternately — on a shared host, fresh processes differ by more
/// than the changes being measured. Released code never reads it: it is 0, always, outside
/// that benchmark, and a trial that is kept is rewritten without it.
public enum ExperimentSwitch {
    /// Read and written only by the benchmark's single thread between runs, and read by kernels during them.
    nonisolated(unsafe) public static var value = 0
}
