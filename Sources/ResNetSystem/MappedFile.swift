/// A regular file mapped read-only into memory for as long as this object lives.
///
/// Model weights are used in place from the mapping: a tensor keeps the
/// `MappedFile` alive through `ByteRegion`, so nothing is copied on load.
public final class MappedFile: @unchecked Sendable {
    // @unchecked Sendable: the mapping is read-only (PROT_READ) and immutable for
    // the object's lifetime, so sharing it between threads is safe.
    public let path: String
    public let count: Int
    private let base: UnsafeRawPointer?

    /// Opens and maps `path`. Refuses anything but a regular file (a FIFO or a
    /// device could block or never end), naming what it found.
    public init(path: String, noFollow: Bool = false) throws {
        let fd = try Sys.open(path, write: false, noFollow: noFollow)
        defer { Sys.close(fd) }
        let (kind, size) = try Sys.fstat(fd, path: path)
        guard kind == .regular else { throw MappedFileError.notRegularFile(path: path, kind: kind) }
        self.path = path
        self.count = size
        // mmap refuses a zero length; an empty file simply has no bytes.
        self.base = size == 0 ? nil : try Sys.mapReadOnly(fd, size: size, path: path)
    }

    deinit {
        if let base { Sys.unmap(base, size: count) }
    }

    /// Hints that the file will be read front to back (sequential read-ahead).
    public func adviseSequential() {
        if let base { Sys.adviseSequential(base, size: count) }
    }

    /// Calls `body` with the file's bytes.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        // Sound: `base` maps `count` readable bytes until deinit, and `self` is
        // alive for the duration of the call.
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }
}

public enum MappedFileError: Error, CustomStringConvertible, Equatable {
    case notRegularFile(path: String, kind: FileKind)
    public var description: String {
        switch self {
        case let .notRegularFile(path, kind): return "'\(path)' is a \(kind.rawValue), expected a regular file"
        }
    }
}

/// Filesystem queries used by loaders that resolve paths found inside model files.
public enum FilePaths {
    /// The object kind at `path` (not following a final link), or nil if nothing is there.
    public static func kind(at path: String) throws -> FileKind? { try Sys.lstatKind(path) }
    /// The canonical absolute path with every symbolic link resolved.
    public static func resolved(_ path: String) throws -> String { try Sys.realPath(path) }
    /// The folder part of a path ("." for a bare file name).
    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }
    /// The last component of a path.
    public static func fileName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}

/// Process facts the CLI and benchmarks report.
public enum ProcessInfoLite {
    public static func peakResidentBytes() -> Int { Sys.peakResidentBytes() }
    public static func physicalMemoryBytes() -> Int? { Sys.physicalMemoryBytes() }
    public static func monotonicSeconds() -> Double { Sys.monotonicSeconds() }
    public static func isTerminal(fileDescriptor fd: Int32) -> Bool { Sys.isTerminal(fd) }
    public static func environment(_ name: String) -> String? { Sys.environment(name) }
    public static func writeStandardError(_ text: String) { Sys.writeStandardError(text) }
    /// Whether two paths name the same file (same device and inode: a second name
    /// or a symbolic link counts too); false when either is missing.
    public static func sameFile(_ a: String, _ b: String) -> Bool {
        guard let x = Sys.fileIdentity(a), let y = Sys.fileIdentity(b) else { return false }
        return x == y
    }
    /// printf-style text for one number: `format("%.3e", x)`.
    public static func format(_ spec: String, _ value: Double) -> String { Sys.format(spec, value) }
}
