/// A whole model: metadata plus the main graph. Independent of any file format;
/// the ONNX and .rnw layers both read into and write from this.
public struct Model: Sendable {
    public var irVersion: Int64?
    public var opsetImports: [OpsetImport]
    public var producerName: String
    public var producerVersion: String
    public var domain: String
    public var modelVersion: Int64?
    public var docString: String
    public var graph: Graph
    public var metadata: [StringPair]
    /// Model-local functions (torch's dynamo exporter writes these).
    public var functions: [Function]

    public init(irVersion: Int64? = nil, opsetImports: [OpsetImport] = [], producerName: String = "",
                producerVersion: String = "", domain: String = "", modelVersion: Int64? = nil,
                docString: String = "", graph: Graph, metadata: [StringPair] = [], functions: [Function] = []) {
        self.irVersion = irVersion
        self.opsetImports = opsetImports
        self.producerName = producerName
        self.producerVersion = producerVersion
        self.domain = domain
        self.modelVersion = modelVersion
        self.docString = docString
        self.graph = graph
        self.metadata = metadata
        self.functions = functions
    }

    /// The version of the default ("" or "ai.onnx") operator set, if imported.
    public var defaultOpsetVersion: Int64? {
        opsetImports.first { $0.domain == "" || $0.domain == "ai.onnx" }?.version
    }
}

public struct OpsetImport: Sendable, Equatable {
    public var domain: String
    public var version: Int64
    public init(domain: String, version: Int64) { self.domain = domain; self.version = version }
}

public struct Graph: Sendable {
    public var name: String
    public var nodes: [Node]
    public var initializers: [Tensor]
    public var sparseInitializers: [SparseTensor]
    public var docString: String
    public var inputs: [ValueInfo]
    public var outputs: [ValueInfo]
    public var valueInfos: [ValueInfo]
    public var quantizationAnnotations: [TensorAnnotation]
    public var metadata: [StringPair]

    public init(name: String = "", nodes: [Node] = [], initializers: [Tensor] = [],
                sparseInitializers: [SparseTensor] = [], docString: String = "",
                inputs: [ValueInfo] = [], outputs: [ValueInfo] = [], valueInfos: [ValueInfo] = [],
                quantizationAnnotations: [TensorAnnotation] = [], metadata: [StringPair] = []) {
        self.name = name
        self.nodes = nodes
        self.initializers = initializers
        self.sparseInitializers = sparseInitializers
        self.docString = docString
        self.inputs = inputs
        self.outputs = outputs
        self.valueInfos = valueInfos
        self.quantizationAnnotations = quantizationAnnotations
        self.metadata = metadata
    }
}

/// Quantization parameters attached to a tensor (ONNX TensorAnnotation).
public struct TensorAnnotation: Sendable, Equatable {
    public var tensorName: String
    public var quantParameterTensorNames: [StringPair]
    public init(tensorName: String, quantParameterTensorNames: [StringPair]) {
        self.tensorName = tensorName
        self.quantParameterTensorNames = quantParameterTensorNames
    }
}

public struct Node: Sendable {
    public var name: String
    public var opType: String
    public var domain: String
    public var overload: String
    /// Input value names; "" marks an omitted optional input, as in ONNX.
    public var inputs: [String]
    public var outputs: [String]
    public var attributes: [Attribute]
    public var docString: String
    public var metadata: [StringPair]

    public init(name: String = "", opType: String, domain: String = "", overload: String = "",
                inputs: [String], outputs: [String], attributes: [Attribute] = [],
                docString: String = "", metadata: [StringPair] = []) {
        self.name = name
        self.opType = opType
        self.domain = domain
        self.overload = overload
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
        self.docString = docString
        self.metadata = metadata
    }

    public func attribute(_ name: String) -> Attribute? { attributes.first { $0.name == name } }
}

public struct Attribute: Sendable {
    public var name: String
    public var value: Value
    public var docString: String
    /// Inside a function body: the name of the caller's attribute this one refers to.
    public var refAttrName: String

    public indirect enum Value: Sendable {
        case float(Float)
        case int(Int64)
        case string([UInt8])
        case tensor(Tensor)
        case graph(Graph)
        case sparseTensor(SparseTensor)
        case type(TypeDescriptor)
        case floats([Float])
        case ints([Int64])
        case strings([[UInt8]])
        case tensors([Tensor])
        case graphs([Graph])
        case sparseTensors([SparseTensor])
        case types([TypeDescriptor])
        /// A reference to a function attribute (`refAttrName`) carrying no value,
        /// with the declared ONNX AttributeType number (0 if none was given).
        case reference(declaredType: Int32)
    }

    public init(name: String, value: Value, docString: String = "", refAttrName: String = "") {
        self.name = name
        self.value = value
        self.docString = docString
        self.refAttrName = refAttrName
    }

    public var int: Int64? { if case let .int(v) = value { return v }; return nil }
    public var float: Float? { if case let .float(v) = value { return v }; return nil }
    public var ints: [Int64]? { if case let .ints(v) = value { return v }; return nil }
    public var floats: [Float]? { if case let .floats(v) = value { return v }; return nil }
    public var tensor: Tensor? { if case let .tensor(v) = value { return v }; return nil }
    public var string: String? {
        if case let .string(v) = value { return String(decoding: v, as: UTF8.self) }
        return nil
    }
}

/// Name, type and documentation of a graph input, output or intermediate value.
public struct ValueInfo: Sendable {
    public var name: String
    public var type: TypeDescriptor?
    public var docString: String
    public var metadata: [StringPair]
    public init(name: String, type: TypeDescriptor?, docString: String = "", metadata: [StringPair] = []) {
        self.name = name
        self.type = type
        self.docString = docString
        self.metadata = metadata
    }
}

/// One dimension of a shape: a number, a symbol such as "N", or unknown.
public struct Dim: Sendable, Equatable, Hashable, CustomStringConvertible {
    public enum Value: Sendable, Equatable, Hashable {
        case known(Int64)
        case symbol(String)
        case unknown
    }
    public var value: Value
    public var denotation: String
    public init(_ value: Value, denotation: String = "") { self.value = value; self.denotation = denotation }
    public static func known(_ v: Int64) -> Dim { Dim(.known(v)) }
    public static func symbol(_ s: String) -> Dim { Dim(.symbol(s)) }
    public var description: String {
        switch value {
        case let .known(v): return String(v)
        case let .symbol(s): return s
        case .unknown: return "?"
        }
    }
}

/// The type of a value (ONNX TypeProto). ResNets use tensors only; the other
/// kinds are kept so that a model using them round-trips unchanged.
public struct TypeDescriptor: Sendable {
    public indirect enum Kind: Sendable {
        /// elemType is the ONNX element-type number (0 = unset); shape nil = unknown rank.
        case tensor(elemType: Int32, shape: [Dim]?)
        case sparseTensor(elemType: Int32, shape: [Dim]?)
        case sequence(TypeDescriptor?)
        case optional(TypeDescriptor?)
        case map(keyType: Int32, value: TypeDescriptor?)
        case opaque(domain: String, name: String)
        /// No kind was set in the file.
        case none
    }
    public var kind: Kind
    public var denotation: String
    public init(_ kind: Kind, denotation: String = "") { self.kind = kind; self.denotation = denotation }
}

/// A model-local function (ONNX FunctionProto).
public struct Function: Sendable {
    public var name: String
    public var domain: String
    public var overload: String
    public var inputs: [String]
    public var outputs: [String]
    public var attributeNames: [String]
    public var attributeDefaults: [Attribute]
    public var nodes: [Node]
    public var docString: String
    public var opsetImports: [OpsetImport]
    public var valueInfos: [ValueInfo]
    public var metadata: [StringPair]

    public init(name: String, domain: String, overload: String = "", inputs: [String], outputs: [String],
                attributeNames: [String] = [], attributeDefaults: [Attribute] = [], nodes: [Node],
                docString: String = "", opsetImports: [OpsetImport] = [], valueInfos: [ValueInfo] = [],
                metadata: [StringPair] = []) {
        self.name = name
        self.domain = domain
        self.overload = overload
        self.inputs = inputs
        self.outputs = outputs
        self.attributeNames = attributeNames
        self.attributeDefaults = attributeDefaults
        self.nodes = nodes
        self.docString = docString
        self.opsetImports = opsetImports
        self.valueInfos = valueInfos
        self.metadata = metadata
    }
}
