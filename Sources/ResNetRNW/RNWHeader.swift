import Foundation

// The JSON header of an .rnw file (schemas/rnw.md, rnw-header.schema.json).
// Field names are the JSON keys. Optional fields are omitted when empty so a
// header stays small and its bytes depend only on the model.
//
// Writing uses JSONEncoder (sorted keys, no insignificant whitespace). Reading
// goes through `RNWHeaderJSON.decode`, not Foundation's JSON parsers: it parses
// the bytes strictly (StrictJSON.swift) and decodes these types from that
// tree, so a header is read one way, the way any strict RFC 8259 reader reads
// it. The types' own decoders also work with JSONDecoder (tests compare both).

/// The header's bytes -> its model. Every failure is an RNWError that names
/// the rule, the header byte offset or JSON path, and expected vs found.
enum RNWHeaderJSON {
    static func decode(_ bytes: UnsafeRawBufferPointer) throws -> HeaderDTO {
        let root = try StrictJSON.parse(bytes, maxDepth: RNWLayout.maxHeaderDepth, fileOffset: RNWLayout.preambleSize)
        do {
            return try HeaderDTO(from: StrictJSONDecoder(root))
        } catch let e as DecodingError {
            // Raised by the model types' own checks (base64, attribute type names).
            throw RNWError.headerInvalid(path: DecodingErrorText.path(e), reason: DecodingErrorText.reason(e))
        }
    }
}

struct HeaderDTO: Codable {
    var producer: ProducerDTO
    var source: SourceDTO
    var transforms: [String]
    var model: ModelDTO
    var tensors: [TensorEntryDTO]
}

struct ProducerDTO: Codable, Equatable {
    var name: String
    var version: String
}

struct SourceDTO: Codable, Equatable {
    var file: String
    var format: String
    var sha256: String
}

struct PairDTO: Codable, Equatable {
    var key: String
    var value: String
}

struct SegmentDTO: Codable {
    var begin: Int64
    var end: Int64
}

struct TensorEntryDTO: Codable {
    var name: String
    var dtype: String
    var storage: String?
    var dims: [Int64]
    var offset: Int
    var length: Int
    var crc32: String
    var strings: [String]?
    var doc_string: String?
    var metadata: [PairDTO]?
    var segment: SegmentDTO?
}

extension TensorEntryDTO {
    private enum Keys: String, CodingKey {
        case name, dtype, storage, dims, offset, length, crc32, strings, doc_string, metadata, segment
    }

    /// As the synthesized decoder, plus the entry's number and CRC rules:
    /// `offset` and `length` are non-negative integers, `crc32` is exactly 8
    /// lower-case hex digits (a CRC spelled otherwise, such as upper case or
    /// with 0x, is `headerCRCNotCanonical`; a string that is no hex number at
    /// all is `headerInvalid`).
    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        func nonNegative(_ key: Keys) throws -> Int {
            let v = try c.decode(Int.self, forKey: key)
            guard v >= 0 else {
                throw RNWError.headerNumberOutOfRange(path: JSONPath.of(c.codingPath + [key]), found: "\(v)",
                                                      expected: "an integer in 0...\(Int.max)")
            }
            return v
        }
        name = try c.decode(String.self, forKey: .name)
        dtype = try c.decode(String.self, forKey: .dtype)
        storage = try c.decodeIfPresent(String.self, forKey: .storage)
        dims = try c.decode([Int64].self, forKey: .dims)
        offset = try nonNegative(.offset)
        length = try nonNegative(.length)
        crc32 = try c.decode(String.self, forKey: .crc32)
        try Self.checkCRC(crc32, path: JSONPath.of(c.codingPath + [Keys.crc32]))
        strings = try c.decodeIfPresent([String].self, forKey: .strings)
        doc_string = try c.decodeIfPresent(String.self, forKey: .doc_string)
        metadata = try c.decodeIfPresent([PairDTO].self, forKey: .metadata)
        segment = try c.decodeIfPresent(SegmentDTO.self, forKey: .segment)
    }

    /// The header's one spelling of a CRC-32 (CRC32.hex): 8 digits 0-9a-f.
    static func checkCRC(_ text: String, path: String) throws {
        func isLowerHex(_ c: UInt8) -> Bool { (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) }
        let u = Array(text.utf8)
        if u.count == 8 && u.allSatisfy(isLowerHex) { return }
        let digits = u.count >= 2 && u[0] == 0x30 && (u[1] == 0x78 || u[1] == 0x58) ? u.dropFirst(2) : u[...]
        if !digits.isEmpty && digits.allSatisfy({ RNWText.hexValue($0) != nil }) {
            throw RNWError.headerCRCNotCanonical(path: path, found: text)
        }
        throw RNWError.headerInvalid(path: path, reason: "\(RNWText.quoted(text)) is not 8 lower-case hex digits")
    }
}

struct OpsetDTO: Codable {
    var domain: String
    var version: Int64
}

struct ModelDTO: Codable {
    var ir_version: Int64?
    var model_version: Int64?
    var producer_name: String?
    var producer_version: String?
    var domain: String?
    var doc_string: String?
    var opset_import: [OpsetDTO]
    var metadata: [PairDTO]?
    var graph: GraphDTO
    var functions: [FunctionDTO]?
}

struct GraphDTO: Codable {
    var name: String?
    var doc_string: String?
    var nodes: [NodeDTO]
    var initializers: [Int]
    var sparse_initializers: [SparseDTO]?
    var inputs: [ValueInfoDTO]
    var outputs: [ValueInfoDTO]
    var value_info: [ValueInfoDTO]?
    var quantization_annotations: [AnnotationDTO]?
    var metadata: [PairDTO]?
}

struct AnnotationDTO: Codable {
    var tensor_name: String
    var quant_parameter_tensor_names: [PairDTO]
}

struct SparseDTO: Codable {
    var values: Int
    var indices: Int
    var dims: [Int64]
}

struct NodeDTO: Codable {
    var name: String?
    var op_type: String
    var domain: String?
    var overload: String?
    var inputs: [String]
    var outputs: [String]
    var attributes: [AttributeDTO]?
    var doc_string: String?
    var metadata: [PairDTO]?
}

struct FunctionDTO: Codable {
    var name: String
    var domain: String
    var overload: String?
    var inputs: [String]
    var outputs: [String]
    var attribute_names: [String]?
    var attribute_defaults: [AttributeDTO]?
    var nodes: [NodeDTO]
    var doc_string: String?
    var opset_import: [OpsetDTO]?
    var value_info: [ValueInfoDTO]?
    var metadata: [PairDTO]?
}

struct ValueInfoDTO: Codable {
    var name: String
    var type: TypeDTO?
    var doc_string: String?
    var metadata: [PairDTO]?
}

/// A class so that it can contain itself (sequence/optional/map element types).
final class TypeDTO: Codable {
    var denotation: String?
    var tensor: TensorTypeDTO?
    var sparse_tensor: TensorTypeDTO?
    var sequence: TypeDTO?
    var optional: TypeDTO?
    var map: MapTypeDTO?
    var opaque: OpaqueTypeDTO?
    init() {}
}

struct TensorTypeDTO: Codable {
    var elem_type: Int32
    var shape: [DimDTO]?
}

struct MapTypeDTO: Codable {
    var key_type: Int32
    var value: TypeDTO?
}

struct OpaqueTypeDTO: Codable {
    var domain: String
    var name: String
}

/// A dimension: an integer, a symbol string, null (unknown), or
/// `{"dim": ..., "denotation": ...}` when it carries a denotation.
struct DimDTO: Codable {
    enum Value { case known(Int64), symbol(String), unknown }
    var value: Value
    var denotation: String?

    private enum Keys: String, CodingKey { case dim, denotation }

    init(value: Value, denotation: String?) { self.value = value; self.denotation = denotation }

    init(from decoder: Decoder) throws {
        if let keyed = try? decoder.container(keyedBy: Keys.self) {
            denotation = try keyed.decodeIfPresent(String.self, forKey: .denotation)
            value = try keyed.decodeNil(forKey: .dim) ? .unknown : try DimDTO.decodeValue(keyed.superDecoder(forKey: .dim))
        } else {
            denotation = nil
            value = try DimDTO.decodeValue(decoder)
        }
    }

    private static func decodeValue(_ decoder: Decoder) throws -> Value {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { return .unknown }
        // Only a wrong JSON type moves on to the next form: a number that is
        // not an exact Int64 is refused, never read as a symbol.
        do { return .known(try c.decode(Int64.self)) } catch where isWrongJSONType(error) {}
        do { return .symbol(try c.decode(String.self)) } catch let RNWError.headerInvalid(path, _) {
            throw RNWError.headerInvalid(path: path, reason: "expected an integer, a symbol string or null")
        }
    }

    func encode(to encoder: Encoder) throws {
        if let denotation {
            var keyed = encoder.container(keyedBy: Keys.self)
            try keyed.encode(denotation, forKey: .denotation)
            switch value {
            case let .known(v): try keyed.encode(v, forKey: .dim)
            case let .symbol(s): try keyed.encode(s, forKey: .dim)
            case .unknown: try keyed.encodeNil(forKey: .dim)
            }
            return
        }
        var c = encoder.singleValueContainer()
        switch value {
        case let .known(v): try c.encode(v)
        case let .symbol(s): try c.encode(s)
        case .unknown: try c.encodeNil()
        }
    }
}

/// True for "the value has another JSON type" (the strict decoder's
/// `headerInvalid`, or JSONDecoder's `typeMismatch`), the one failure after
/// which a value with several forms (DimDTO, FloatDTO) tries its next form.
func isWrongJSONType(_ error: Error) -> Bool {
    switch error {
    case RNWError.headerInvalid, DecodingError.typeMismatch: return true
    default: return false
    }
}

/// Bytes as `{"utf8": text}` when valid UTF-8 (readable, exact), else `{"base64": ...}`.
struct BytesDTO: Codable {
    var bytes: [UInt8]
    private enum Keys: String, CodingKey { case utf8, base64 }
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        if let text = try c.decodeIfPresent(String.self, forKey: .utf8) {
            bytes = Array(text.utf8)
        } else {
            let b64 = try c.decode(String.self, forKey: .base64)
            guard let data = Data(base64Encoded: b64) else {
                throw DecodingError.dataCorruptedError(forKey: .base64, in: c, debugDescription: "not valid base64")
            }
            bytes = Array(data)
        }
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        if let text = String(validating: bytes, as: UTF8.self) {
            try c.encode(text, forKey: .utf8)
        } else {
            try c.encode(Data(bytes).base64EncodedString(), forKey: .base64)
        }
    }
}

/// A float attribute: written as the JSON number of its exact Double value
/// (so it parses back bit-exactly), or "NaN", "Infinity", "-Infinity".
struct FloatDTO: Codable {
    var value: Float
    init(_ value: Float) { self.value = value }

    /// A number must fit float32 (its nearest float32 is finite); only the
    /// three strings stand for non-finite values.
    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        do {
            value = try c.decode(Float.self)
            return
        } catch where isWrongJSONType(error) {}
        switch try c.decode(String.self) {
        case "NaN": value = .nan
        case "Infinity": value = .infinity
        case "-Infinity": value = -.infinity
        case let other:
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "'\(other)' is not a float")
        }
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        if value.isNaN { try c.encode("NaN") }
        else if value.isInfinite { try c.encode(value > 0 ? "Infinity" : "-Infinity") }
        else { try c.encode(Double(value)) }
    }
}

/// An attribute: `type` names which `value` shape follows.
struct AttributeDTO: Codable {
    indirect enum Value {
        case float(FloatDTO), int(Int64), string(BytesDTO), tensor(Int), graph(GraphDTO)
        case sparseTensor(SparseDTO), typeProto(TypeDTO)
        case floats([FloatDTO]), ints([Int64]), strings([BytesDTO]), tensors([Int]), graphs([GraphDTO])
        case sparseTensors([SparseDTO]), typeProtos([TypeDTO])
        case reference(declaredType: Int32)
    }
    var name: String
    var value: Value
    var ref_attr_name: String?
    var doc_string: String?

    private enum Keys: String, CodingKey { case name, type, value, declared_type, ref_attr_name, doc_string }

    init(name: String, value: Value, refAttrName: String?, docString: String?) {
        self.name = name
        self.value = value
        self.ref_attr_name = refAttrName
        self.doc_string = docString
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        name = try c.decode(String.self, forKey: .name)
        ref_attr_name = try c.decodeIfPresent(String.self, forKey: .ref_attr_name)
        doc_string = try c.decodeIfPresent(String.self, forKey: .doc_string)
        let type = try c.decode(String.self, forKey: .type)
        func v<T: Decodable>(_: T.Type) throws -> T { try c.decode(T.self, forKey: .value) }
        switch type {
        case "float": value = .float(try v(FloatDTO.self))
        case "int": value = .int(try v(Int64.self))
        case "string": value = .string(try v(BytesDTO.self))
        case "tensor": value = .tensor(try v(Int.self))
        case "graph": value = .graph(try v(GraphDTO.self))
        case "sparse_tensor": value = .sparseTensor(try v(SparseDTO.self))
        case "type_proto": value = .typeProto(try v(TypeDTO.self))
        case "floats": value = .floats(try v([FloatDTO].self))
        case "ints": value = .ints(try v([Int64].self))
        case "strings": value = .strings(try v([BytesDTO].self))
        case "tensors": value = .tensors(try v([Int].self))
        case "graphs": value = .graphs(try v([GraphDTO].self))
        case "sparse_tensors": value = .sparseTensors(try v([SparseDTO].self))
        case "type_protos": value = .typeProtos(try v([TypeDTO].self))
        case "reference": value = .reference(declaredType: try c.decodeIfPresent(Int32.self, forKey: .declared_type) ?? 0)
        default:
            throw DecodingError.dataCorruptedError(forKey: .type, in: c, debugDescription: "unknown attribute type '\(type)'")
        }
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(name, forKey: .name)
        try c.encodeIfPresent(ref_attr_name, forKey: .ref_attr_name)
        try c.encodeIfPresent(doc_string, forKey: .doc_string)
        func put<T: Encodable>(_ type: String, _ v: T) throws {
            try c.encode(type, forKey: .type)
            try c.encode(v, forKey: .value)
        }
        switch value {
        case let .float(x): try put("float", x)
        case let .int(x): try put("int", x)
        case let .string(x): try put("string", x)
        case let .tensor(x): try put("tensor", x)
        case let .graph(x): try put("graph", x)
        case let .sparseTensor(x): try put("sparse_tensor", x)
        case let .typeProto(x): try put("type_proto", x)
        case let .floats(x): try put("floats", x)
        case let .ints(x): try put("ints", x)
        case let .strings(x): try put("strings", x)
        case let .tensors(x): try put("tensors", x)
        case let .graphs(x): try put("graphs", x)
        case let .sparseTensors(x): try put("sparse_tensors", x)
        case let .typeProtos(x): try put("type_protos", x)
        case let .reference(declared):
            try c.encode("reference", forKey: .type)
            if declared != 0 { try c.encode(declared, forKey: .declared_type) }
        }
    }
}
