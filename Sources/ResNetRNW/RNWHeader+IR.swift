import ResNetIR

/// IR -> header. Every tensor (initializers, tensor attributes, sparse parts,
/// in graph order) is appended to `tensors` and referenced by index.
final class HeaderEncoding {
    private(set) var tensors: [Tensor] = []

    private func add(_ t: Tensor) -> Int {
        tensors.append(t)
        return tensors.count - 1
    }

    private func text(_ s: String) -> String? { s.isEmpty ? nil : s }
    private func pairs(_ p: [StringPair]) -> [PairDTO]? { p.isEmpty ? nil : p.map { PairDTO(key: $0.key, value: $0.value) } }
    private func list<T>(_ a: [T]) -> [T]? { a.isEmpty ? nil : a }

    func model(_ m: Model) -> ModelDTO {
        // The main graph first, so its initializers lead the table (and the file).
        let graph = self.graph(m.graph)
        return ModelDTO(
            ir_version: m.irVersion, model_version: m.modelVersion, producer_name: text(m.producerName),
            producer_version: text(m.producerVersion), domain: text(m.domain), doc_string: text(m.docString),
            opset_import: m.opsetImports.map { OpsetDTO(domain: $0.domain, version: $0.version) },
            metadata: pairs(m.metadata), graph: graph, functions: list(m.functions.map(function)))
    }

    func graph(_ g: Graph) -> GraphDTO {
        let initializers = g.initializers.map(add)
        return GraphDTO(
            name: text(g.name), doc_string: text(g.docString), nodes: g.nodes.map(node), initializers: initializers,
            sparse_initializers: list(g.sparseInitializers.map(sparse)),
            inputs: g.inputs.map(valueInfo), outputs: g.outputs.map(valueInfo),
            value_info: list(g.valueInfos.map(valueInfo)),
            quantization_annotations: list(g.quantizationAnnotations.map {
                AnnotationDTO(tensor_name: $0.tensorName,
                              quant_parameter_tensor_names: $0.quantParameterTensorNames.map { PairDTO(key: $0.key, value: $0.value) })
            }),
            metadata: pairs(g.metadata))
    }

    func sparse(_ s: SparseTensor) -> SparseDTO {
        SparseDTO(values: add(s.values), indices: add(s.indices), dims: s.dims)
    }

    func node(_ n: Node) -> NodeDTO {
        NodeDTO(name: text(n.name), op_type: n.opType, domain: text(n.domain), overload: text(n.overload),
                inputs: n.inputs, outputs: n.outputs, attributes: list(n.attributes.map(attribute)),
                doc_string: text(n.docString), metadata: pairs(n.metadata))
    }

    func attribute(_ a: Attribute) -> AttributeDTO {
        let value: AttributeDTO.Value
        switch a.value {
        case let .float(v): value = .float(FloatDTO(v))
        case let .int(v): value = .int(v)
        case let .string(v): value = .string(BytesDTO(v))
        case let .tensor(t): value = .tensor(add(t))
        case let .graph(g): value = .graph(graph(g))
        case let .sparseTensor(s): value = .sparseTensor(sparse(s))
        case let .type(t): value = .typeProto(type(t))
        case let .floats(v): value = .floats(v.map(FloatDTO.init))
        case let .ints(v): value = .ints(v)
        case let .strings(v): value = .strings(v.map(BytesDTO.init))
        case let .tensors(v): value = .tensors(v.map(add))
        case let .graphs(v): value = .graphs(v.map(graph))
        case let .sparseTensors(v): value = .sparseTensors(v.map(sparse))
        case let .types(v): value = .typeProtos(v.map(type))
        case let .reference(declared): value = .reference(declaredType: declared)
        }
        return AttributeDTO(name: a.name, value: value, refAttrName: text(a.refAttrName), docString: text(a.docString))
    }

    func valueInfo(_ v: ValueInfo) -> ValueInfoDTO {
        ValueInfoDTO(name: v.name, type: v.type.map(type), doc_string: text(v.docString), metadata: pairs(v.metadata))
    }

    func type(_ t: TypeDescriptor) -> TypeDTO {
        let d = TypeDTO()
        d.denotation = text(t.denotation)
        func dims(_ shape: [Dim]?) -> [DimDTO]? {
            shape?.map { dim in
                let v: DimDTO.Value
                switch dim.value {
                case let .known(x): v = .known(x)
                case let .symbol(s): v = .symbol(s)
                case .unknown: v = .unknown
                }
                return DimDTO(value: v, denotation: text(dim.denotation))
            }
        }
        switch t.kind {
        case let .tensor(elem, shape): d.tensor = TensorTypeDTO(elem_type: elem, shape: dims(shape))
        case let .sparseTensor(elem, shape): d.sparse_tensor = TensorTypeDTO(elem_type: elem, shape: dims(shape))
        case let .sequence(e): d.sequence = e.map(type) ?? TypeDTO()
        case let .optional(e): d.optional = e.map(type) ?? TypeDTO()
        case let .map(key, value): d.map = MapTypeDTO(key_type: key, value: value.map(type))
        case let .opaque(domain, name): d.opaque = OpaqueTypeDTO(domain: domain, name: name)
        case .none: break
        }
        return d
    }

    func function(_ f: Function) -> FunctionDTO {
        FunctionDTO(name: f.name, domain: f.domain, overload: text(f.overload), inputs: f.inputs, outputs: f.outputs,
                    attribute_names: list(f.attributeNames), attribute_defaults: list(f.attributeDefaults.map(attribute)),
                    nodes: f.nodes.map(node), doc_string: text(f.docString),
                    opset_import: list(f.opsetImports.map { OpsetDTO(domain: $0.domain, version: $0.version) }),
                    value_info: list(f.valueInfos.map(valueInfo)), metadata: pairs(f.metadata))
    }
}

/// Header -> IR, given the tensors the reader built from the table.
struct HeaderDecoding {
    let tensors: [Tensor]

    private func tensor(_ i: Int, _ path: String) throws -> Tensor {
        guard i >= 0, i < tensors.count else { throw RNWError.badTensorReference(path: path, index: i, count: tensors.count) }
        return tensors[i]
    }
    private func pairs(_ p: [PairDTO]?) -> [StringPair] { (p ?? []).map { StringPair($0.key, $0.value) } }

    func model(_ m: ModelDTO) throws -> Model {
        Model(irVersion: m.ir_version, opsetImports: m.opset_import.map { OpsetImport(domain: $0.domain, version: $0.version) },
              producerName: m.producer_name ?? "", producerVersion: m.producer_version ?? "", domain: m.domain ?? "",
              modelVersion: m.model_version, docString: m.doc_string ?? "", graph: try graph(m.graph, "model.graph"),
              metadata: pairs(m.metadata),
              functions: try (m.functions ?? []).enumerated().map { try function($0.element, "model.functions[\($0.offset)]") })
    }

    func graph(_ g: GraphDTO, _ path: String) throws -> Graph {
        Graph(name: g.name ?? "",
              nodes: try g.nodes.enumerated().map { try node($0.element, "\(path).nodes[\($0.offset)]") },
              initializers: try g.initializers.enumerated().map { try tensor($0.element, "\(path).initializers[\($0.offset)]") },
              sparseInitializers: try (g.sparse_initializers ?? []).enumerated().map {
                  try sparse($0.element, "\(path).sparse_initializers[\($0.offset)]")
              },
              docString: g.doc_string ?? "", inputs: g.inputs.map(valueInfo), outputs: g.outputs.map(valueInfo),
              valueInfos: (g.value_info ?? []).map(valueInfo),
              quantizationAnnotations: (g.quantization_annotations ?? []).map {
                  TensorAnnotation(tensorName: $0.tensor_name, quantParameterTensorNames: pairs($0.quant_parameter_tensor_names))
              },
              metadata: pairs(g.metadata))
    }

    func sparse(_ s: SparseDTO, _ path: String) throws -> SparseTensor {
        SparseTensor(values: try tensor(s.values, path + ".values"), indices: try tensor(s.indices, path + ".indices"), dims: s.dims)
    }

    func node(_ n: NodeDTO, _ path: String) throws -> Node {
        Node(name: n.name ?? "", opType: n.op_type, domain: n.domain ?? "", overload: n.overload ?? "",
             inputs: n.inputs, outputs: n.outputs,
             attributes: try (n.attributes ?? []).enumerated().map { try attribute($0.element, "\(path).attributes[\($0.offset)]") },
             docString: n.doc_string ?? "", metadata: pairs(n.metadata))
    }

    func attribute(_ a: AttributeDTO, _ path: String) throws -> Attribute {
        let value: Attribute.Value
        let vp = path + ".value"
        switch a.value {
        case let .float(v): value = .float(v.value)
        case let .int(v): value = .int(v)
        case let .string(v): value = .string(v.bytes)
        case let .tensor(i): value = .tensor(try tensor(i, vp))
        case let .graph(g): value = .graph(try graph(g, vp))
        case let .sparseTensor(s): value = .sparseTensor(try sparse(s, vp))
        case let .typeProto(t): value = .type(type(t))
        case let .floats(v): value = .floats(v.map(\.value))
        case let .ints(v): value = .ints(v)
        case let .strings(v): value = .strings(v.map(\.bytes))
        case let .tensors(v): value = .tensors(try v.enumerated().map { try tensor($0.element, "\(vp)[\($0.offset)]") })
        case let .graphs(v): value = .graphs(try v.enumerated().map { try graph($0.element, "\(vp)[\($0.offset)]") })
        case let .sparseTensors(v): value = .sparseTensors(try v.enumerated().map { try sparse($0.element, "\(vp)[\($0.offset)]") })
        case let .typeProtos(v): value = .types(v.map(type))
        case let .reference(declared): value = .reference(declaredType: declared)
        }
        return Attribute(name: a.name, value: value, docString: a.doc_string ?? "", refAttrName: a.ref_attr_name ?? "")
    }

    func valueInfo(_ v: ValueInfoDTO) -> ValueInfo {
        ValueInfo(name: v.name, type: v.type.map(type), docString: v.doc_string ?? "", metadata: pairs(v.metadata))
    }

    func type(_ t: TypeDTO) -> TypeDescriptor {
        func dims(_ shape: [DimDTO]?) -> [Dim]? {
            shape?.map { d in
                switch d.value {
                case let .known(v): return Dim(.known(v), denotation: d.denotation ?? "")
                case let .symbol(s): return Dim(.symbol(s), denotation: d.denotation ?? "")
                case .unknown: return Dim(.unknown, denotation: d.denotation ?? "")
                }
            }
        }
        let kind: TypeDescriptor.Kind
        if let x = t.tensor { kind = .tensor(elemType: x.elem_type, shape: dims(x.shape)) }
        else if let x = t.sparse_tensor { kind = .sparseTensor(elemType: x.elem_type, shape: dims(x.shape)) }
        else if let x = t.sequence { kind = .sequence(isEmpty(x) ? nil : type(x)) }
        else if let x = t.optional { kind = .optional(isEmpty(x) ? nil : type(x)) }
        else if let x = t.map { kind = .map(keyType: x.key_type, value: x.value.map(type)) }
        else if let x = t.opaque { kind = .opaque(domain: x.domain, name: x.name) }
        else { kind = .none }
        return TypeDescriptor(kind, denotation: t.denotation ?? "")
    }

    /// An empty object stands for "element type not given" in sequence/optional.
    private func isEmpty(_ t: TypeDTO) -> Bool {
        t.denotation == nil && t.tensor == nil && t.sparse_tensor == nil && t.sequence == nil && t.optional == nil
            && t.map == nil && t.opaque == nil
    }

    func function(_ f: FunctionDTO, _ path: String) throws -> Function {
        Function(name: f.name, domain: f.domain, overload: f.overload ?? "", inputs: f.inputs, outputs: f.outputs,
                 attributeNames: f.attribute_names ?? [],
                 attributeDefaults: try (f.attribute_defaults ?? []).enumerated().map {
                     try attribute($0.element, "\(path).attribute_defaults[\($0.offset)]")
                 },
                 nodes: try f.nodes.enumerated().map { try node($0.element, "\(path).nodes[\($0.offset)]") },
                 docString: f.doc_string ?? "",
                 opsetImports: (f.opset_import ?? []).map { OpsetImport(domain: $0.domain, version: $0.version) },
                 valueInfos: (f.value_info ?? []).map(valueInfo), metadata: pairs(f.metadata))
    }
}
