import ResNetIR
import ResNetKernelsReference

/// A buffer of the plan's element type, allocated once; runs write into it in place.
final class Buffer<T: ExecScalar> {
    let pointer: UnsafeMutablePointer<T>
    let capacity: Int
    /// Owns `pointer` (huge pages: LargeBuffer).
    private let memory: LargeBuffer<T>
    init(capacity: Int) {
        memory = LargeBuffer(capacity: capacity)
        self.capacity = memory.capacity
        pointer = memory.pointer
        pointer.initialize(repeating: 0, count: self.capacity)
    }
}

/// Constant float data: borrowed from the model file when aligned float32
/// (an .rnw mapping), else converted once into an owned array (unaligned
/// ONNX raw_data, float16/bfloat16/double weights).
final class FloatConstant {
    let count: Int
    private let borrowed: TensorBytes?
    private let owned: [Float]

    init?(_ t: Tensor) {
        // The bytes must hold exactly dims' elements: a borrowed region is read up to `count` floats.
        guard let n = t.elementCount, let bytes = t.expectedByteCount, t.data.count == bytes else { return nil }
        count = n
        switch t.dataType {
        case .float:
            let aligned = t.data.withUnsafeBytes { Int(bitPattern: $0.baseAddress) % MemoryLayout<Float>.alignment == 0 }
            if aligned && t.data.isBorrowed {
                borrowed = t.data
                owned = []
            } else {
                guard let values = t.floatValues else { return nil }
                borrowed = nil
                owned = values
            }
        case .float16, .bfloat16, .double:
            guard let values = t.floatValues else { return nil }
            borrowed = nil
            owned = values
        default:
            return nil
        }
    }

    init(values: [Float]) {
        count = values.count
        borrowed = nil
        owned = values
    }

    var isBorrowed: Bool { borrowed != nil }

    func withFloats<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        if let borrowed {
            return try borrowed.withUnsafeBytes { raw in
                // Sound: checked 4-byte aligned at init; the region holds count floats and lives as long as `borrowed`.
                try body(raw.bindMemory(to: Float.self))
            }
        }
        return try owned.withUnsafeBufferPointer(body)
    }

    var array: [Float] { withFloats { Array($0) } }

    /// The values widened for a float64 plan, made on first use (float32 plans borrow them as they are).
    private var widened: [Double]?

    /// The values as `T`: float32 in place; float64 widened once.
    func withValues<T: ExecScalar, R>(_ body: (UnsafeBufferPointer<T>) throws -> R) rethrows -> R {
        if T.self == Float.self {
            // Sound: T is Float, so the buffer's memory is already bound to T.
            return try withFloats { try body(UnsafeRawBufferPointer($0).bindMemory(to: T.self)) }
        }
        if widened == nil { widened = array.map(Double.init) }
        let values = widened ?? []
        if T.self == Double.self {
            // Sound: T is Double, the array's element type.
            return try values.withUnsafeBufferPointer { try body(UnsafeRawBufferPointer($0).bindMemory(to: T.self)) }
        }
        return try array.map { T($0) }.withUnsafeBufferPointer(body)
    }
}

/// Zeros that empty buffers point at: kernels given a count of 0 read nothing,
/// but Swift gives an empty buffer no base address, and a model from a file may
/// well have a 0-sized weight. Never freed (8 bytes: room for one Float or Double).
let emptyValues: UnsafeMutableRawPointer = {
    let p = UnsafeMutableRawPointer.allocate(byteCount: 8, alignment: 8)
    p.initializeMemory(as: UInt64.self, repeating: 0, count: 1)
    return p
}()

/// A usable base pointer for any buffer, empty ones included.
@inline(__always)
func base<T: ExecScalar>(_ b: UnsafeBufferPointer<T>) -> UnsafePointer<T> {
    // Sound: 8 zero bytes hold one Float or one Double of value 0; nothing reads past count 0.
    b.baseAddress ?? UnsafePointer(emptyValues.bindMemory(to: T.self, capacity: 1))
}
