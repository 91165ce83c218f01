import Testing
import ResNetIR
@testable import ResNetCheck

/// ResNeXt and Wide ResNet from their bottlenecks' widths and groups (issue 9).
struct FamilyTests {
    /// torchvision's bottleneck for `planes`: 1x1 to width, 3x3 (groups) at width, 1x1 to 4 * planes.
    static func bottleneck(planes: Int64, baseWidth: Int64, groups: Int64, stage: Int) -> ResidualBlock {
        let width = planes * baseWidth / 64 * groups
        func conv(_ k: Int64, _ out: Int64, _ g: Int64 = 1) -> ResidualBlock.ConvInfo {
            .init(name: "c", kernel: [k, k], stride: [1, 1], group: g, outChannels: out)
        }
        return ResidualBlock(name: "b", stage: stage, join: "j", shortcut: .identity, strideOn: nil, stridePosition: nil,
                             mainConvs: [conv(1, width), conv(3, width, groups), conv(1, 4 * planes)], shortcutConvs: [],
                             preActivation: false, inputShape: nil, outputShape: nil, mainShape: nil, shortcutShape: nil,
                             outputValue: "", mainValue: "", shortcutValue: "", nodeIndices: [], joinIndex: 0)
    }

    static func family(baseWidth: Int64, groups: Int64, layers: [Int] = [3, 4, 6, 3]) -> String {
        var blocks: [ResidualBlock] = []
        for (s, n) in layers.enumerated() {
            for _ in 0..<n { blocks.append(bottleneck(planes: 64 << Int64(s), baseWidth: baseWidth, groups: groups, stage: s + 1)) }
        }
        return ModelClassification.classify(blocks, stemConvs: 1, headLayers: 1, input: nil, output: nil).family
    }

    @Test func torchvisionFamilies() {
        #expect(Self.family(baseWidth: 64, groups: 1) == "resnet50")
        #expect(Self.family(baseWidth: 4, groups: 32) == "resnext50_32x4d")
        #expect(Self.family(baseWidth: 8, groups: 32, layers: [3, 4, 23, 3]) == "resnext101_32x8d")
        #expect(Self.family(baseWidth: 128, groups: 1) == "wide_resnet50_2")
        #expect(Self.family(baseWidth: 128, groups: 1, layers: [3, 4, 23, 3]) == "wide_resnet101_2")
        #expect(Self.family(baseWidth: 64, groups: 1, layers: [1, 1, 1, 1]) == "custom")
    }
}
