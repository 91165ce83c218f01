import ResNetIR

/// A state dict plus an architecture make a whole model.
public enum TorchvisionImport {
    /// The generated graph with the state dict's tensors as its initializers,
    /// or a StateDictError listing every key that does not fit.
    public static func model(_ options: ArchitectureOptions, stateDict: [Tensor],
                             producerVersion: String) throws -> (Model, BindingReport) {
        let architecture = ArchitectureGraph(options)
        let (initializers, report) = try StateDictBinding.bind(stateDict, to: architecture)
        let h = Int64(options.inputSize)
        func float(_ name: String, _ dims: [Dim]) -> ValueInfo {
            ValueInfo(name: name, type: TypeDescriptor(.tensor(elemType: DataType.float.rawValue, shape: dims)))
        }
        let graph = Graph(
            name: "main_graph", nodes: architecture.nodes, initializers: initializers,
            inputs: [float(architecture.inputName, [.symbol("batch"), .known(3), .known(h), .known(h)])],
            outputs: [float(architecture.outputName, [.symbol("batch"), .known(Int64(options.numClasses))])])
        // Opset 17 / IR 8, as torch's legacy exporter writes by default.
        let model = Model(irVersion: 8, opsetImports: [OpsetImport(domain: "", version: 17)],
                          producerName: "resnet-tools", producerVersion: producerVersion, graph: graph,
                          metadata: [StringPair("architecture", options.modelName),
                                     StringPair("variant", options.variant.rawValue),
                                     StringPair("weights", "state dict (safetensors)")])
        return (model, report)
    }
}
