import ResNetSystem

/// A mapped file lends its bytes to the tensors read from it.
extension MappedFile: ByteRegionOwner {
    public var byteCount: Int { count }
}

/// Something that owns a contiguous, immutable run of bytes for its lifetime:
/// a mapped file, or an allocation a loader made. Tensors hold a region of one
/// so that weights stay where the loader found them (zero copy).
public protocol ByteRegionOwner: AnyObject, Sendable {
    var byteCount: Int { get }
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}

/// An in-memory byte array shared by the tensors that borrow from it
/// (models read from memory: tests, fuzzers).
public final class OwnedBytes: ByteRegionOwner, @unchecked Sendable {
    // @unchecked Sendable: `bytes` is a let of a value type, never mutated.
    public let bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public var byteCount: Int { bytes.count }
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes(body)
    }
}

/// A tensor's raw bytes: either an owned array or a range inside a shared,
/// immutable region (e.g. a memory-mapped model file). Value semantics either way.
public struct TensorBytes: Sendable {
    private enum Storage: @unchecked Sendable {
        // @unchecked: [UInt8] is Sendable; the owner is Sendable by protocol.
        case owned([UInt8])
        case region(any ByteRegionOwner, Range<Int>)
    }
    private let storage: Storage

    public init(_ bytes: [UInt8]) { storage = .owned(bytes) }

    /// A view of `range` inside `owner`; nil if the range is outside its bytes.
    public init?(owner: any ByteRegionOwner, range: Range<Int>) {
        guard range.lowerBound >= 0, range.upperBound <= owner.byteCount else { return nil }
        storage = .region(owner, range)
    }

    public static let empty = TensorBytes([])

    public var count: Int {
        switch storage {
        case let .owned(a): return a.count
        case let .region(_, r): return r.count
        }
    }

    /// True when the bytes live in a shared region (e.g. a mapping), not a private copy.
    public var isBorrowed: Bool {
        if case .region = storage { return true }
        return false
    }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch storage {
        case let .owned(a):
            return try a.withUnsafeBytes(body)
        case let .region(owner, r):
            return try owner.withUnsafeBytes { all in
                // Sound: the initializer checked r ⊆ 0..<owner.byteCount, and the
                // owner's bytes are immutable while it is alive (it is, inside its call).
                try body(UnsafeRawBufferPointer(rebasing: all[r]))
            }
        }
    }

    /// A private copy as an array.
    public var array: [UInt8] { withUnsafeBytes { Array($0) } }

    /// Byte-wise equality (used by round-trip tests and `verify`).
    public func bytesEqual(_ other: TensorBytes) -> Bool {
        guard count == other.count else { return false }
        return withUnsafeBytes { a in other.withUnsafeBytes { b in a.elementsEqual(b) } }
    }
}
