// C boundary (see ProtobufC.swift): protobuf-c's decoded ModelProto -> IR.
import ONNXProtoC
import CProtobufC
import ResNetIR

/// Translates an unpacked slim ModelProto into the IR. Every raw_data field of
/// the slim model holds an index into `rawDataSpans` (see WireScan.swift);
/// the tensor then borrows those bytes from `source` without copying.
struct ONNXDecoder {
    let file: String
    let source: any ByteRegionOwner
    let rawDataSpans: [Range<Int>]
    /// Resolves external data: (tensor path, key/value entries, expected byte count).
    let resolveExternal: (String, [StringPair], Int) throws -> TensorBytes

    func model(_ m: UnsafePointer<Onnx__ModelProto>) throws -> Model {
        let p = m.pointee
        if p.n_training_info > 0 { throw ONNXError.unsupportedFeature(path: "model", feature: "training_info") }
        if p.n_configuration > 0 { throw ONNXError.unsupportedFeature(path: "model", feature: "device configuration") }
        guard let g = p.graph else { throw ONNXError.missingGraph(file: file) }
        return Model(
            irVersion: p.has_ir_version != 0 ? p.ir_version : nil,
            opsetImports: CView.messages(p.n_opset_import, p.opset_import).map(opset),
            producerName: CView.string(p.producer_name),
            producerVersion: CView.string(p.producer_version),
            domain: CView.string(p.domain),
            modelVersion: p.has_model_version != 0 ? p.model_version : nil,
            docString: CView.string(p.doc_string),
            graph: try graph(g, path: "graph"),
            metadata: pairs(p.n_metadata_props, p.metadata_props),
            functions: try CView.messages(p.n_functions, p.functions).enumerated().map {
                try function($0.element, path: "functions[\($0.offset)]")
            })
    }

    func opset(_ o: UnsafeMutablePointer<Onnx__OperatorSetIdProto>) -> OpsetImport {
        OpsetImport(domain: CView.string(o.pointee.domain), version: o.pointee.has_version != 0 ? o.pointee.version : 0)
    }

    func pairs(_ n: Int, _ p: UnsafeMutablePointer<UnsafeMutablePointer<Onnx__StringStringEntryProto>?>?) -> [StringPair] {
        CView.messages(n, p).map { StringPair(CView.string($0.pointee.key), CView.string($0.pointee.value)) }
    }

    func graph(_ g: UnsafeMutablePointer<Onnx__GraphProto>, path: String) throws -> Graph {
        let p = g.pointee
        return Graph(
            name: CView.string(p.name),
            nodes: try CView.messages(p.n_node, p.node).enumerated().map {
                try node($0.element, path: "\(path).node[\($0.offset)]")
            },
            initializers: try CView.messages(p.n_initializer, p.initializer).enumerated().map {
                try tensor($0.element, path: "\(path).initializer[\($0.offset)]")
            },
            sparseInitializers: try CView.messages(p.n_sparse_initializer, p.sparse_initializer).enumerated().map {
                try sparseTensor($0.element, path: "\(path).sparse_initializer[\($0.offset)]")
            },
            docString: CView.string(p.doc_string),
            inputs: CView.messages(p.n_input, p.input).map(valueInfo),
            outputs: CView.messages(p.n_output, p.output).map(valueInfo),
            valueInfos: CView.messages(p.n_value_info, p.value_info).map(valueInfo),
            quantizationAnnotations: CView.messages(p.n_quantization_annotation, p.quantization_annotation).map {
                TensorAnnotation(tensorName: CView.string($0.pointee.tensor_name),
                                 quantParameterTensorNames: pairs($0.pointee.n_quant_parameter_tensor_names,
                                                                  $0.pointee.quant_parameter_tensor_names))
            },
            metadata: pairs(p.n_metadata_props, p.metadata_props))
    }

    func node(_ n: UnsafeMutablePointer<Onnx__NodeProto>, path: String) throws -> Node {
        let p = n.pointee
        let name = CView.string(p.name)
        let here = name.isEmpty ? path : "\(path) '\(name)'"
        if p.n_device_configurations > 0 {
            throw ONNXError.unsupportedFeature(path: here, feature: "device_configurations")
        }
        return Node(
            name: name, opType: CView.string(p.op_type), domain: CView.string(p.domain),
            overload: CView.string(p.overload),
            inputs: CView.strings(p.n_input, p.input), outputs: CView.strings(p.n_output, p.output),
            attributes: try CView.messages(p.n_attribute, p.attribute).map { try attribute($0, nodePath: here) },
            docString: CView.string(p.doc_string),
            metadata: pairs(p.n_metadata_props, p.metadata_props))
    }

    func attribute(_ a: UnsafeMutablePointer<Onnx__AttributeProto>, nodePath: String) throws -> Attribute {
        let p = a.pointee
        let name = CView.string(p.name)
        let path = "\(nodePath) attribute '\(name)'"
        let refName = CView.string(p.ref_attr_name)
        // IR version 1 files have no type: infer it from the field present.
        let declared: UInt32 = p.has_type != 0 ? p.type.rawValue : inferredAttributeType(p)
        func missing(_ what: String) -> ONNXError {
            .attributeTypeMismatch(path: path, declared: what, present: "no \(what) value")
        }
        let value: Attribute.Value
        if !refName.isEmpty && !hasAnyValue(p) {
            value = .reference(declaredType: Int32(bitPattern: declared))
        } else {
            switch declared {
            case 1: guard p.has_f != 0 else { throw missing("FLOAT") }; value = .float(p.f)
            case 2: guard p.has_i != 0 else { throw missing("INT") }; value = .int(p.i)
            case 3: guard p.has_s != 0 else { throw missing("STRING") }; value = .string(CView.bytes(p.s))
            case 4: guard let t = p.t else { throw missing("TENSOR") }; value = .tensor(try tensor(t, path: path))
            case 5: guard let g = p.g else { throw missing("GRAPH") }; value = .graph(try graph(g, path: "\(path).g"))
            case 11:
                guard let s = p.sparse_tensor else { throw missing("SPARSE_TENSOR") }
                value = .sparseTensor(try sparseTensor(s, path: path))
            case 13: guard let t = p.tp else { throw missing("TYPE_PROTO") }; value = .type(type(t))
            case 6: value = .floats(Array(CView.buffer(p.n_floats, p.floats)))
            case 7: value = .ints(Array(CView.buffer(p.n_ints, p.ints)))
            case 8: value = .strings(CView.buffer(p.n_strings, p.strings).map(CView.bytes))
            case 9:
                value = .tensors(try CView.messages(p.n_tensors, p.tensors).enumerated().map {
                    try tensor($0.element, path: "\(path)[\($0.offset)]")
                })
            case 10:
                value = .graphs(try CView.messages(p.n_graphs, p.graphs).enumerated().map {
                    try graph($0.element, path: "\(path)[\($0.offset)]")
                })
            case 12:
                value = .sparseTensors(try CView.messages(p.n_sparse_tensors, p.sparse_tensors).enumerated().map {
                    try sparseTensor($0.element, path: "\(path)[\($0.offset)]")
                })
            case 14: value = .types(CView.messages(p.n_type_protos, p.type_protos).map(type))
            default: throw ONNXError.unknownAttributeType(path: path, value: Int32(bitPattern: declared))
            }
        }
        return Attribute(name: name, value: value, docString: CView.string(p.doc_string), refAttrName: refName)
    }

    private func hasAnyValue(_ p: Onnx__AttributeProto) -> Bool {
        inferredAttributeType(p) != 0
    }

    private func inferredAttributeType(_ p: Onnx__AttributeProto) -> UInt32 {
        if p.has_f != 0 { return 1 }
        if p.has_i != 0 { return 2 }
        if p.has_s != 0 { return 3 }
        if p.t != nil { return 4 }
        if p.g != nil { return 5 }
        if p.sparse_tensor != nil { return 11 }
        if p.tp != nil { return 13 }
        if p.n_floats > 0 { return 6 }
        if p.n_ints > 0 { return 7 }
        if p.n_strings > 0 { return 8 }
        if p.n_tensors > 0 { return 9 }
        if p.n_graphs > 0 { return 10 }
        if p.n_sparse_tensors > 0 { return 12 }
        if p.n_type_protos > 0 { return 14 }
        return 0
    }

    func tensor(_ t: UnsafeMutablePointer<Onnx__TensorProto>, path outer: String) throws -> Tensor {
        let p = t.pointee
        let name = CView.string(p.name)
        let path = name.isEmpty ? outer : "\(outer) '\(name)'"
        let rawType = p.has_data_type != 0 ? p.data_type : 0
        guard let dataType = DataType(rawValue: rawType) else {
            throw ONNXError.unknownDataType(path: path, value: rawType)
        }
        let dims = Array(CView.buffer(p.n_dims, p.dims))
        guard let count = elementCount(dims) else { throw ONNXError.invalidDims(path: path, dims: dims) }
        var tensor = Tensor(name: name, dataType: dataType, dims: dims, data: .empty,
                            docString: CView.string(p.doc_string),
                            segment: p.segment.map { Tensor.Segment(begin: $0.pointee.begin, end: $0.pointee.end) },
                            metadata: pairs(p.n_metadata_props, p.metadata_props))
        if dataType == .string {
            tensor.strings = CView.buffer(p.n_string_data, p.string_data).map(CView.bytes)
            guard tensor.strings.count == count else {
                throw ONNXError.dataSizeMismatch(path: path, dataType: "STRING", dims: dims,
                                                 expectedBytes: count, actualBytes: tensor.strings.count)
            }
            return tensor
        }
        guard let expected = dataType.byteCount(elements: count) else {
            throw ONNXError.invalidDims(path: path, dims: dims)
        }
        let present = [("raw_data", p.has_raw_data != 0), ("float_data", p.n_float_data > 0),
                       ("int32_data", p.n_int32_data > 0), ("string_data", p.n_string_data > 0),
                       ("int64_data", p.n_int64_data > 0), ("double_data", p.n_double_data > 0),
                       ("uint64_data", p.n_uint64_data > 0)].filter { $0.1 }.map { $0.0 }
        let external = p.has_data_location != 0 && p.data_location.rawValue == 1
        if present.count > 1 || (external && !present.isEmpty) {
            throw ONNXError.multipleDataFields(path: path, fields: present + (external ? ["external_data"] : []))
        }
        if external {
            tensor.data = try resolveExternal(path, pairs(p.n_external_data, p.external_data), expected)
        } else {
            switch present.first {
            case "raw_data": tensor.data = try borrowedRawData(p.raw_data, path: path)
            case "float_data": tensor.data = TensorBytes(try TypedTensorData.fromFloats(CView.buffer(p.n_float_data, p.float_data), as: dataType, path: path))
            case "int32_data": tensor.data = TensorBytes(try TypedTensorData.fromInt32s(CView.buffer(p.n_int32_data, p.int32_data), as: dataType, path: path))
            case "int64_data": tensor.data = TensorBytes(try TypedTensorData.fromInt64s(CView.buffer(p.n_int64_data, p.int64_data), as: dataType, path: path))
            case "double_data": tensor.data = TensorBytes(try TypedTensorData.fromDoubles(CView.buffer(p.n_double_data, p.double_data), as: dataType, path: path))
            case "uint64_data": tensor.data = TensorBytes(try TypedTensorData.fromUInt64s(CView.buffer(p.n_uint64_data, p.uint64_data), as: dataType, path: path))
            case "string_data": throw ONNXError.dataFieldMismatch(path: path, field: "string_data", dataType: dataType.description)
            default: break  // no data: valid only for zero elements, checked below
            }
        }
        guard tensor.data.count == expected else {
            throw ONNXError.dataSizeMismatch(path: path, dataType: dataType.description, dims: dims,
                                             expectedBytes: expected, actualBytes: tensor.data.count)
        }
        return tensor
    }

    /// The slim model's raw_data is an 8-byte index into `rawDataSpans`.
    private func borrowedRawData(_ b: ProtobufCBinaryData, path: String) throws -> TensorBytes {
        let placeholder = CView.bytes(b)
        var index: UInt64 = 0
        for (i, byte) in placeholder.prefix(8).enumerated() { index |= UInt64(byte) << (8 * UInt64(i)) }
        guard placeholder.count == 8, let i = Int(exactly: index), i < rawDataSpans.count,
              let bytes = TensorBytes(owner: source, range: rawDataSpans[i]) else {
            // Unreachable for a slim model from WireScanner; reported, never trusted.
            throw ONNXError.notAModelProto(file: file, size: source.byteCount)
        }
        return bytes
    }

    func sparseTensor(_ s: UnsafeMutablePointer<Onnx__SparseTensorProto>, path: String) throws -> SparseTensor {
        guard let values = s.pointee.values, let indices = s.pointee.indices else {
            throw ONNXError.unsupportedFeature(path: path, feature: "sparse tensor without values or indices")
        }
        return SparseTensor(values: try tensor(values, path: "\(path).values"),
                            indices: try tensor(indices, path: "\(path).indices"),
                            dims: Array(CView.buffer(s.pointee.n_dims, s.pointee.dims)))
    }

    func valueInfo(_ v: UnsafeMutablePointer<Onnx__ValueInfoProto>) -> ValueInfo {
        ValueInfo(name: CView.string(v.pointee.name), type: v.pointee.type.map(type),
                  docString: CView.string(v.pointee.doc_string),
                  metadata: pairs(v.pointee.n_metadata_props, v.pointee.metadata_props))
    }

    func type(_ t: UnsafeMutablePointer<Onnx__TypeProto>) -> TypeDescriptor {
        let p = t.pointee
        func shape(_ s: UnsafeMutablePointer<Onnx__TensorShapeProto>?) -> [Dim]? {
            guard let s else { return nil }
            return CView.messages(s.pointee.n_dim, s.pointee.dim).map { d in
                let denotation = CView.string(d.pointee.denotation)
                switch d.pointee.value_case.rawValue {
                case 1: return Dim(.known(d.pointee.dim_value), denotation: denotation)
                case 2: return Dim(.symbol(CView.string(d.pointee.dim_param)), denotation: denotation)
                default: return Dim(.unknown, denotation: denotation)
                }
            }
        }
        // protobuf-c sets the union member named by value_case; a NULL one is
        // read as "no kind" rather than trusted.
        let kind: TypeDescriptor.Kind
        switch p.value_case.rawValue {
        case 1:
            guard let x = p.tensor_type?.pointee else { kind = .none; break }
            kind = .tensor(elemType: x.has_elem_type != 0 ? x.elem_type : 0, shape: shape(x.shape))
        case 8:
            guard let x = p.sparse_tensor_type?.pointee else { kind = .none; break }
            kind = .sparseTensor(elemType: x.has_elem_type != 0 ? x.elem_type : 0, shape: shape(x.shape))
        case 4:
            guard let x = p.sequence_type?.pointee else { kind = .none; break }
            kind = .sequence(x.elem_type.map(type))
        case 9:
            guard let x = p.optional_type?.pointee else { kind = .none; break }
            kind = .optional(x.elem_type.map(type))
        case 5:
            guard let x = p.map_type?.pointee else { kind = .none; break }
            kind = .map(keyType: x.has_key_type != 0 ? x.key_type : 0, value: x.value_type.map(type))
        case 7:
            guard let x = p.opaque_type?.pointee else { kind = .none; break }
            kind = .opaque(domain: CView.string(x.domain), name: CView.string(x.name))
        default: kind = .none
        }
        return TypeDescriptor(kind, denotation: CView.string(p.denotation))
    }

    func function(_ f: UnsafeMutablePointer<Onnx__FunctionProto>, path: String) throws -> Function {
        let p = f.pointee
        let name = CView.string(p.name)
        let here = "\(path) '\(name)'"
        return Function(
            name: name, domain: CView.string(p.domain), overload: CView.string(p.overload),
            inputs: CView.strings(p.n_input, p.input), outputs: CView.strings(p.n_output, p.output),
            attributeNames: CView.strings(p.n_attribute, p.attribute),
            attributeDefaults: try CView.messages(p.n_attribute_proto, p.attribute_proto).map {
                try attribute($0, nodePath: here)
            },
            nodes: try CView.messages(p.n_node, p.node).enumerated().map {
                try node($0.element, path: "\(here).node[\($0.offset)]")
            },
            docString: CView.string(p.doc_string),
            opsetImports: CView.messages(p.n_opset_import, p.opset_import).map(opset),
            valueInfos: CView.messages(p.n_value_info, p.value_info).map(valueInfo),
            metadata: pairs(p.n_metadata_props, p.metadata_props))
    }
}
