import ResNetFuzz

// Built by scripts/fuzz with -sanitize=fuzzer and -D FUZZING: libFuzzer supplies
// main() and calls this with each input. A plain build is a replay tool:
// `fuzz-safetensors FILE...` runs each file through the same entry (crash = finding).
#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    FuzzEntry.safetensors.run(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
#else
@main
enum Replay {
    static func main() { FuzzReplay.main(.safetensors) }
}
#endif
