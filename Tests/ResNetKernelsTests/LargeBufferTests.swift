import Testing
@testable import ResNetKernelsReference

/// LargeBuffer's arena: aligned, disjoint pieces; a chunk freed once the arena has moved past
/// it and its last buffer is gone; a request over half a chunk in a chunk of its own. (Each
/// test has an arena of its own: other suites, running at once, use the shared one.)
struct LargeBufferTests {
    @Test func piecesAreAlignedDisjointAndWritable() {
        let sizes = [0, 1, 3, 16, 1000, 65_537, 1 << 20]
        let arena = HugePageArena()
        let buffers = sizes.map { LargeBuffer<Float>(capacity: $0, arena: arena) }
        for (b, n) in zip(buffers, sizes) {
            #expect(b.capacity == max(n, 1))
            #expect(Int(bitPattern: b.pointer) % 64 == 0)
            #expect(b.inHugePageChunk)
            b.pointer.initialize(repeating: Float(n), count: b.capacity)
        }
        // Each kept its own values: no piece overlaps another.
        for (b, n) in zip(buffers, sizes) {
            #expect(UnsafeBufferPointer(start: b.pointer, count: b.capacity).allSatisfy { $0 == Float(n) })
        }
        let ranges = buffers.map { b in Int(bitPattern: b.pointer)..<(Int(bitPattern: b.pointer) + 4 * b.capacity) }
        for i in ranges.indices { for j in ranges.indices where i < j { #expect(!ranges[i].overlaps(ranges[j])) } }
    }

    @Test func aLargeRequestHasItsOwnChunkFreedWithIt() {
        weak var chunk: AnyObject?
        let arena = HugePageArena()
        do {
            let big = LargeBuffer<UInt8>(capacity: HugePageArena.chunkBytes / 2 + 1, arena: arena)
            chunk = big.chunkObject
            #expect(chunk != nil)
            big.pointer[big.capacity - 1] = 7  // the last byte is the buffer's
            #expect(big.pointer[big.capacity - 1] == 7)
        }
        #expect(chunk == nil)
    }

    @Test func aChunkIsFreedOnceTheArenaMovedOnAndItsBuffersAreGone() {
        weak var first: AnyObject?
        let arena = HugePageArena()
        do {
            let a = LargeBuffer<UInt8>(capacity: 4096, arena: arena)
            first = a.chunkObject
            // Enough pieces to fill the rest of that chunk and move the arena to another.
            var more: [LargeBuffer<UInt8>] = []
            while more.last.map({ $0.chunkObject === first }) ?? true {
                more.append(LargeBuffer<UInt8>(capacity: HugePageArena.chunkBytes / 4, arena: arena))
            }
            #expect(first != nil)  // a and the pieces before the switch still hold it
        }
        #expect(first == nil)
    }
}
