import CInt8Tiles
import Dispatch
import ResNetKernelsReference

/// The integer tile's own speed on one core, operands in L1: the ceiling `bench` reports
/// integer layers against (the float tile's peak says nothing about vpdpbusd or vpmaddwd).
public enum Int8KernelPeak {
    /// GOP/s (2 per multiply-add) of one full tile over a K slice (512), measured for about
    /// `seconds`; 0 for the reference twin.
    public static func measure(_ tile: Int8Tile, seconds: Double = 0.2) -> Double {
        guard tile != .reference, tile.isSupported else { return 0 }
        // AVX2 on bytes: one of its 16-column tiles.
        let k = Int8Tile.kc, rows = tile.rows, cols = tile == .avx2Bytes ? 16 : tile.columns
        let a8 = [Int8](repeating: 3, count: k * rows), b8 = [UInt8](repeating: 5, count: k * cols)
        let a16 = [Int16](repeating: 3, count: k * rows), b16 = [Int16](repeating: 5, count: k * cols)
        var c = [Int32](repeating: 0, count: rows * cols)
        var best = 0.0
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(seconds * 1e9)
        repeat {
            let reps = 2000
            let start = DispatchTime.now().uptimeNanoseconds
            c.withUnsafeMutableBufferPointer { cp in
                // Sound: A holds k x rows values, B k x cols (groups of kStep, `cols * kStep` apart), C rows x cols.
                for _ in 0..<reps {
                    if tile == .vnni {
                        rt_int8_tile_vnni(k / 4, a8, b8, cols * 4, cp.baseAddress!, cols, Int32(rows), Int32(cols), 1, nil)
                    } else if tile == .avx2Bytes {
                        rt_int8_tile_avx2_bytes(k / 4, a8, b8, cols * 4, cp.baseAddress!, cols, Int32(rows), Int32(cols), 1, nil)
                    } else {
                        rt_int8_tile_avx2(k / 2, a16, b16, cols * 2, cp.baseAddress!, cols, Int32(rows), Int32(cols), 1, nil)
                    }
                }
            }
            let ns = Double(DispatchTime.now().uptimeNanoseconds - start)
            best = max(best, Double(2 * k * rows * cols * reps) / ns)
        } while DispatchTime.now().uptimeNanoseconds < deadline
        return best
    }
}
