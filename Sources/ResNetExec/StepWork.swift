import ResNetKernelsReference

/// What a step runs, as data: the kernel the planner chose and every value it prepared for it
/// (tensor ids for its buffers, shapes, attributes, packed weights, the thread split), not a
/// closure over them. `perform(on:)` interprets it against a plan's buffers. One family a file,
/// as the planner's files go: Steps+Conv.swift (float convs), Steps+Winograd.swift, and so on.
///
/// Why data: a plan can then be listed, compared and checked case by case (what a step does is
/// in its value, not hidden in captured state), and a kernel's arguments are named where they
/// are made.
enum StepWork<T: ExecScalar> {
    /// A float convolution on a SIMD set's packed tiles (Steps+Conv.swift).
    case conv(PackedConv<T>)
    /// A convolution on the scalar reference: im2col, then the reference GEMM (Steps+Conv.swift).
    case referenceConv(ReferenceConv<T>)
    /// A 3x3 stride-1 conv as Winograd (Steps+Winograd.swift).
    case winograd(WinogradConv<T>)
    /// A 3x3 stride-1 conv as Winograd on channel lanes, channels last (Steps+Winograd.swift).
    case winogradChannelLanes(WinogradChannelLanesConv<T>)
    /// A QLinearConv on an integer tile (Steps+Int8Products.swift).
    case qlinearConv(QLinearConvStep<T>)
    /// A QLinearMatMul or QGemm on an integer tile (Steps+Int8Products.swift).
    case qlinearMatMul(QLinearMatMulStep<T>)
    /// A pool (Steps+Pooling.swift).
    case pool(PoolStep<T>)
    // Quantized operators (Steps+Quantized.swift).
    case quantizeLinear(QuantizeLinearStep<T>)
    case dequantizeLinear(DequantizeLinearStep<T>)
    case qlinearBinary(QLinearBinaryStep<T>)
    case qlinearActivation(QLinearActivationStep<T>)
    case qlinearGlobalAveragePool(QLinearGlobalAveragePoolStep<T>)
    case qlinearAveragePool(QLinearAveragePoolStep<T>)
    case qlinearConcat(QLinearConcatStep<T>)
    // Elementwise, products, data movement and general forms (Steps+Elementwise.swift, Steps+Generic.swift, Steps+Movement.swift).
    case relu(ReluStep<T>)
    case affine(AffineStep<T>)
    case activation(ActivationStep<T>)
    case addReference(AddReferenceStep<T>)
    case binary(BinaryStep<T>)
    case rowScalar(RowScalarStep<T>)
    case broadcast(BroadcastStep<T>)
    case scale(ScaleStep<T>)
    case transposeMatrix(MatrixTransposeStep<T>)
    case gemmPacked(PackedGemmStep<T>)
    case gemm(GemmStep<T>)
    case matmul(MatMulStep<T>)
    case softmaxAxis(SoftmaxAxisStep<T>)
    case softmax(SoftmaxStep<T>)
    case ones(OnesStep<T>)
    case concat(ConcatStep<T>)
    case padAnyRank(PadNDStep<T>)
    case pad(PadStep<T>)
    case slice(SliceStep<T>)
    case split(SplitStep<T>)
    case fillRows(FillRowsStep<T>)
    case stridedCopy(StridedCopyStep<T>)
    case whereSelect(WhereStep<T>)
    case directConv(DirectConvStep<T>)
    case reduceRun(ReduceRunStep<T>)
    case reduce(ReduceStep<T>)
    case gather(GatherStep<T>)
    case batchedMatMul(BatchedMatMulStep<T>)
    case batchNormTraining(TrainingBatchNormStep<T>)
    /// A tensor copied into the other layout for the convs that read it so (Steps+Conv.swift).
    case layoutCopy(LayoutCopy)

    /// The prepared kernel's name as a plan listing shows it: the case's, snake_case
    /// ("reference_conv"), a pool's with its kind ("pool.window"). Stable: the listing's schema
    /// enumerates them.
    var name: String {
        guard let child = Mirror(reflecting: self).children.first, let label = child.label else { return "unnamed" }
        guard let pool = child.value as? PoolStep<T>, let kind = Mirror(reflecting: pool).children.first?.label else { return Self.snakeCase(label) }
        return Self.snakeCase(label) + "." + Self.snakeCase(kind)
    }

    static func snakeCase(_ name: String) -> String {
        name.reduce(into: "") { out, c in
            if c.isUppercase { out += "_" + c.lowercased() } else { out.append(c) }
        }
    }

    /// Runs the step on `plan`'s buffers. Specialised for both plan precisions: `run` is public and
    /// called from other modules unspecialised, and a generic kernel body reads its buffers through
    /// type metadata per element (resnet50-qop's global pool took 2.69 ms so, against 0.021).
    @_specialize(exported: false, where T == Float)
    @_specialize(exported: false, where T == Double)
    func perform(on plan: ExecutionPlanOf<T>) {
        switch self {
        case let .conv(c): c.perform(on: plan)
        case let .referenceConv(c): c.perform(on: plan)
        case let .winograd(c): c.perform(on: plan)
        case let .winogradChannelLanes(c): c.perform(on: plan)
        case let .qlinearConv(c): c.perform(on: plan)
        case let .qlinearMatMul(c): c.perform(on: plan)
        case let .pool(s): s.perform(on: plan)
        case let .quantizeLinear(s): s.perform(on: plan)
        case let .dequantizeLinear(s): s.perform(on: plan)
        case let .qlinearBinary(s): s.perform(on: plan)
        case let .qlinearActivation(s): s.perform(on: plan)
        case let .qlinearGlobalAveragePool(s): s.perform(on: plan)
        case let .qlinearAveragePool(s): s.perform(on: plan)
        case let .qlinearConcat(s): s.perform(on: plan)
        case let .relu(s): s.perform(on: plan)
        case let .affine(s): s.perform(on: plan)
        case let .activation(s): s.perform(on: plan)
        case let .addReference(s): s.perform(on: plan)
        case let .binary(s): s.perform(on: plan)
        case let .rowScalar(s): s.perform(on: plan)
        case let .broadcast(s): s.perform(on: plan)
        case let .scale(s): s.perform(on: plan)
        case let .transposeMatrix(s): s.perform(on: plan)
        case let .gemmPacked(s): s.perform(on: plan)
        case let .gemm(s): s.perform(on: plan)
        case let .matmul(s): s.perform(on: plan)
        case let .softmaxAxis(s): s.perform(on: plan)
        case let .softmax(s): s.perform(on: plan)
        case let .ones(s): s.perform(on: plan)
        case let .concat(s): s.perform(on: plan)
        case let .padAnyRank(s): s.perform(on: plan)
        case let .pad(s): s.perform(on: plan)
        case let .slice(s): s.perform(on: plan)
        case let .split(s): s.perform(on: plan)
        case let .fillRows(s): s.perform(on: plan)
        case let .stridedCopy(s): s.perform(on: plan)
        case let .whereSelect(s): s.perform(on: plan)
        case let .directConv(s): s.perform(on: plan)
        case let .reduceRun(s): s.perform(on: plan)
        case let .reduce(s): s.perform(on: plan)
        case let .gather(s): s.perform(on: plan)
        case let .batchedMatMul(s): s.perform(on: plan)
        case let .batchNormTraining(s): s.perform(on: plan)
        case let .layoutCopy(c): c.perform(on: plan)
        }
    }
}
