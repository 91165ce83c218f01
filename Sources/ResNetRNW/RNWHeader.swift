import Foundation

// The JSON header of an .rnw file (schemas/rnw.md, rnw-header.schema.json).
// Field names are the JSON keys. Optional fields are omitted when empty so a
// header stays small and its bytes depend only on the model.

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
        if let v = try? c.decode(Int64.self) { return .known(v) }
        return .symbol(try c.decode(String.self))
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

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let d = try? c.decode(Double.self) {
            value = Float(d)
            return
        }
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
