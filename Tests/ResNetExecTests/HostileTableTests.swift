import Foundation
import Testing
import ResNetExec
import ResNetIR
import ResNetONNX

/// The hostile-graph table (fixtures/hostile, scripts/make_hostile.py) through
/// the planner API in process: where the table says `run` must refuse, the
/// planner throws a typed error naming the node or its value, before a step runs;
/// never a trap. The CLI side is Tests/integration/test_hostile.py.
struct HostileTableTests {
    struct Row: Decodable, Sendable, CustomTestStringConvertible {
        struct Expect: Decodable, Sendable { struct Run: Decodable, Sendable { let exit: [Int] }; let run: Run }
        let name: String
        let file: String
        let mentions: [String]
        let expect: Expect
        var testDescription: String { name }
    }

    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fixtures/hostile")

    static let rows: [Row] = {
        struct Index: Decodable { let cases: [Row] }
        guard let data = try? Data(contentsOf: folder.appendingPathComponent("index.json")),
              let index = try? JSONDecoder().decode(Index.self, from: data) else { return [] }
        return index.cases
    }()

    @Test func tableIsThere() {
        #expect(Self.rows.count >= 200)
        // The rows attack graph consumers, not the reader: nearly all must load.
        let loaded = Self.rows.filter { (try? ONNXReader.read(path: Self.folder.appendingPathComponent($0.file).path)) != nil }
        #expect(loaded.count * 10 >= Self.rows.count * 9, "\(loaded.count) of \(Self.rows.count) load")
    }

    @Test(arguments: rows)
    func plannerRefusesOrRuns(_ row: Row) throws {
        let path = Self.folder.appendingPathComponent(row.file).path
        guard let model = try? ONNXReader.read(path: path).model else { return }  // refused by the reader: fine
        let names = Set(model.graph.initializers.map(\.name))
        var shape = [1, 3, 8, 8]
        if let input = model.graph.inputs.first(where: { !names.contains($0.name) }), case let .tensor(_, dims?)? = input.type?.kind {
            shape = dims.map { d in if case let .known(v) = d.value, v > 0, let n = Int(exactly: v) { return n }; return 8 }
        }
        let options = ExecOptions(memoryBudget: MemoryBudget(bytes: 256 << 20))
        do {
            let plan = try Executor(model: model, options: options).plan(inputShape: shape)
            #expect(row.expect.run.exit.contains(0), "planned a model the table says must be refused")
            if let n = MemoryBudget.elementCount(shape), n <= 1 << 24 { _ = try plan.run([Float](repeating: 0.25, count: n)) }
        } catch let e as ExecError {
            #expect(row.expect.run.exit.contains(2), "\(e)")
            let text = e.description
            if case .inputShape = e { return }  // names the graph input
            if case .overBudget = e { #expect(text.contains("budget")); return }
            #expect(row.mentions.contains { text.contains($0) } || text.contains("graph"), "error does not name the node: \(text)")
        }
    }
}
