extension Tensor {
    /// The elements as Float, whatever the numeric element type (float16/bfloat16/double
    /// widened or narrowed, integers and BOOL converted); nil for STRING, sub-byte types,
    /// or data of the wrong size.
    public var floatValues: [Float]? {
        guard let n = elementCount, let expected = expectedByteCount, data.count == expected else { return nil }
        return data.withUnsafeBytes { raw -> [Float]? in
            func load<T: FixedWidthInteger>(_: T.Type, _ f: (T) -> Float) -> [Float] {
                (0..<n).map { f(T(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self))) }
            }
            switch dataType {
            case .float: return load(UInt32.self) { Float(bitPattern: $0) }
            case .float16: return load(UInt16.self) { Float(Float16(bitPattern: $0)) }
            case .bfloat16: return load(UInt16.self) { Float(bitPattern: UInt32($0) << 16) }
            case .double: return load(UInt64.self) { Float(Double(bitPattern: $0)) }
            case .int64: return load(Int64.self) { Float($0) }
            case .int32: return load(Int32.self) { Float($0) }
            case .int16: return load(Int16.self) { Float($0) }
            case .int8: return load(Int8.self) { Float($0) }
            case .uint64: return load(UInt64.self) { Float($0) }
            case .uint32: return load(UInt32.self) { Float($0) }
            case .uint16: return load(UInt16.self) { Float($0) }
            case .uint8, .bool: return load(UInt8.self) { Float($0) }
            default: return nil
            }
        }
    }
}

extension Tensor {
    /// The elements as Int64 for integer and BOOL tensors (shapes, axes, pads,
    /// indices); nil for other types or data of the wrong size. UINT64 values
    /// past Int64.max are nil too: as a shape or index they could only mislead.
    public var integerValues: [Int64]? {
        guard let n = elementCount, let expected = expectedByteCount, data.count == expected else { return nil }
        return data.withUnsafeBytes { raw -> [Int64]? in
            func load<T: FixedWidthInteger>(_: T.Type) -> [Int64]? {
                var out: [Int64] = []
                out.reserveCapacity(n)
                for i in 0..<n {
                    let v = T(littleEndian: raw.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self))
                    guard let w = Int64(exactly: v) else { return nil }
                    out.append(w)
                }
                return out
            }
            switch dataType {
            case .int64: return load(Int64.self)
            case .int32: return load(Int32.self)
            case .int16: return load(Int16.self)
            case .int8: return load(Int8.self)
            case .uint64: return load(UInt64.self)
            case .uint32: return load(UInt32.self)
            case .uint16: return load(UInt16.self)
            case .uint8, .bool: return load(UInt8.self)
            default: return nil
            }
        }
    }
}
