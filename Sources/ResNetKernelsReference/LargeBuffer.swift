import CCPU

/// Plan-time memory for the executor's large operands (packed weights, activations, the
/// GEMM workspaces), carved from 32 MiB chunks of transparent huge pages (rt_alloc_huge).
///
/// Why: resnet50's packed weights are 100 MB in some 160 allocations, its activations a few
/// 3 MB buffers; in 4 KiB pages each pass over them misses the TLB once per page and lands on
/// whatever physical pages the process was given, which differ from run to run. In 2 MiB
/// pages, physically contiguous, a chunk costs one TLB entry per 2 MiB and its cache sets are
/// the same in every process. resnet50 on a Zen 4, two plans (chunks, system allocator) in one
/// process run alternately (Benchmarks/ab-inproc --plans, in each order): 1 thread (30 rounds),
/// summed steps 86.6 -> 84.6 and 92.2 -> 89.8 ms (medians); 2 threads (60 rounds), 47.0 -> 46.1
/// and 48.5 -> 47.8 ms, every layer group faster in both orders.
public final class LargeBuffer<Element>: @unchecked Sendable {
    // @unchecked Sendable: the pointer is this buffer's own; who writes it when is the owner's business (as for a plain allocation).
    public let pointer: UnsafeMutablePointer<Element>
    /// Elements the buffer holds (at least 1).
    public let capacity: Int
    /// The chunk the memory lies in (kept alive while this buffer is), or nil when it came from the system allocator.
    private let chunk: HugePageChunk?

    /// `capacity` uninitialised elements, 64-byte aligned. The caller checked the size against its
    /// budget; a size whose bytes overflow an Int is a caller's bug.
    public convenience init(capacity: Int) { self.init(capacity: capacity, arena: HugePageArena.shared) }

    /// From `arena` (tests give one of their own).
    init(capacity: Int, arena: HugePageArena) {
        self.capacity = max(capacity, 1)
        let (bytes, overflow) = self.capacity.multipliedReportingOverflow(by: MemoryLayout<Element>.stride)
        precondition(!overflow, "LargeBuffer of \(capacity) elements: bytes overflow (the caller's budget check failed)")
        if MemoryLayout<Element>.alignment <= HugePageArena.alignment, let (raw, chunk) = arena.take(bytes: bytes) {
            // Sound: the piece's bytes lie inside the chunk (take) and belong to this buffer alone
            // (the arena never hands them out again), so they may be bound to Element.
            pointer = raw.bindMemory(to: Element.self, capacity: self.capacity)
            self.chunk = chunk
        } else {
            pointer = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: max(HugePageArena.alignment, MemoryLayout<Element>.alignment))
                .bindMemory(to: Element.self, capacity: self.capacity)
            chunk = nil
        }
    }

    /// Whether the memory lies in a huge-page chunk (false where none could be had).
    public var inHugePageChunk: Bool { chunk != nil }
    /// The chunk, for tests that watch it being freed.
    var chunkObject: AnyObject? { chunk }

    deinit { if chunk == nil { UnsafeMutableRawPointer(pointer).deallocate() } }
}

/// A run of huge pages; freed when the arena has moved on and no LargeBuffer in it is left.
final class HugePageChunk: @unchecked Sendable {
    // @unchecked Sendable: immutable after init; the memory's users are the LargeBuffers carved from it.
    let base: UnsafeMutableRawPointer
    let bytes: Int
    init?(bytes: Int) {
        guard let base = rt_alloc_huge(bytes) else { return nil }
        self.base = base
        self.bytes = bytes
    }
    deinit { rt_free_huge(base) }
}

/// Hands out 64-byte-aligned pieces of the current chunk (bump allocation; space is never
/// reused: a chunk is freed whole when its last buffer goes). Requests over half a chunk get a
/// chunk of their own. What this keeps beyond the live buffers: the current chunk, for the
/// process's life, and any chunk a long-lived piece still holds (plans built and dropped in
/// turn leave at most the chunks their survivors lie in); with huge pages, a touched 2 MiB
/// page counts whole in RSS.
final class HugePageArena: @unchecked Sendable {
    // @unchecked Sendable: `chunk` and `used` are read and written only with `lock` held.
    static let shared = HugePageArena()
    static let chunkBytes = 32 << 20
    static let hugePage = 2 << 20
    static let alignment = 64
    private let lock: OpaquePointer?
    private var chunk: HugePageChunk?
    private var used = 0
    /// Set once a chunk could not be had: later requests go to the system allocator at once.
    private var exhausted = false

    init() { lock = rt_mutex_create() }
    deinit { if let lock { rt_mutex_destroy(lock) } }

    /// Memory for `bytes`, and the chunk it lies in; nil when no huge-page memory could be had.
    func take(bytes: Int) -> (UnsafeMutableRawPointer, HugePageChunk)? {
        guard let lock else { return nil }
        let (padded, o1) = bytes.addingReportingOverflow(Self.alignment - 1)
        guard !o1 else { return nil }
        let size = padded / Self.alignment * Self.alignment
        if size > Self.chunkBytes / 2 {
            let (whole, o2) = size.addingReportingOverflow(Self.hugePage - 1)
            guard !o2, let own = HugePageChunk(bytes: whole / Self.hugePage * Self.hugePage) else { return nil }
            return (own.base, own)
        }
        rt_mutex_lock(lock)
        defer { rt_mutex_unlock(lock) }
        guard !exhausted else { return nil }
        if chunk == nil || used + size > Self.chunkBytes {
            guard let fresh = HugePageChunk(bytes: Self.chunkBytes) else {
                exhausted = true
                return nil
            }
            chunk = fresh
            used = 0
        }
        guard let current = chunk else { return nil }
        // Sound: used + size <= chunkBytes (checked above), so the piece lies inside the chunk.
        let at = current.base + used
        used += size
        return (at, current)
    }
}
