import Autodiff
import GAN
import Kernels
import NN
import XCTest

/// The network grammar: the tutorials' networks written in it, their Keras counts, the same
/// weights as the networks built by hand, and errors that name the layer.
final class ArchitectureTests: XCTestCase {
    static let dcganGenerator = """
        100 -> dense 12544 nobias -> batchnorm -> leaky 0.3 -> reshape 256x7x7
        -> deconv 128 5x5 stride 1 same nobias -> batchnorm -> leaky 0.3
        -> deconv 64 5x5 stride 2 same nobias -> batchnorm -> leaky 0.3
        -> deconv 1 5x5 stride 2 same nobias -> tanh
        """
    static let dcganDiscriminator = """
        1x28x28 -> conv 64 5x5 stride 2 same -> leaky 0.3 -> dropout 0.3
        -> conv 128 5x5 stride 2 same -> leaky 0.3 -> dropout 0.3 -> flatten -> dense 1
        """
    static let fashionGenerator = """
        100 -> 256 leaky -> batchnorm momentum 0.8 -> 512 leaky -> batchnorm momentum 0.8
        -> 1024 leaky -> batchnorm momentum 0.8 -> 784 tanh -> reshape 1x28x28
        """
    static let fashionDiscriminator = "1x28x28 -> flatten -> 512 leaky -> 256 leaky -> 1"

    /// [total, trainable], as Keras's summary prints them.
    private func counts(_ text: String) throws -> [Int] {
        var random = RandomSource(seed: 5)
        let model = try Architecture(parsing: text).build(using: &random)
        return [model.parameterCount + model.nonTrainableCount, model.parameterCount]
    }

    func testTutorialCountsWrittenInTheGrammar() throws {
        XCTAssertEqual(try counts(Self.dcganGenerator), [2_330_944, 2_305_472])
        XCTAssertEqual(try counts(Self.dcganDiscriminator), [212_865, 212_865])
        XCTAssertEqual(try counts(Self.fashionGenerator), [1_493_520, 1_489_936])
        XCTAssertEqual(try counts(Self.fashionDiscriminator), [533_505, 533_505])
        XCTAssertEqual(try counts("100 -> 256 relu -> 256 relu -> 256 relu -> 2 tanh"), [157_954, 157_954])
        XCTAssertEqual(try counts("2 -> 256 leaky -> 256 leaky -> 256 leaky -> 1"), [132_609, 132_609])
    }

    /// Layer kinds, parameter names and shapes, and every weight bit for bit.
    private func assertSameNetworks(_ built: Sequential, _ byHand: Sequential, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(built.layers.map(\.kind), byHand.layers.map(\.kind), file: file, line: line)
        XCTAssertEqual(built.namedTensors.map(\.name), byHand.namedTensors.map(\.name), file: file, line: line)
        XCTAssertEqual(built.namedTensors.map(\.parameter.value.shape), byHand.namedTensors.map(\.parameter.value.shape), file: file, line: line)
        for ((name, a), (_, b)) in zip(built.namedTensors, byHand.namedTensors) {
            XCTAssertEqual(a.value.scalars.map(\.bitPattern), b.value.scalars.map(\.bitPattern), "\(name) differs", file: file, line: line)
        }
    }

    /// The shorthand builds what it built before this grammar existed: the networks Workloads
    /// writes out by hand, layer for layer and weight for weight (same seed, same draws).
    func testShorthandBuildsTheSameLayersAndWeightsAsBefore() throws {
        let written: [(BenchmarkWorkload, String, String)] = [
            (.mlpGaussian, "100 -> 256 relu -> 256 relu -> 256 relu -> 2 tanh", "2 -> 256 leaky -> 256 leaky -> 256 leaky -> 1"),
            (.mlpQuadratic, "2 -> 16 leaky -> 16 leaky -> 2", "2 -> 16 leaky -> 16 leaky -> 2 -> 1"),
        ]
        for (workload, generatorText, discriminatorText) in written {
            var byHandRandom = RandomSource(seed: 17), random = RandomSource(seed: 17)
            let (generator, discriminator) = workload.models(using: &byHandRandom)
            let generatorArchitecture = try Architecture(parsing: generatorText)
            let discriminatorArchitecture = try Architecture(parsing: discriminatorText)
            assertSameNetworks(generatorArchitecture.build(using: &random), generator)
            assertSameNetworks(discriminatorArchitecture.build(using: &random), discriminator)
            XCTAssertEqual(random.nextBits(), byHandRandom.nextBits(), "\(workload): the same number of draws")
            // The shorthand's own description, and the Dense view other code reads.
            XCTAssertEqual(generatorArchitecture.description, generatorText)
            XCTAssertEqual(discriminatorArchitecture.description, discriminatorText)
        }
        let discriminator = try Architecture(parsing: "2 -> 16 leaky -> 16 leaky -> 2 -> 1")
        XCTAssertEqual(discriminator.blocks, [.init(width: 16, activation: .leakyRelu(slope: 0.2)), .init(width: 16, activation: .leakyRelu(slope: 0.2)),
                                             .init(width: 2, activation: .none), .init(width: 1, activation: .none)])
        XCTAssertEqual([discriminator.inputSize, discriminator.outputSize], [2, 1])
        XCTAssertEqual(discriminator, Architecture(inputSize: 2, blocks: discriminator.blocks))
        XCTAssertEqual(try Architecture(parsing: "4 -> 8 leaky(0.1) -> 3 sigmoid -> 2 linear").description, "4 -> 8 leaky(0.1) -> 3 sigmoid -> 2")
    }

    /// The tutorials' image networks written in the grammar are the benchmark's, built by hand in
    /// Workloads.swift: the same kinds, shapes and weights (the grammar's leaky slope is the
    /// tutorial's 0.3, which draws nothing).
    func testImageNetworksInTheGrammarAreTheBenchmarkNetworks() throws {
        for (workload, generatorText, discriminatorText) in [
            (BenchmarkWorkload.dcganMNIST, Self.dcganGenerator, Self.dcganDiscriminator),
            (.mlpFashion, Self.fashionGenerator.replacingOccurrences(of: " -> reshape 1x28x28", with: ""),
             Self.fashionDiscriminator.replacingOccurrences(of: "1x28x28 -> flatten", with: "784")),
        ] {
            var byHandRandom = RandomSource(seed: 3), random = RandomSource(seed: 3)
            let (generator, discriminator) = workload.models(using: &byHandRandom)
            let generatorArchitecture = try Architecture(parsing: generatorText)
            let discriminatorArchitecture = try Architecture(parsing: discriminatorText)
            assertSameNetworks(generatorArchitecture.build(using: &random), generator)
            assertSameNetworks(discriminatorArchitecture.build(using: &random), discriminator)
            XCTAssertEqual(random.nextBits(), byHandRandom.nextBits(), "\(workload): the same number of draws")
            // Every layer's output shape, worked out before building, is the built layer's.
            var shape = [4] + generatorArchitecture.inputShape
            for (layer, expected) in zip(generator.layers, try generatorArchitecture.layerShapes()) {
                shape = layer.outputShape(for: shape)
                XCTAssertEqual(Array(shape.dropFirst()), expected, "\(layer.kind)")
            }
            XCTAssertEqual(generator.layers.count, try generatorArchitecture.layerShapes().count)
        }
        let generator = try Architecture(parsing: Self.dcganGenerator)
        XCTAssertEqual([generator.inputShape, generator.outputShape], [[100], [1, 28, 28]])
        XCTAssertEqual(try Architecture(parsing: Self.dcganDiscriminator).inputShape, [1, 28, 28])
    }

    func testEveryLayerWordAndItsDescription() throws {
        let text = "3x8x8 -> conv 4 3x3 stride 2 valid nobias -> batchnorm momentum 0.8 epsilon 1e-5 -> relu -> dropout 0.25 "
            + "-> deconv 2 3 same stride 2 -> leaky(0.1) -> flatten -> dense 16 nobias leaky 0.3 -> sigmoid -> reshape 1x4x4 "
            + "-> conv 1 4x4 -> flatten -> 2 tanh"
        let architecture = try Architecture(parsing: text)
        XCTAssertEqual(architecture.layers, [
            .convolution(filters: 4, kernel: 3, stride: 2, padding: .valid, bias: false),
            .batchNormalization(momentum: 0.8, epsilon: 1e-5), .activation(.relu), .dropout(rate: 0.25),
            .transposedConvolution(filters: 2, kernel: 3, stride: 2, padding: .same, bias: true),
            .activation(.leakyRelu(slope: 0.1)), .flatten, .dense(width: 16, bias: false), .activation(.leakyRelu(slope: 0.3)),
            .activation(.sigmoid), .reshape([1, 4, 4]), .convolution(filters: 1, kernel: 4, stride: 1, padding: .valid, bias: true),
            .flatten, .dense(width: 2, bias: true), .activation(.tanh),
        ])
        XCTAssertEqual(try architecture.layerShapes(), [[4, 3, 3], [4, 3, 3], [4, 3, 3], [4, 3, 3], [2, 6, 6], [2, 6, 6], [72], [16], [16],
                                                        [16], [1, 4, 4], [1, 1, 1], [1], [2], [2]])
        XCTAssertEqual(architecture.description, "3x8x8 -> conv 4 3x3 stride 2 nobias -> batchnorm momentum 0.8 epsilon 1e-05 -> relu "
                       + "-> dropout 0.25 -> deconv 2 3x3 stride 2 same -> leaky 0.1 -> flatten -> dense 16 nobias -> leaky 0.3 -> sigmoid "
                       + "-> reshape 1x4x4 -> conv 1 4x4 -> flatten -> 2 tanh")
        XCTAssertEqual(try Architecture(parsing: architecture.description), architecture)
        // Each written layer keeps its text and where it starts, for file:line.
        XCTAssertEqual(architecture.inputSource?.text, "3x8x8")
        XCTAssertEqual(architecture.inputSource?.offset, 0)
        XCTAssertEqual(architecture.layerSources[13].text, "2 tanh")
        XCTAssertEqual(architecture.layerSources[13].offset, text.count - 6)
        XCTAssertEqual(architecture.layerSources[14], architecture.layerSources[13])
        // A built network runs and gives the shapes worked out before.
        var random = RandomSource(seed: 2)
        let model = architecture.build(using: &random)
        XCTAssertEqual(model.outputShape(for: [5, 3, 8, 8]), [5, 2])
        XCTAssertEqual(model(Variable(Tensor.normal(shape: [5, 3, 8, 8], using: &random))).shape, [5, 2])
    }

    private func error(_ text: String) -> ArchitectureError? {
        do {
            _ = try Architecture(parsing: text)
            return nil
        } catch {
            return error as? ArchitectureError
        }
    }

    func testGrammarErrorsNameTheLayerAndWhatWasExpected() throws {
        let cases: [(String, String, Int?)] = [
            ("100", "expected an input and layers joined by ->, like \"100 -> 256 relu -> 2 tanh\" or \"1x28x28 -> flatten -> 1\"", nil),
            ("100 -> -> 2", "a layer is missing between two arrows (->) in \"100 -> -> 2\"", 7),
            ("28x28 -> flatten -> 1", "the input \"28x28\" should be a size such as 100 or an image shape channels x height x width such as 1x28x28", 0),
            ("2 -> 8 relo -> 2", "layer \"8 relo\": unknown activation \"relo\" (expected relu, leaky, leaky 0.1, tanh, sigmoid or linear)", 5),
            ("2 -> dense -> 1", "layer \"dense\": dense needs a width, such as dense 256", 5),
            ("2 -> 8 relu nobias -> 1", "layer \"8 relu nobias\": unexpected \"nobias\" after relu", 5),
            ("2 -> 8 nobias nobias -> 1", "layer \"8 nobias nobias\": nobias comes right after the width: dense 8 nobias", 5),
            ("2 -> leaky slope -> 1", "layer \"leaky slope\": expected a slope after leaky, such as leaky 0.3, got \"slope\"", 5),
            ("2 -> linear -> 1", "layer \"linear\": linear is written after a Dense width (\"2 linear\"); on its own it does nothing", 5),
            ("2 -> batchnorm 0.8 -> 1", "layer \"batchnorm 0.8\": unexpected \"0.8\" (expected momentum M and epsilon E, e.g. batchnorm momentum 0.8)", 5),
            ("2 -> batchnorm momentum -> 1", "layer \"batchnorm momentum\": momentum needs a number from 0 to 1 after it, such as momentum 0.8", 5),
            ("2 -> batchnorm momentum 1.5 -> 1", "layer \"batchnorm momentum 1.5\": momentum 1.5 is outside 0…1 (Keras's convention: 0.99 keeps 99 % of the running statistics)", 5),
            ("2 -> dropout 1 -> 1", "layer \"dropout 1\": the dropout rate 1 must be at least 0 and below 1", 5),
            ("2 -> dropout -> 1", "layer \"dropout\": expected a rate, such as dropout 0.3", 5),
            ("4 -> reshape 2x2x -> 1", "layer \"reshape 2x2x\": expected a shape, such as reshape 256x7x7 (channels x height x width) or reshape 784", 5),
            ("4 -> reshape 2x2 -> 1", "layer \"reshape 2x2\": reshape to a size (784) or an image shape channels x height x width (1x28x28), not 2x2", 5),
            ("1x8x8 -> conv 4 -> flatten -> 1", "layer \"conv 4\": expected the number of filters and the kernel size, such as conv 64 5x5 stride 2 same", 9),
            ("1x8x8 -> conv 4 5x3 -> flatten -> 1", "layer \"conv 4 5x3\": only square kernels are supported (such as 5x5), not 5x3", 9),
            ("1x8x8 -> deconv 4 3x3 strides 2 -> flatten -> 1",
             "layer \"deconv 4 3x3 strides 2\": unexpected \"strides\" (expected stride N, same, valid, nobias or spectral, as in deconv 64 5x5 stride 2 same)", 9),
            ("1x8x8 -> conv 4 3x3 same valid -> flatten -> 1", "layer \"conv 4 3x3 same valid\": padding is given twice", 9),
            ("1x8x8 -> conv 4 3x3 stride 0 -> flatten -> 1", "layer \"conv 4 3x3 stride 0\": stride needs a positive whole number after it, such as stride 2", 9),
            ("2 -> 4294967296 -> 1", "layer \"4294967296\": a Dense width must be a whole number from 1 to 2,147,483,647", 5),
            ("65536x65536x65536 -> flatten -> 1", "the input 65536x65536x65536 must hold 1 to 2,147,483,647 numbers", 0),
            ("2 -> Conv2D 4 -> 1", "layer \"Conv2D 4\": unknown layer \"conv2d\" (expected a width such as 256, dense, relu, leaky, tanh, "
                + "sigmoid, batchnorm, dropout, reshape, flatten, conv or deconv)", 5),
        ]
        for (text, message, offset) in cases {
            let error = try XCTUnwrap(error(text), text)
            XCTAssertEqual(error.description, message, text)
            XCTAssertEqual(error.offset, offset, text)
        }
    }

    func testShapeErrorsNameTheLayerAndTheShapes() throws {
        let cases: [(String, String, Int)] = [
            ("1x28x28 -> conv 64 5x5 stride 2 same -> leaky -> dense 1",
             "layer \"dense 1\": a Dense layer reads a vector, but the layer before gives 64x14x14 images; put flatten before it", 49),
            ("1x28x28 -> 512 leaky -> 1", "layer \"512 leaky\": a Dense layer reads a vector, but the input is 1x28x28 images; put flatten before it", 11),
            ("100 -> dense 12544 -> reshape 128x7x7 -> flatten -> 1",
             "layer \"reshape 128x7x7\": 128x7x7 holds 6,272 numbers, but the layer before gives 12,544 numbers", 22),
            ("1x28x28 -> reshape 1x14x14 -> flatten -> 1",
             "layer \"reshape 1x14x14\": 1x14x14 holds 196 numbers, but the input is 1x28x28 images = 784 numbers", 11),
            ("100 -> conv 64 5x5 -> flatten -> 1",
             "layer \"conv 64 5x5\": a convolution reads images (channels x height x width), but the input is 100 numbers; "
                + "reshape them to images first (reshape CxHxW)", 7),
            ("100 -> 49 -> deconv 1 5x5 -> flatten -> 1",
             "layer \"deconv 1 5x5\": a transposed convolution reads images (channels x height x width), but the layer before gives "
                + "49 numbers; reshape them to images first (reshape CxHxW)", 13),
            ("1x4x4 -> conv 8 5x5 -> flatten -> 1",
             "layer \"conv 8 5x5\": a 5x5 kernel does not fit in 4x4 images without padding; write same, or use a smaller kernel", 9),
            // Sizes whose products would overflow are refused, not wrapped.
            ("4 -> 65536 -> reshape 65536x65536x65536 -> flatten -> 1",
             "layer \"reshape 65536x65536x65536\": 65536x65536x65536 holds more than 2,147,483,647 numbers", 14),
            ("1x28x28 -> deconv 100000 5x5 stride 100000 same -> flatten -> 1",
             "layer \"deconv 100000 5x5 stride 100000 same\": it gives 100000x2800000x2800000, more than 2,147,483,647 numbers per sample", 11),
        ]
        for (text, message, offset) in cases {
            let error = try XCTUnwrap(error(text), text)
            XCTAssertEqual(error.description, message, text)
            XCTAssertEqual(error.offset, offset, text)
        }
        // Made in code, a network is checked by layerShapes(); its errors name the layer in the grammar.
        let architecture = Architecture(inputShape: [1, 28, 28], layers: [.dense(width: 4, bias: false)])
        XCTAssertThrowsError(try architecture.layerShapes()) { error in
            XCTAssertEqual("\(error)", "layer \"dense 4 nobias\": a Dense layer reads a vector, but the input is 1x28x28 images; put flatten before it")
        }
    }

    /// Minibatch discrimination goes before the last Dense layer, with the weights drawn in layer order.
    func testMinibatchDiscriminationBeforeTheLastDenseLayer() throws {
        var random = RandomSource(seed: 9), byHandRandom = RandomSource(seed: 9)
        let built = try Architecture(parsing: "2 -> 16 leaky -> 8 relu -> 1").buildWithMinibatchDiscrimination(kernels: 5, kernelSize: 3, using: &random)
        let byHand = Sequential([Dense(inputSize: 2, outputSize: 16, using: &byHandRandom), LeakyReLU(),
                                 Dense(inputSize: 16, outputSize: 8, using: &byHandRandom), ReLU(),
                                 MinibatchDiscrimination(inputSize: 8, kernels: 5, kernelSize: 3, using: &byHandRandom),
                                 Dense(inputSize: 13, outputSize: 1, using: &byHandRandom)])
        assertSameNetworks(built, byHand)
        // Packing: the input becomes a vector of the packed size.
        var packed = try Architecture(parsing: "2 -> 16 leaky -> 1")
        packed.inputSize *= 4
        XCTAssertEqual(packed.description, "8 -> 16 leaky -> 1")
    }
}
