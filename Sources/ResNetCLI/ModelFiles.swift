import Crypto
import Dispatch
import ResNetIR
import ResNetONNX
import ResNetRNW
import ResNetSystem

/// File formats the tools know, by extension.
public enum ModelFormat: String, Equatable {
    case onnx, rnw
    public init?(path: String) {
        let lower = path.lowercased()
        if lower.hasSuffix(".onnx") { self = .onnx } else if lower.hasSuffix(".rnw") { self = .rnw } else { return nil }
    }
}

/// An .rnw problem with the file it was found in (RNWError itself is path-free).
struct RNWFileError: Error, CustomStringConvertible {
    let path: String
    let error: RNWError
    var description: String { "\(path): \(error)" }
}

/// A model loaded from either format, with what the CLI reports about it.
struct LoadedModel {
    let model: Model
    let format: ModelFormat
    let fileSize: Int
    /// Transforms already applied (from an .rnw header).
    let transforms: [String]
    let warnings: [String]
    /// The input's mapping, shared by every pass over its bytes (one mapping, so
    /// its pages are counted once in RSS).
    let file: MappedFile
}

enum ModelFiles {
    static func load(_ path: String, verifyData: Bool = true) throws -> LoadedModel {
        guard let format = ModelFormat(path: path) else {
            throw UsageError("'\(path)' has no known extension (expected .onnx or .rnw)")
        }
        let file = try MappedFile(path: path)
        switch format {
        case .onnx:
            let r = try ONNXReader.read(file: file)
            return LoadedModel(model: r.model, format: .onnx, fileSize: r.fileSize, transforms: [], warnings: r.warnings, file: file)
        case .rnw:
            let r: RNWReadResult
            do { r = try RNWReader.read(file: file, options: RNWReadOptions(verifyData: verifyData)) } catch let e as RNWError {
                throw RNWFileError(path: path, error: e)
            }
            return LoadedModel(model: r.model, format: .rnw, fileSize: r.fileSize, transforms: r.transforms, warnings: [], file: file)
        }
    }

    /// Starts hashing on another core; the returned closure waits for the digest.
    static func sha256InBackground(of file: MappedFile) -> () -> String {
        let done = DispatchSemaphore(value: 0)
        final class Box: @unchecked Sendable { var digest = "" }  // written once before `done` is signalled
        let box = Box()
        DispatchQueue.global().async {
            box.digest = sha256(of: file)
            done.signal()
        }
        return {
            done.wait()
            done.signal()  // later calls return at once
            return box.digest
        }
    }

    /// SHA-256 of a file's bytes, lower-case hex (recorded as the .rnw source).
    static func sha256(of file: MappedFile) -> String {
        // Incremental, in 1 MiB pieces: SHA256.hash(data:) copies its whole
        // input first (measured: +241 MB peak RSS on resnet152).
        var hasher = SHA256()
        file.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let end = min(offset + (1 << 20), bytes.count)
                hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: bytes[offset..<end]))
                offset = end
            }
        }
        let digest = hasher.finalize()
        return digest.map { b in (b < 16 ? "0" : "") + String(b, radix: 16) }.joined()
    }
}
