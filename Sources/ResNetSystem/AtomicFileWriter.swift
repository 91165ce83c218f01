/// Writes a file so that the destination either keeps its old content or gets
/// the complete new content, never a partial file: bytes go to a temporary
/// file in the destination's folder, which is fsynced and renamed over the
/// destination by `commit()`. Dropping the writer without committing (an error,
/// a thrown exception) removes the temporary file. A SIGKILL can leave only the
/// temporary, whose name starts with the destination's and ends `.tmp-PID-RAND`.
public final class AtomicFileWriter {
    public let destination: String
    public let temporaryPath: String
    private var fd: Int32
    private var buffer: [UInt8] = []
    private let bufferLimit = 1 << 20
    public private(set) var bytesWritten: Int = 0
    private var committed = false

    /// Refuses to write over `protectedInputs` (compared after resolving links),
    /// so a tool never truncates the file it is reading.
    public init(destination: String, protectedInputs: [String] = []) throws {
        let resolvedInputs = protectedInputs.compactMap { try? Sys.realPath($0) }
        if let existing = try? Sys.realPath(destination), resolvedInputs.contains(existing) {
            throw AtomicWriteError.wouldOverwriteInput(path: destination)
        }
        self.destination = destination
        let suffix = String(Sys.randomUInt32(), radix: 16)
        self.temporaryPath = "\(destination).tmp-\(Sys.processID())-\(suffix)"
        do {
            self.fd = try Sys.open(temporaryPath, write: true, create: true, exclusive: true)
        } catch let e as FileError {
            // Name the file the user asked for, not our temporary.
            throw FileError(operation: "create", path: destination, code: e.code)
        }
        buffer.reserveCapacity(bufferLimit)
    }

    deinit {
        if !committed {
            if fd >= 0 { Sys.close(fd) }
            Sys.unlink(temporaryPath)
        }
    }

    /// Appends bytes; small writes are coalesced, large ones go straight through.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        if buffer.count + bytes.count > bufferLimit { try flush() }
        if bytes.count >= bufferLimit {
            try Sys.writeAll(fd, bytes, path: temporaryPath)
        } else {
            buffer.append(contentsOf: bytes)
        }
        bytesWritten += bytes.count
    }

    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Overwrites bytes already written (e.g. a header whose checksums are
    /// known only after the data): `offset + bytes.count` must not pass the end.
    public func overwrite(_ bytes: [UInt8], at offset: Int) throws {
        precondition(offset >= 0 && offset + bytes.count <= bytesWritten, "overwrite inside what was written")  // SAFETY: caller bug, not file input
        try flush()
        try bytes.withUnsafeBytes { try Sys.pwriteAll(fd, $0, at: offset, path: temporaryPath) }
    }

    /// Appends `count` zero bytes (alignment padding).
    public func writeZeros(_ count: Int) throws {
        guard count > 0 else { return }
        try write([UInt8](repeating: 0, count: count))
    }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        try buffer.withUnsafeBytes { try Sys.writeAll(fd, $0, path: temporaryPath) }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes, fsyncs, and renames the temporary file onto the destination.
    public func commit() throws {
        try flush()
        try Sys.fsync(fd, path: temporaryPath)
        Sys.close(fd)
        fd = -1
        try Sys.rename(temporaryPath, destination)
        committed = true
        Sys.fsyncDirectory(FilePaths.directory(of: destination))
    }
}

public enum AtomicWriteError: Error, CustomStringConvertible, Equatable {
    case wouldOverwriteInput(path: String)
    public var description: String {
        switch self {
        case let .wouldOverwriteInput(path):
            return "refusing to write '\(path)': it is the input file (choose another output path)"
        }
    }
}
