import ArgumentParser
import ResNetIR
import ResNetSafetensors
import ResNetSystem
import ResNetTorchvision

/// A .safetensors problem with the file it was found in (SafetensorsError is path-free).
struct SafetensorsFileError: Error, CustomStringConvertible {
    let path: String
    let error: SafetensorsError
    var description: String { "\(path): \(error)" }
}

/// What `resnet-convert` converts from: a model file, or a state dict made
/// into one (issue 12).
struct ConvertInput {
    let model: Model
    let formatName: String
    let fileSize: Int
    let transforms: [String]
    let warnings: [String]
    /// Printed after success (what the import did).
    let notes: [String]
    let file: MappedFile

    init(_ loaded: LoadedModel) {
        (model, formatName, fileSize, transforms) = (loaded.model, loaded.format.rawValue, loaded.fileSize, loaded.transforms)
        (warnings, notes, file) = (loaded.warnings, [], loaded.file)
    }

    init(model: Model, formatName: String, notes: [String], file: MappedFile) {
        (self.model, self.formatName, self.fileSize, self.transforms) = (model, formatName, file.count, [])
        (self.warnings, self.notes, self.file) = ([], notes, file)
    }
}

enum SafetensorsConversion {
    static func isSafetensors(_ path: String) -> Bool { path.lowercased().hasSuffix(".safetensors") }

    /// `W.safetensors --arch ARCH`: the architecture's graph with the state
    /// dict's tensors, every key matched as torch's strict load matches them.
    static func importModel(_ path: String, options: ArchitectureOptions) throws -> ConvertInput {
        let file = try MappedFile(path: path)
        let contents: SafetensorsContents
        do { contents = try SafetensorsReader.read(file: file) } catch let e as SafetensorsError {
            throw SafetensorsFileError(path: path, error: e)
        }
        let model: Model, report: BindingReport
        do {
            (model, report) = try TorchvisionImport.model(options, stateDict: contents.tensors.map(\.irTensor),
                                                          producerVersion: ResNetToolsVersion.string)
        } catch let e as StateDictError {
            throw InputError("\(path): \(e)\n(nothing was written)")
        }
        var note = "built \(options.modelName) (\(options.variant.rawValue), \(options.numClasses) classes, input \(options.inputSize)x\(options.inputSize)) from \(model.graph.initializers.count) tensors"
        let widened = report.widened.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.value) \($0.key)" }
        if !widened.isEmpty { note += "; widened to FLOAT: " + widened.joined(separator: ", ") }
        if !report.ignored.isEmpty { note += "; ignored \(report.ignored.count) num_batches_tracked" }
        return ConvertInput(model: model, formatName: "safetensors", notes: [note], file: file)
    }

    /// `model.onnx|rnw W.safetensors`: every initializer safetensors can hold,
    /// under its own name (torchvision's keys when the exporter kept them).
    static func export(_ model: Model, to path: String, protectedInputs: [String]) throws -> (bytes: Int, tensors: Int, notes: [String]) {
        var tensors: [SafetensorsTensor] = []
        var skipped: [Tensor] = []
        for t in model.graph.initializers {
            guard let dtype = SafetensorsDType(t.dataType) else { skipped.append(t); continue }
            tensors.append(SafetensorsTensor(name: t.name, dtype: dtype, shape: t.dims, data: t.data))
        }
        let summary: SafetensorsWriteSummary
        do {
            summary = try SafetensorsWriter.write(tensors, metadata: [StringPair("format", "pt")], to: path,
                                                  protectedInputs: protectedInputs)
        } catch let e as SafetensorsError {
            throw SafetensorsFileError(path: path, error: e)
        }
        var notes: [String] = []
        if let first = skipped.first {
            notes.append("skipped \(skipped.count) initializer(s) safetensors cannot hold (e.g. \(SafetensorsText.quoted(first.name)): \(first.dataType))")
        }
        return (summary.bytes, summary.tensorCount, notes)
    }
}

extension ConvertCommand {
    /// The model to convert: read from IN, or built from a state dict.
    func loadInput() throws -> ConvertInput {
        guard SafetensorsConversion.isSafetensors(input) else { return ConvertInput(try ModelFiles.load(input)) }
        return try SafetensorsConversion.importModel(input, options: try architectureOptions())
    }

    /// --arch and its companions, checked (ValidationError: exit 64).
    func architectureOptions() throws -> ArchitectureOptions {
        let known = TorchvisionArchitecture.allCases.map(\.rawValue).joined(separator: ", ")
        guard let arch else { throw ValidationError("a .safetensors input holds weights only: name its architecture with --arch (\(known))") }
        guard let architecture = TorchvisionArchitecture(rawValue: arch) else {
            throw ValidationError("--arch \(arch): unknown architecture (expected one of \(known))")
        }
        var options = ArchitectureOptions(architecture: architecture)
        if let variant {
            guard let v = ResNetVariant(rawValue: variant) else {
                throw ValidationError("--variant \(variant): expected one of \(ResNetVariant.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            options.variant = v
        }
        if let numClasses {
            guard ArchitectureOptions.numClassesRange.contains(numClasses) else {
                throw ValidationError("--num-classes \(numClasses): expected 1 to \(ArchitectureOptions.numClassesRange.upperBound)")
            }
            options.numClasses = numClasses
        }
        if let inputSize {
            guard ArchitectureOptions.inputSizeRange.contains(inputSize) else {
                throw ValidationError("--input-size \(inputSize): expected 1 to \(ArchitectureOptions.inputSizeRange.upperBound)")
            }
            options.inputSize = inputSize
        }
        return options
    }

    /// Which safetensors directions and options go together.
    func validateSafetensorsOptions() throws {
        let fromWeights = SafetensorsConversion.isSafetensors(input)
        if fromWeights && SafetensorsConversion.isSafetensors(output) {
            throw ValidationError("both files are .safetensors: convert weights to .onnx or .rnw with --arch, or a model to .safetensors")
        }
        if fromWeights {
            _ = try architectureOptions()
        } else if arch != nil || numClasses != nil || variant != nil || inputSize != nil {
            throw ValidationError("--arch, --num-classes, --variant and --input-size apply to a .safetensors input only")
        }
    }
}
