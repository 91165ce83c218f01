import Testing
@testable import ResNetExec
import ResNetIR
import ResNetKernelsReference

/// DQ -> MaxPool -> Q planned as a max pool of the quantized values themselves (Planner+QDQ.swift)
/// where Q gives back DQ's scale and zero point: then equal, value for value, to the graph read
/// literally (`exact`) and to the reference set, on every kernel set; and left in float where Q
/// rescales, moves the zero point or changes its type. (A negative scale, for which the pool would
/// pick the smallest value, is refused by QuantizeLinear's checks before any grouping.)
struct QDQMaxPoolTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String, qScale: Float, qZeroPoint: UInt8, qType: DataType, dqScale: Float, grouped: Bool
        var testDescription: String { name }
    }
    static let cases = [
        Case(name: "same scale and zero point", qScale: 0.05, qZeroPoint: 17, qType: .uint8, dqScale: 0.05, grouped: true),
        Case(name: "Q rescales", qScale: 0.1, qZeroPoint: 17, qType: .uint8, dqScale: 0.05, grouped: false),
        Case(name: "Q moves the zero point", qScale: 0.05, qZeroPoint: 18, qType: .uint8, dqScale: 0.05, grouped: false),
        Case(name: "Q's zero point of another type", qScale: 0.05, qZeroPoint: 17, qType: .int8, dqScale: 0.05, grouped: false),
    ]

    static func model(_ c: Case) -> Model {
        typealias P = Int8PlannerPathTests
        let inits = [P.float("sx", c.dqScale), P.bytes("zx", .uint8, []) { _ in 17 }, P.float("sq", c.qScale),
                     P.bytes("zq", c.qType, []) { _ in c.qZeroPoint }]
        let pool = Node(name: "pool", opType: "MaxPool", inputs: ["xd"], outputs: ["p"],
                        attributes: [Attribute(name: "kernel_shape", value: .ints([3, 3])), Attribute(name: "strides", value: .ints([2, 2])),
                                     Attribute(name: "pads", value: .ints([1, 1, 1, 1]))])
        let nodes = [P.node("QuantizeLinear", ["x", "sx", "zx"], "xq"), P.node("DequantizeLinear", ["xq", "sx", "zx"], "xd"), pool,
                     P.node("QuantizeLinear", ["p", "sq", "zq"], "pq"), P.node("DequantizeLinear", ["pq", "sq", "zq"], "y")]
        let g = Graph(nodes: nodes, initializers: inits,
                      inputs: [ValueInfo(name: "x", type: TypeDescriptor(.tensor(elemType: 1, shape: [.known(2), .known(5), .known(13), .known(13)])))],
                      outputs: [ValueInfo(name: "y", type: nil)])
        return Model(opsetImports: [OpsetImport(domain: "", version: 17)], graph: g)
    }

    @Test(arguments: cases)
    func poolOfTheQuantizedValuesEqualsTheGraphReadLiterally(_ c: Case) throws {
        let shape = [2, 5, 13, 13], model = Self.model(c)
        let x = (0..<shape.reduce(1, *)).map { i -> Float in Float((i &* 7919) % 233) * 0.031 - 3.1 }
        var literally = ExecOptions(kernels: .reference)
        literally.exact = true
        let literal = try Executor(model: model, options: literally).run(x, shape: shape).flatMap(\.values)
        for kernels in [KernelSet.avx512, .avx2, .reference] where kernels.isSupported {
            let executor = try Executor(model: model, options: ExecOptions(kernels: kernels))
            let ops = try executor.batchPlan(inputShape: shape).steps.map(\.op)
            let floatPool = ops.contains("DequantizeLinear") && ops.filter { $0 == "QuantizeLinear" }.count == 2
            #expect(floatPool == !c.grouped, "\(c.name) \(kernels): \(ops)")
            let got = try executor.run(x, shape: shape).flatMap(\.values)
            #expect(got == literal, "\(c.name) \(kernels): \(zip(got, literal).filter { $0 != $1 }.count) differ")
        }
    }
}
