// C boundary (see ProtobufC.swift): IR -> protobuf-c ModelProto for packing.
import ONNXProtoC
import CProtobufC
import ResNetIR

/// Where a tensor's bytes go when the model is written.
enum TensorPlacement {
    /// Inline raw_data: the C struct holds an 8-byte index into `splicedTensors`;
    /// WireSplice writes the real bytes (so no second copy of the weights is built).
    case inline
    /// External data: location/offset/length entries; bytes go to the data file.
    case external(location: String, offset: Int, length: Int)
}

/// Builds C messages in an arena from the IR. `placement` decides each
/// initializer's storage; tensors it does not name are inline.
final class ONNXEncoder {
    let arena: CArena
    let placement: (Tensor) -> TensorPlacement
    /// Tensors whose bytes the splicer inserts, indexed by placeholder.
    private(set) var splicedTensors: [TensorBytes] = []

    init(arena: CArena, placement: @escaping (Tensor) -> TensorPlacement) {
        self.arena = arena
        self.placement = placement
    }

    func model(_ m: Model) throws -> UnsafeMutablePointer<Onnx__ModelProto> {
        let p = arena.message(onnx__model_proto__init)
        if let v = m.irVersion { p.pointee.has_ir_version = 1; p.pointee.ir_version = v }
        (p.pointee.n_opset_import, p.pointee.opset_import) = arena.messages(m.opsetImports, opset)
        p.pointee.producer_name = arena.cString(m.producerName)
        p.pointee.producer_version = arena.cString(m.producerVersion)
        p.pointee.domain = arena.cString(m.domain)
        if let v = m.modelVersion { p.pointee.has_model_version = 1; p.pointee.model_version = v }
        p.pointee.doc_string = arena.cString(m.docString)
        p.pointee.graph = try graph(m.graph)
        (p.pointee.n_metadata_props, p.pointee.metadata_props) = arena.messages(m.metadata, pair)
        (p.pointee.n_functions, p.pointee.functions) = try arena.messages(m.functions, function)
        return p
    }

    func opset(_ o: OpsetImport) -> UnsafeMutablePointer<Onnx__OperatorSetIdProto> {
        let p = arena.message(onnx__operator_set_id_proto__init)
        // Written even when empty, as onnx.helper and torch.onnx do (the IR does
        // not keep proto2's set-but-empty distinction; this is the common form).
        p.pointee.domain = arena.cStringAlways(o.domain)
        p.pointee.has_version = 1
        p.pointee.version = o.version
        return p
    }

    func pair(_ s: StringPair) -> UnsafeMutablePointer<Onnx__StringStringEntryProto> {
        let p = arena.message(onnx__string_string_entry_proto__init)
        p.pointee.key = arena.cString(s.key)
        p.pointee.value = arena.cString(s.value)
        return p
    }

    func graph(_ g: Graph) throws -> UnsafeMutablePointer<Onnx__GraphProto> {
        let p = arena.message(onnx__graph_proto__init)
        (p.pointee.n_node, p.pointee.node) = try arena.messages(g.nodes, node)
        p.pointee.name = arena.cString(g.name)
        (p.pointee.n_initializer, p.pointee.initializer) = try arena.messages(g.initializers) { try self.tensor($0, placement: self.placement($0)) }
        (p.pointee.n_sparse_initializer, p.pointee.sparse_initializer) = try arena.messages(g.sparseInitializers, sparseTensor)
        p.pointee.doc_string = arena.cString(g.docString)
        (p.pointee.n_input, p.pointee.input) = arena.messages(g.inputs, valueInfo)
        (p.pointee.n_output, p.pointee.output) = arena.messages(g.outputs, valueInfo)
        (p.pointee.n_value_info, p.pointee.value_info) = arena.messages(g.valueInfos, valueInfo)
        (p.pointee.n_quantization_annotation, p.pointee.quantization_annotation) = arena.messages(g.quantizationAnnotations) { a in
            let q = self.arena.message(onnx__tensor_annotation__init)
            q.pointee.tensor_name = self.arena.cString(a.tensorName)
            (q.pointee.n_quant_parameter_tensor_names, q.pointee.quant_parameter_tensor_names) =
                self.arena.messages(a.quantParameterTensorNames, self.pair)
            return q
        }
        (p.pointee.n_metadata_props, p.pointee.metadata_props) = arena.messages(g.metadata, pair)
        return p
    }

    private func strings(_ values: [String]) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) {
        arena.copy(values.map { Optional(arena.cStringAlways($0)) })
    }

    func node(_ n: Node) throws -> UnsafeMutablePointer<Onnx__NodeProto> {
        let p = arena.message(onnx__node_proto__init)
        (p.pointee.n_input, p.pointee.input) = strings(n.inputs)
        (p.pointee.n_output, p.pointee.output) = strings(n.outputs)
        p.pointee.name = arena.cString(n.name)
        p.pointee.op_type = arena.cString(n.opType)
        p.pointee.domain = arena.cString(n.domain)
        p.pointee.overload = arena.cString(n.overload)
        (p.pointee.n_attribute, p.pointee.attribute) = try arena.messages(n.attributes, attribute)
        p.pointee.doc_string = arena.cString(n.docString)
        (p.pointee.n_metadata_props, p.pointee.metadata_props) = arena.messages(n.metadata, pair)
        return p
    }

    func attribute(_ a: Attribute) throws -> UnsafeMutablePointer<Onnx__AttributeProto> {
        let p = arena.message(onnx__attribute_proto__init)
        p.pointee.name = arena.cString(a.name)
        p.pointee.ref_attr_name = arena.cString(a.refAttrName)
        p.pointee.doc_string = arena.cString(a.docString)
        var type: UInt32
        switch a.value {
        case let .float(v): type = 1; p.pointee.has_f = 1; p.pointee.f = v
        case let .int(v): type = 2; p.pointee.has_i = 1; p.pointee.i = v
        case let .string(v): type = 3; p.pointee.has_s = 1; p.pointee.s = arena.binary(v)
        case let .tensor(t): type = 4; p.pointee.t = try tensor(t, placement: .inline)
        case let .graph(g): type = 5; p.pointee.g = try graph(g)
        case let .sparseTensor(s): type = 11; p.pointee.sparse_tensor = try sparseTensor(s)
        case let .type(t): type = 13; p.pointee.tp = typeProto(t)
        case let .floats(v): type = 6; (p.pointee.n_floats, p.pointee.floats) = arena.copy(v)
        case let .ints(v): type = 7; (p.pointee.n_ints, p.pointee.ints) = arena.copy(v)
        case let .strings(v): type = 8; (p.pointee.n_strings, p.pointee.strings) = arena.copy(v.map(arena.binary))
        case let .tensors(v): type = 9; (p.pointee.n_tensors, p.pointee.tensors) = try arena.messages(v) { try self.tensor($0, placement: .inline) }
        case let .graphs(v): type = 10; (p.pointee.n_graphs, p.pointee.graphs) = try arena.messages(v, graph)
        case let .sparseTensors(v): type = 12; (p.pointee.n_sparse_tensors, p.pointee.sparse_tensors) = try arena.messages(v, sparseTensor)
        case let .types(v): type = 14; (p.pointee.n_type_protos, p.pointee.type_protos) = arena.messages(v, typeProto)
        case let .reference(declared): type = UInt32(bitPattern: declared)
        }
        if type != 0 {
            p.pointee.has_type = 1
            p.pointee.type = Onnx__AttributeProto__AttributeType(rawValue: type)
        }
        return p
    }

    func tensor(_ t: Tensor, placement: TensorPlacement) throws -> UnsafeMutablePointer<Onnx__TensorProto> {
        let p = arena.message(onnx__tensor_proto__init)
        (p.pointee.n_dims, p.pointee.dims) = arena.copy(t.dims)
        p.pointee.has_data_type = 1
        p.pointee.data_type = t.dataType.rawValue
        if let s = t.segment {
            let seg = arena.message(onnx__tensor_proto__segment__init)
            seg.pointee.has_begin = 1; seg.pointee.begin = s.begin
            seg.pointee.has_end = 1; seg.pointee.end = s.end
            p.pointee.segment = seg
        }
        p.pointee.name = arena.cString(t.name)
        p.pointee.doc_string = arena.cString(t.docString)
        (p.pointee.n_metadata_props, p.pointee.metadata_props) = arena.messages(t.metadata, pair)
        if t.dataType == .string {
            (p.pointee.n_string_data, p.pointee.string_data) = arena.copy(t.strings.map(arena.binary))
            return p
        }
        switch placement {
        case .inline:
            guard t.data.count <= Int(Int32.max) else {
                throw ONNXError.tensorTooLargeForProtobuf(path: "tensor '\(t.name)'", bytes: t.data.count)
            }
            var index = UInt64(splicedTensors.count).littleEndian
            splicedTensors.append(t.data)
            p.pointee.has_raw_data = 1
            p.pointee.raw_data = arena.binary(withUnsafeBytes(of: &index) { Array($0) })
        case let .external(location, offset, length):
            p.pointee.has_data_location = 1
            p.pointee.data_location = Onnx__TensorProto__DataLocation(rawValue: 1)
            let entries = [StringPair("location", location), StringPair("offset", String(offset)),
                           StringPair("length", String(length))]
            (p.pointee.n_external_data, p.pointee.external_data) = arena.messages(entries, pair)
        }
        return p
    }

    func sparseTensor(_ s: SparseTensor) throws -> UnsafeMutablePointer<Onnx__SparseTensorProto> {
        let p = arena.message(onnx__sparse_tensor_proto__init)
        p.pointee.values = try tensor(s.values, placement: .inline)
        p.pointee.indices = try tensor(s.indices, placement: .inline)
        (p.pointee.n_dims, p.pointee.dims) = arena.copy(s.dims)
        return p
    }

    func valueInfo(_ v: ValueInfo) -> UnsafeMutablePointer<Onnx__ValueInfoProto> {
        let p = arena.message(onnx__value_info_proto__init)
        p.pointee.name = arena.cString(v.name)
        p.pointee.type = v.type.map(typeProto)
        p.pointee.doc_string = arena.cString(v.docString)
        (p.pointee.n_metadata_props, p.pointee.metadata_props) = arena.messages(v.metadata, pair)
        return p
    }

    private func shape(_ dims: [Dim]?) -> UnsafeMutablePointer<Onnx__TensorShapeProto>? {
        guard let dims else { return nil }
        let s = arena.message(onnx__tensor_shape_proto__init)
        (s.pointee.n_dim, s.pointee.dim) = arena.messages(dims) { d in
            let q = self.arena.message(onnx__tensor_shape_proto__dimension__init)
            q.pointee.denotation = self.arena.cString(d.denotation)
            switch d.value {
            case let .known(v):
                q.pointee.value_case = Onnx__TensorShapeProto__Dimension__ValueCase(rawValue: 1)
                q.pointee.dim_value = v
            case let .symbol(name):
                q.pointee.value_case = Onnx__TensorShapeProto__Dimension__ValueCase(rawValue: 2)
                q.pointee.dim_param = self.arena.cStringAlways(name)
            case .unknown: break
            }
            return q
        }
        return s
    }

    func typeProto(_ t: TypeDescriptor) -> UnsafeMutablePointer<Onnx__TypeProto> {
        let p = arena.message(onnx__type_proto__init)
        p.pointee.denotation = arena.cString(t.denotation)
        func setCase(_ raw: UInt32) { p.pointee.value_case = Onnx__TypeProto__ValueCase(rawValue: raw) }
        switch t.kind {
        case let .tensor(elem, dims):
            let x = arena.message(onnx__type_proto__tensor__init)
            x.pointee.has_elem_type = 1; x.pointee.elem_type = elem
            x.pointee.shape = shape(dims)
            setCase(1); p.pointee.tensor_type = x
        case let .sparseTensor(elem, dims):
            let x = arena.message(onnx__type_proto__sparse_tensor__init)
            x.pointee.has_elem_type = 1; x.pointee.elem_type = elem
            x.pointee.shape = shape(dims)
            setCase(8); p.pointee.sparse_tensor_type = x
        case let .sequence(elem):
            let x = arena.message(onnx__type_proto__sequence__init)
            x.pointee.elem_type = elem.map(typeProto)
            setCase(4); p.pointee.sequence_type = x
        case let .optional(elem):
            let x = arena.message(onnx__type_proto__optional__init)
            x.pointee.elem_type = elem.map(typeProto)
            setCase(9); p.pointee.optional_type = x
        case let .map(key, value):
            let x = arena.message(onnx__type_proto__map__init)
            x.pointee.has_key_type = 1; x.pointee.key_type = key
            x.pointee.value_type = value.map(typeProto)
            setCase(5); p.pointee.map_type = x
        case let .opaque(domain, name):
            let x = arena.message(onnx__type_proto__opaque__init)
            x.pointee.domain = arena.cString(domain)
            x.pointee.name = arena.cString(name)
            setCase(7); p.pointee.opaque_type = x
        case .none: break
        }
        return p
    }

    func function(_ f: Function) throws -> UnsafeMutablePointer<Onnx__FunctionProto> {
        let p = arena.message(onnx__function_proto__init)
        p.pointee.name = arena.cString(f.name)
        (p.pointee.n_input, p.pointee.input) = strings(f.inputs)
        (p.pointee.n_output, p.pointee.output) = strings(f.outputs)
        (p.pointee.n_attribute, p.pointee.attribute) = strings(f.attributeNames)
        (p.pointee.n_attribute_proto, p.pointee.attribute_proto) = try arena.messages(f.attributeDefaults, attribute)
        (p.pointee.n_node, p.pointee.node) = try arena.messages(f.nodes, node)
        p.pointee.doc_string = arena.cString(f.docString)
        (p.pointee.n_opset_import, p.pointee.opset_import) = arena.messages(f.opsetImports, opset)
        p.pointee.domain = arena.cString(f.domain)
        p.pointee.overload = arena.cString(f.overload)
        (p.pointee.n_value_info, p.pointee.value_info) = arena.messages(f.valueInfos, valueInfo)
        (p.pointee.n_metadata_props, p.pointee.metadata_props) = arena.messages(f.metadata, pair)
        return p
    }
}
