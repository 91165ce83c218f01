import ResNetIR
import ResNetSystem

/// Resolves ONNX external data (`data_location = EXTERNAL`, keys location,
/// offset, length) relative to the model's folder, and refuses anything that
/// could read outside it or block: absolute paths, `..` components, symbolic
/// links that lead out, non-regular files (FIFOs, devices, folders), and
/// offset/length outside the file. Nothing is read before those checks; the
/// bytes are then borrowed from a mapping of the data file (no copy).
final class ExternalDataResolver {
    /// Folder of the model file, as given, and canonical (links resolved).
    private let folder: String
    private let canonicalFolder: String?
    private var mapped: [String: MappedFile] = [:]

    init(modelPath: String?) {
        folder = modelPath.map(FilePaths.directory(of:)) ?? "."
        canonicalFolder = modelPath == nil ? nil : try? FilePaths.resolved(folder)
    }

    func resolve(path: String, entries: [StringPair], expectedBytes: Int) throws -> TensorBytes {
        func value(_ key: String) -> String? { entries.last { $0.key == key }?.value }
        guard let location = value("location"), !location.isEmpty else {
            throw ONNXError.externalDataMissingLocation(path: path)
        }
        if location.hasPrefix("/") || location.hasPrefix("\\") || location.dropFirst().hasPrefix(":") {
            throw ONNXError.externalDataAbsolutePath(path: path, location: location)
        }
        let components = location.split(whereSeparator: { $0 == "/" || $0 == "\\" })
        if components.contains("..") || location.contains("\0") {
            throw ONNXError.externalDataEscapesFolder(path: path, location: location)
        }
        guard let canonicalFolder else {
            // A model read from memory has no folder to resolve against.
            throw ONNXError.externalDataNotFound(path: path, location: location)
        }
        let joined = folder + "/" + components.joined(separator: "/")
        guard try FilePaths.kind(at: joined) != nil else {
            throw ONNXError.externalDataNotFound(path: path, location: location)
        }
        let canonical: String
        do { canonical = try FilePaths.resolved(joined) } catch {
            throw ONNXError.externalDataNotFound(path: path, location: location)
        }
        guard canonical.hasPrefix(canonicalFolder == "/" ? "/" : canonicalFolder + "/") else {
            throw ONNXError.externalDataEscapesFolder(path: path, location: location)
        }
        let kind = try FilePaths.kind(at: canonical)
        guard kind == .regular else {
            throw ONNXError.externalDataNotRegularFile(path: path, location: location,
                                                       kind: (kind ?? .unknown).rawValue)
        }
        let file: MappedFile
        if let cached = mapped[canonical] {
            file = cached
        } else {
            do { file = try MappedFile(path: canonical) } catch let e as MappedFileError {
                if case let .notRegularFile(_, kind) = e {
                    throw ONNXError.externalDataNotRegularFile(path: path, location: location, kind: kind.rawValue)
                }
                throw e
            }
            mapped[canonical] = file
        }
        let offset = try number(value("offset") ?? "0", key: "offset", path: path)
        let length = try value("length").map { try number($0, key: "length", path: path) } ?? max(0, file.count - offset)
        guard offset <= file.count, length <= file.count - offset,
              let bytes = TensorBytes(owner: file, range: offset..<(offset + length)) else {
            throw ONNXError.externalDataOutOfRange(path: path, location: location, offset: offset,
                                                   length: length, fileSize: file.count)
        }
        return bytes
    }

    /// Parses a decimal, non-negative Int; anything else (signs, spaces, overflow) is refused.
    private func number(_ text: String, key: String, path: String) throws -> Int {
        guard !text.isEmpty, text.utf8.count <= 19, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
              let n = Int(text) else {
            throw ONNXError.externalDataBadNumber(path: path, key: key, value: text)
        }
        return n
    }
}
