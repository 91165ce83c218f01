import Foundation
import ResNetSystem

/// NumPy .npy files holding little-endian float32 in C order (what `numpy.save` writes for float32).
enum NpyFile {
    enum NpyError: Error, CustomStringConvertible {
        case notNpy(String), unsupported(String, String), truncated(String, expected: Int, actual: Int)
        var description: String {
            switch self {
            case let .notNpy(p): return "\(p): not a .npy file (bad magic or header)"
            case let .unsupported(p, what): return "\(p): \(what); only little-endian float32 ('<f4') in C order is supported"
            case let .truncated(p, e, a): return "\(p): \(a) bytes of data, the header's shape needs \(e)"
            }
        }
    }

    static func read(_ path: String) throws -> (values: [Float], shape: [Int]) {
        let file = try MappedFile(path: path)
        return try file.withUnsafeBytes { bytes in
            let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
            guard bytes.count >= 10, bytes.prefix(6).elementsEqual(magic) else { throw NpyError.notNpy(path) }
            let major = bytes[6]
            let (lenSize, start) = major == 1 ? (2, 10) : (4, 12)
            guard major >= 1 && major <= 3, bytes.count >= start else { throw NpyError.notNpy(path) }
            var headerLength = 0
            for i in 0..<lenSize { headerLength |= Int(bytes[8 + i]) << (8 * i) }
            guard headerLength <= bytes.count - start, headerLength <= 1 << 20 else { throw NpyError.notNpy(path) }
            let header = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<(start + headerLength)]), as: UTF8.self)
            guard header.firstRange(of: "'<f4'") != nil || header.firstRange(of: "\"<f4\"") != nil else { throw NpyError.unsupported(path, "dtype is not '<f4'") }
            guard header.firstRange(of: "False") != nil else { throw NpyError.unsupported(path, "array is in Fortran order") }
            guard let open = header.firstRange(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else {
                throw NpyError.notNpy(path)
            }
            let shape = try header[open.upperBound..<close].split(separator: ",").map { part -> Int in
                guard let d = Int(part.trimmingSpaces), d >= 0, d <= 1 << 40 else { throw NpyError.notNpy(path) }
                return d
            }
            var count = 1
            for d in shape {
                let (p, o) = count.multipliedReportingOverflow(by: d)
                guard !o else { throw NpyError.notNpy(path) }
                count = p
            }
            let dataStart = start + headerLength
            let (need, o) = count.multipliedReportingOverflow(by: 4)
            guard !o, bytes.count - dataStart == need else { throw NpyError.truncated(path, expected: o ? Int.max : need, actual: bytes.count - dataStart) }
            let values = (0..<count).map { Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: dataStart + $0 * 4, as: UInt32.self))) }
            return (values, shape)
        }
    }

    static func write(_ values: [Float], shape: [Int], to path: String) throws {
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + shape.map(String.init).joined(separator: ", ")
            + (shape.count == 1 ? ",), }" : "), }")
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(header.utf8.count & 0xff), UInt8(header.utf8.count >> 8)]
        bytes += Array(header.utf8)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
        let out = try AtomicFileWriter(destination: path)
        try out.write(bytes)
        try out.commit()
    }
}
