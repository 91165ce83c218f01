import Dispatch
import Testing
@testable import ResNetKernelsReference

/// LargeBuffer's arena: aligned, disjoint pieces inside their chunk; a chunk freed once the
/// arena has moved past it and its last buffer is gone; a request over half a chunk in a chunk
/// of its own; pieces taken from several threads at once disjoint. (Each test has an arena of
/// its own: other suites, running at once, use the shared one.)
struct LargeBufferTests {
    /// The chunk `b` lies in (nil when it fell back to the system allocator).
    static func chunk<T>(_ b: LargeBuffer<T>) -> HugePageChunk? { b.chunkObject as? HugePageChunk }

    /// Whether b's bytes lie inside its chunk, whose base is 2 MiB aligned.
    static func insideItsChunk<T>(_ b: LargeBuffer<T>) -> Bool {
        guard let c = chunk(b) else { return false }
        let start = Int(bitPattern: b.pointer) - Int(bitPattern: c.base)
        return Int(bitPattern: c.base) % HugePageArena.hugePage == 0 && start >= 0
            && start + b.capacity * MemoryLayout<T>.stride <= c.bytes
    }

    @Test func piecesAreAlignedDisjointInsideTheirChunkAndWritable() {
        let arena = HugePageArena()
        let sizes = [0, 1, 3, 16, 1000, 65_537, 1 << 20]
        let buffers = sizes.map { LargeBuffer<Float>(capacity: $0, arena: arena) }
        for (b, n) in zip(buffers, sizes) {
            #expect(b.capacity == max(n, 1))
            #expect(Int(bitPattern: b.pointer) % 64 == 0)
            #expect(b.inHugePageChunk)
            #expect(Self.insideItsChunk(b))
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
        weak var chunk: HugePageChunk?
        let arena = HugePageArena()
        do {
            let big = LargeBuffer<UInt8>(capacity: HugePageArena.chunkBytes / 2 + 1, arena: arena)
            chunk = Self.chunk(big)
            #expect(chunk != nil)
            #expect(Self.insideItsChunk(big))
            #expect(chunk.map { $0.bytes >= big.capacity && $0.bytes % HugePageArena.hugePage == 0 } == true)
            // The arena's own chunk is not it: a small piece lands elsewhere.
            let small = LargeBuffer<UInt8>(capacity: 64, arena: arena)
            #expect(Self.chunk(small) !== chunk)
        }
        #expect(chunk == nil)
    }

    @Test func aChunkIsFreedOnceTheArenaMovedOnAndItsBuffersAreGone() {
        weak var first: HugePageChunk?
        let arena = HugePageArena()
        do {
            let a = LargeBuffer<UInt8>(capacity: 4096, arena: arena)
            first = Self.chunk(a)
            // Pieces of a quarter chunk: the fourth cannot fit after `a`, so the arena moves on there.
            var more: [LargeBuffer<UInt8>] = []
            for _ in 0..<4 { more.append(LargeBuffer<UInt8>(capacity: HugePageArena.chunkBytes / 4, arena: arena)) }
            #expect(more.prefix(3).allSatisfy { Self.chunk($0) === first })
            #expect(Self.chunk(more[3]) !== first && Self.chunk(more[3]) != nil)
            for b in more { #expect(Self.insideItsChunk(b)); b.pointer.initialize(repeating: 1, count: b.capacity) }
            withExtendedLifetime((a, more)) {
                #expect(first != nil)  // a and three pieces still hold it
            }
        }
        #expect(first == nil)
    }

    @Test func piecesTakenFromSeveralThreadsAreDisjoint() {
        let arena = HugePageArena()
        let threads = 4, each = 200
        let results = UnsafeMutablePointer<LargeBuffer<Int32>?>.allocate(capacity: threads * each)
        results.initialize(repeating: nil, count: threads * each)
        defer { results.deinitialize(count: threads * each); results.deallocate() }
        // Sound: thread t writes only results[t * each ..< (t + 1) * each].
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            for i in 0..<each {
                let b = LargeBuffer<Int32>(capacity: 1 + (t * each + i) % 5000, arena: arena)
                b.pointer.initialize(repeating: Int32(t * each + i), count: b.capacity)
                results[t * each + i] = b
            }
        }
        let buffers = (0..<(threads * each)).compactMap { results[$0] }
        #expect(buffers.count == threads * each)
        for (i, b) in buffers.enumerated() {
            #expect(UnsafeBufferPointer(start: b.pointer, count: b.capacity).allSatisfy { $0 == Int32(i) })
        }
    }
}
