import Testing
import ResNetKernelsInt8

/// Int8Gemm's choice between splitting row panels and column panels between threads: rows
/// where they leave the busiest thread less than 15/16 of the column split's work, counted in
/// half tiles (a last panel of at most half the columns one), for resnet50's shapes and the
/// panel edges around them.
struct Int8RowSplitTests {
    @Test(arguments: [
        // 14x14 (6 full panels and 4 columns: 3 + 3.5 by columns), M 256 and 1024 on 8-row panels.
        (196, 32, 32, 2, true), (196, 32, 128, 2, true),
        // A last panel of 16 columns is a half; of 17, a whole one (3 + 4 then).
        (208, 32, 32, 2, true), (209, 32, 32, 2, true), (224, 32, 32, 2, true),
        // 28x28 (24 panels and 16 columns: 24 + 25 halves, 2% apart): columns stay.
        (784, 32, 16, 2, false),
        // 56x56 (98 whole panels, 49 each): even either way.
        (3136, 32, 8, 2, false),
        // One thread: nothing to balance; row panels fewer than threads' worth: columns.
        (196, 32, 32, 1, false), (196, 32, 3, 2, false),
        // AVX2's 16-column panels: 196 = 12 panels and 4 columns (13 halves against 12.5, rows 22 of 43: within 1/16).
        (196, 16, 43, 2, false),
    ])
    func choice(n: Int, columns: Int, rowPanels: Int, threads: Int, rows: Bool) {
        #expect(Int8Gemm.rowSplitBalancesBetter(n: n, columns: columns, rowPanels: rowPanels, threads: threads) == rows)
    }
}
