// The only file in ResNetSystem that calls the C library (Glibc). Every call
// retries on EINTR where that applies and turns errno into a FileError that
// names the operation and the path.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What kind of file system object a path names (after `lstat`, links not followed).
public enum FileKind: String, Sendable {
    case regular = "regular file"
    case directory
    case symbolicLink = "symbolic link"
    case fifo = "FIFO"
    case characterDevice = "character device"
    case blockDevice = "block device"
    case socket
    case unknown = "unknown file type"
}

/// A failed system call on a named path.
public struct FileError: Error, CustomStringConvertible, Equatable, Sendable {
    public let operation: String
    public let path: String
    public let code: Int32
    public init(operation: String, path: String, code: Int32) {
        self.operation = operation
        self.path = path
        self.code = code
    }
    public var description: String {
        "cannot \(operation) '\(path)': \(String(cString: strerror(code)))"
    }
    public var isNotFound: Bool { code == ENOENT }
}

enum Sys {
    static func open(_ path: String, write: Bool, create: Bool = false, exclusive: Bool = false,
                     noFollow: Bool = false, mode: mode_t = 0o644) throws -> Int32 {
        var flags = write ? O_WRONLY : O_RDONLY
        flags |= O_CLOEXEC
        if create { flags |= O_CREAT }
        if exclusive { flags |= O_EXCL }
        if noFollow { flags |= O_NOFOLLOW }
        // O_NONBLOCK on read opens: opening a FIFO must not hang waiting for a writer;
        // callers check fstat and refuse anything that is not a regular file.
        if !write { flags |= O_NONBLOCK }
        while true {
            let fd = Glibc.open(path, flags, mode)
            if fd >= 0 { return fd }
            if errno == EINTR { continue }
            throw FileError(operation: write ? "create" : "open", path: path, code: errno)
        }
    }

    static func close(_ fd: Int32) { _ = Glibc.close(fd) }

    static func fileKind(mode: mode_t) -> FileKind {
        switch mode & S_IFMT {
        case S_IFREG: return .regular
        case S_IFDIR: return .directory
        case S_IFLNK: return .symbolicLink
        case S_IFIFO: return .fifo
        case S_IFCHR: return .characterDevice
        case S_IFBLK: return .blockDevice
        case S_IFSOCK: return .socket
        default: return .unknown
        }
    }

    /// Kind and size of an open descriptor.
    static func fstat(_ fd: Int32, path: String) throws -> (kind: FileKind, size: Int) {
        var st = stat()
        guard Glibc.fstat(fd, &st) == 0 else { throw FileError(operation: "stat", path: path, code: errno) }
        return (fileKind(mode: st.st_mode), Int(st.st_size))
    }

    /// Device and inode of what `path` names (links followed); nil if it cannot be stat'ed.
    static func fileIdentity(_ path: String) -> (device: UInt64, inode: UInt64)? {
        var st = stat()
        guard fstatat(AT_FDCWD, path, &st, 0) == 0 else { return nil }  // stat(2), links followed
        return (UInt64(st.st_dev), UInt64(st.st_ino))
    }

    /// Kind of the object at `path` without following a final symbolic link; nil if absent.
    static func lstatKind(_ path: String) throws -> FileKind? {
        var st = stat()
        guard Glibc.lstat(path, &st) == 0 else {
            if errno == ENOENT { return nil }
            throw FileError(operation: "stat", path: path, code: errno)
        }
        return fileKind(mode: st.st_mode)
    }

    /// The canonical absolute path (all links resolved).
    static func realPath(_ path: String) throws -> String {
        guard let resolved = Glibc.realpath(path, nil) else {
            throw FileError(operation: "resolve", path: path, code: errno)
        }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Maps `size` bytes of `fd` read-only; the caller unmaps with `unmap`.
    static func mapReadOnly(_ fd: Int32, size: Int, path: String) throws -> UnsafeRawPointer {
        let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else { throw FileError(operation: "map", path: path, code: errno) }
        return UnsafeRawPointer(p)
    }

    static func unmap(_ base: UnsafeRawPointer, size: Int) {
        _ = munmap(UnsafeMutableRawPointer(mutating: base), size)
    }

    /// Advises the kernel that a mapping will be read front to back.
    static func adviseSequential(_ base: UnsafeRawPointer, size: Int) {
        _ = madvise(UnsafeMutableRawPointer(mutating: base), size, MADV_SEQUENTIAL)
    }

    /// Writes all of `buffer`, retrying short writes and EINTR.
    static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, path: String) throws {
        guard var p = buffer.baseAddress else { return }
        var left = buffer.count
        while left > 0 {
            let n = Glibc.write(fd, p, left)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError(operation: "write", path: path, code: errno)
            }
            p += n
            left -= n
        }
    }

    /// Writes all of `buffer` at `offset`, leaving the file position alone.
    static func pwriteAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, at offset: Int, path: String) throws {
        guard var p = buffer.baseAddress else { return }
        var left = buffer.count
        var at = offset
        while left > 0 {
            let n = Glibc.pwrite(fd, p, left, off_t(at))
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError(operation: "write", path: path, code: errno)
            }
            p += n
            left -= n
            at += n
        }
    }

    static func fsync(_ fd: Int32, path: String) throws {
        guard Glibc.fsync(fd) == 0 else { throw FileError(operation: "sync", path: path, code: errno) }
    }

    static func rename(_ from: String, _ to: String) throws {
        guard Glibc.rename(from, to) == 0 else { throw FileError(operation: "rename to '\(to)'", path: from, code: errno) }
    }

    static func unlink(_ path: String) { _ = Glibc.unlink(path) }

    /// Syncs a directory so a rename inside it survives a crash.
    static func fsyncDirectory(_ path: String) {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 { _ = Glibc.fsync(fd); _ = Glibc.close(fd) }
    }

    static func processID() -> Int32 { getpid() }

    /// One Double through a printf conversion ("%.3e", "%.2f"): what
    /// String(format:) does, without linking Foundation's ICU-backed formatter
    /// (measured: 45 MB of each static binary).
    static func format(_ spec: String, _ value: Double) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        let n = buffer.withUnsafeMutableBufferPointer { b in
            // Sound: vsnprintf writes at most b.count bytes, NUL included, into b.
            withVaList([value]) { vsnprintf(b.baseAddress, b.count, spec, $0) }
        }
        guard n >= 0 else { return String(value) }
        return String(decoding: buffer.prefix(min(Int(n), buffer.count - 1)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func randomUInt32() -> UInt32 { UInt32.random(in: .min ... .max) }

    static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    static func environment(_ name: String) -> String? {
        guard let v = getenv(name) else { return nil }
        return String(cString: v)
    }

    static func writeStandardError(_ text: String) {
        var text = text
        text.withUTF8 { buf in _ = Glibc.write(2, buf.baseAddress, buf.count) }
    }

    /// Peak resident set size of this process, in bytes.
    /// Physical memory in bytes (pages x page size), or nil where sysconf cannot say.
    static func physicalMemoryBytes() -> Int? {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), size = sysconf(Int32(_SC_PAGESIZE))
        guard pages > 0, size > 0 else { return nil }
        let (bytes, overflow) = pages.multipliedReportingOverflow(by: size)
        return overflow ? nil : bytes
    }

    static func peakResidentBytes() -> Int {
        var usage = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
        return Int(usage.ru_maxrss) * 1024
    }

    /// Monotonic clock, in seconds.
    static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}
