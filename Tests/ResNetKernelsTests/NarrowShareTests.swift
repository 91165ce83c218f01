import Testing
import ResNetKernels
@testable import ResNetKernelsReference

/// How a transposed product's tiles are shared out between threads (PackedGemm.narrowShare):
/// every (position panel, channel panel) pair exactly once, and the side split that leaves
/// the busiest thread the fewest tiles, unless the weights are large (channels, each thread
/// reading its own share of them) or positions are fewer than threads.
struct NarrowShareTests {
    typealias Gemm = PackedGemm<AVX2Tile>

    static func shares(_ positions: Int, _ channels: Int, weights: Int, threads: Int) -> [(Range<Int>, Range<Int>)] {
        (0..<threads).map { Gemm.narrowShare(positionPanels: positions, channelPanels: channels, weights: weights, threads: threads, t: $0) }
    }

    @Test func everyTileOnce() {
        for positions in [1, 2, 3, 7, 8, 28, 33] {
            for channels in [1, 2, 3, 16, 17, 64] {
                for threads in [1, 2, 3, 4] {
                    for weights in [1 << 10, 1 << 20] {
                        var count = [Int](repeating: 0, count: positions * channels)
                        for (p, c) in Self.shares(positions, channels, weights: weights, threads: threads) {
                            for i in p { for j in c { count[i * channels + j] += 1 } }
                        }
                        #expect(count.allSatisfy { $0 == 1 }, "P \(positions) C \(channels) T \(threads) weights \(weights)")
                    }
                }
            }
        }
    }

    /// resnet18's layer4 downsample on 2 threads: 7 position panels would go 4 + 3, 16 channel
    /// panels go 8 + 8. 28 position panels split evenly and stay the split (each thread packs
    /// only its own positions), as do 33 (a 14x14 plane in six-row panels: 17 + 16, 3% uneven,
    /// within the 1/16 margin); 9 of them (a 7x7 plane so) go 5 + 4, 11% uneven: channels.
    /// Large weights split channels.
    @Test(arguments: [
        (positions: 7, channels: 16, weights: 131_072, threads: 2, byChannels: true),
        (positions: 28, channels: 8, weights: 32_768, threads: 2, byChannels: false),
        (positions: 7, channels: 3, weights: 1 << 10, threads: 2, byChannels: false),  // 4 x 3 tiles against 2 x 7
        (positions: 7, channels: 64, weights: 1 << 20, threads: 2, byChannels: true),
        (positions: 1, channels: 32, weights: 1 << 10, threads: 2, byChannels: true),
        (positions: 9, channels: 16, weights: 1 << 10, threads: 3, byChannels: false),  // 3 x 16 against 6 x 9
        (positions: 33, channels: 16, weights: 1 << 16, threads: 2, byChannels: false),  // 17 x 16 = 272 against 8 x 33 = 264
        (positions: 9, channels: 32, weights: 1 << 17, threads: 2, byChannels: true),  // 5 x 32 = 160 against 16 x 9 = 144
    ])
    func splitsTheEvenerSide(_ t: (positions: Int, channels: Int, weights: Int, threads: Int, byChannels: Bool)) {
        let first = Gemm.narrowShare(positionPanels: t.positions, channelPanels: t.channels, weights: t.weights, threads: t.threads, t: 0)
        let splitChannels = first.0 == 0..<t.positions && first.1.count < t.channels
        #expect(splitChannels == t.byChannels, "P \(t.positions) C \(t.channels) T \(t.threads): thread 0 takes positions \(first.0), channels \(first.1)")
    }
}
