import CDNNL
import Synchronization

// Convolutions on oneDNN, the fastest kernels' path: forward, backward-data (which is also the
// transposed convolution) and backward-weights primitives, created once per geometry and kept.
// Each primitive picks its own layouts (oneDNN's blocked ones, 16 channels a block with
// AVX-512); reorders from and to NCHW run at the edges. The batch is cut into chunks that run
// side by side on the lab's threads, each chunk a single-threaded primitive, so that no number
// depends on the thread count: the weight gradient adds the chunks' shares in chunk order.

/// The most chunks a batch is cut into: eight chunks of 32 samples run as fast per sample as
/// the whole batch of 256 on one primitive, and let two threads share the work evenly when the
/// machine's other load slows one of them.
let dnnlChunkLimit = 8

/// A tensor with fewer channels than a blocked layout's block keeps the plain layout: oneDNN
/// would pad one channel to 16 and run its 1-channel layers several times slower (its
/// 1-channel backward-data then runs on a GEMM-based kernel in the plain layout instead).
let blockedChannels = 16

/// The three passes of a convolution.
enum ConvolutionPassKind: Hashable {
    case forward, forwardWithBias, backwardData, backwardWeights
}

/// One convolution pass on oneDNN for one batch size: the primitive and its operands, the
/// convolution's input (source), weights and output (destination), or their gradients where the
/// pass computes them.
final class DNNLConvolution {
    let primitive: DNNLPrimitive
    let source: DNNLOperand, weights: DNNLOperand, destination: DNNLOperand
    let bias: DNNLOperand?

    /// nil when oneDNN has no kernel for `g` but its reference loops (slower than im2col by far).
    init?(_ g: ConvolutionGeometry, _ kind: ConvolutionPassKind) {
        let plain = (source: memoryLayout(g.inputShape, dnnl_nchw), weights: memoryLayout(g.weightShape, dnnl_oihw),
                     destination: memoryLayout(g.outputShape, dnnl_nchw))
        func chosen(_ shape: [Int], channels: Int) -> dnnl_memory_desc_t {
            memoryLayout(shape, channels < blockedChannels ? dnnl_nchw : dnnl_format_tag_any)
        }
        var layouts = ConvolutionLayouts(source: chosen(g.inputShape, channels: g.inputChannels),
                                         weights: memoryLayout(g.weightShape, dnnl_format_tag_any),
                                         destination: chosen(g.outputShape, channels: g.outputChannels),
                                         bias: kind == .forwardWithBias ? memoryLayout([g.outputChannels], dnnl_a) : nil)
        guard let descriptor = layouts.primitiveDescriptor(g, kind) else { return nil }
        func layout(_ query: dnnl_query_t) -> dnnl_memory_desc_t { dnnl_primitive_desc_query_md(descriptor, query, 0).pointee }
        let isForward = kind == .forward || kind == .forwardWithBias
        let inner = (source: layout(kind == .backwardData ? dnnl_query_diff_src_md : dnnl_query_src_md),
                     weights: layout(kind == .backwardWeights ? dnnl_query_diff_weights_md : dnnl_query_weights_md),
                     destination: layout(isForward ? dnnl_query_dst_md : dnnl_query_diff_dst_md))
        primitive = DNNLPrimitive(descriptor)
        if primitive.implementation.hasPrefix("ref") { return nil }
        source = DNNLOperand(role: kind == .backwardData ? DNNL_ARG_DIFF_SRC : DNNL_ARG_SRC, plain: plain.source,
                             inner: inner.source, written: kind == .backwardData)
        weights = DNNLOperand(role: kind == .backwardWeights ? DNNL_ARG_DIFF_WEIGHTS : DNNL_ARG_WEIGHTS, plain: plain.weights,
                              inner: inner.weights, written: kind == .backwardWeights)
        destination = DNNLOperand(role: isForward ? DNNL_ARG_DST : DNNL_ARG_DIFF_DST, plain: plain.destination,
                                  inner: inner.destination, written: isForward)
        bias = layouts.bias.map { DNNLOperand(role: DNNL_ARG_BIAS, plain: $0, inner: $0, written: false) }
    }

    /// Runs the pass on data already in the primitive's layouts (`bias` only for `.forwardWithBias`).
    func run(source: UnsafeMutablePointer<Float>, weights: UnsafeMutablePointer<Float>, destination: UnsafeMutablePointer<Float>,
             bias: UnsafeMutablePointer<Float>? = nil) {
        primitive.run([self.source.argument(source), self.weights.argument(weights), self.destination.argument(destination)]
                      + (self.bias.flatMap { operand in bias.map { [operand.argument($0)] } } ?? []))
    }
}

/// The layouts a convolution descriptor is made of, and the descriptor of each pass.
struct ConvolutionLayouts {
    var source, weights, destination: dnnl_memory_desc_t
    var bias: dnnl_memory_desc_t?

    /// The primitive descriptor of pass `kind` of `g` on one thread, or nil when oneDNN has none.
    /// A backward pass is described with its forward pass as a hint, as oneDNN asks.
    mutating func primitiveDescriptor(_ g: ConvolutionGeometry, _ kind: ConvolutionPassKind) -> dnnl_primitive_desc_t? {
        let strides = [g.stride, g.stride], before = [g.padTop, g.padLeft], after = [g.padBottom, g.padRight]
        return withDimensions(strides) { strides in
            withDimensions(before) { before in
                withDimensions(after) { after in
                    var forward = dnnl_convolution_desc_t()
                    let described = withOptionalPointer(to: bias) { bias in
                        dnnl_convolution_forward_desc_init(&forward, dnnl_forward_training, dnnl_convolution_direct, &source,
                                                           &weights, bias, &destination, strides, before, after)
                    }
                    guard described == dnnl_success, let hint = create(&forward, hint: nil) else { return nil }
                    if kind == .forward || kind == .forwardWithBias { return hint }
                    defer { dnnl_primitive_desc_destroy(hint) }
                    var backward = dnnl_convolution_desc_t()
                    let status = kind == .backwardData
                        ? dnnl_convolution_backward_data_desc_init(&backward, dnnl_convolution_direct, &source, &weights, &destination,
                                                                   strides, before, after)
                        : dnnl_convolution_backward_weights_desc_init(&backward, dnnl_convolution_direct, &source, &weights, nil,
                                                                      &destination, strides, before, after)
                    return status == dnnl_success ? create(&backward, hint: hint) : nil
                }
            }
        }
    }

    private func create(_ operation: inout dnnl_convolution_desc_t, hint: dnnl_primitive_desc_t?) -> dnnl_primitive_desc_t? {
        var descriptor: dnnl_primitive_desc_t?
        let status = withSingleThreadAttributes { attributes in
            dnnl_primitive_desc_create(&descriptor, &operation, attributes, DNNLContext.shared.engine, hint)
        }
        return status == dnnl_success ? descriptor : nil
    }
}

/// Runs `body` with a pointer to `value`, or nil.
func withOptionalPointer<T, R>(to value: T?, _ body: (UnsafePointer<T>?) -> R) -> R {
    guard let value else { return body(nil) }
    return withUnsafePointer(to: value) { body($0) }
}

/// The passes of one convolution at the batch sizes its chunks have, or nil when the lab
/// runs it on im2col: on the portable kernels, or where oneDNN would fall back to its
/// reference loops.
struct DNNLChunkedPass {
    /// Samples per chunk (the last chunk may have fewer) and the number of chunks.
    let size: Int, count: Int
    /// The pass for a full chunk, and for the last one.
    let full: DNNLConvolution, last: DNNLConvolution

    init?(_ g: ConvolutionGeometry, _ kind: ConvolutionPassKind) {
        guard activeProductKernels == .fastest else { return nil }
        size = (g.batch + min(g.batch, dnnlChunkLimit) - 1) / min(g.batch, dnnlChunkLimit)
        count = (g.batch + size - 1) / size
        guard let full = dnnlConvolution(g.with(batch: size), kind),
              let last = dnnlConvolution(g.with(batch: g.batch - (count - 1) * size), kind) else { return nil }
        (self.full, self.last) = (full, last)
    }

    /// The distinct passes: the full chunks' and, when the last chunk is smaller, its own.
    var passes: [DNNLConvolution] { full === last ? [full] : [full, last] }

    /// Runs `body(chunk, pass, passIndex, first, count)` for every chunk side by side on the
    /// lab's threads; `passIndex` indexes `passes`.
    func forEachChunk(batch: Int, _ body: (_ chunk: Int, _ pass: DNNLConvolution, _ passIndex: Int, _ first: Int, _ count: Int) -> Void) {
        // Jobs cannot fail here: forEachJob rethrows only what the job throws.
        try! forEachJob(count, threads: loopThreads, { chunk in
            let isLast = chunk == count - 1 && full !== last
            body(chunk, isLast ? last : full, isLast ? 1 : 0, chunk * size, min(size, batch - chunk * size))
        }, completed: { _, _ in })
    }
}

private struct PassKey: Hashable {
    let geometry: ConvolutionGeometry
    let kind: ConvolutionPassKind
}

/// Every pass made so far, kept for the life of the process (nil: oneDNN has none for it).
private let madePasses = Mutex<[PassKey: DNNLConvolution?]>([:])

/// The pass `kind` of `g`, made on first use.
func dnnlConvolution(_ g: ConvolutionGeometry, _ kind: ConvolutionPassKind) -> DNNLConvolution? {
    madePasses.withLock { passes in
        let key = PassKey(geometry: g, kind: kind)
        if let made = passes[key] { return made }
        let made = DNNLConvolution(g, kind)
        passes[key] = made
        return made
    }
}

/// The names of the oneDNN kernels the lab's convolutions have run on so far, sorted
/// ("jit:avx512_core", "x64:gemm:jit", …).
public func convolutionImplementations() -> [String] {
    madePasses.withLock { passes in Set(passes.values.compactMap { $0?.primitive.implementation }).sorted() }
}

extension ConvolutionGeometry {
    /// Elements of one sample of the input and of the output.
    var inputSample: Int { inputChannels * inputPlane }
    var outputSample: Int { outputChannels * outputPlane }
    var weightCount: Int { outputChannels * patchSize }
}

/// Chunks of a convolution operand in the layouts a plan's passes read it (one chunk's room
/// apart), kept by one pass for a later pass over the same data that reads the same layout (the
/// backward-weights pass), so that the later pass does not reorder it again.
struct DNNLKeptChunks {
    let data: Tensor
    let stride: Int
    /// The layout of the chunks of each of the plan's passes (`DNNLChunkedPass.passes`).
    let layouts: [dnnl_memory_desc_t]

    /// Room for operand `operand` of every chunk of `plan`, or nil when some pass reads it
    /// without a reorder (then there is nothing to save).
    init?(_ plan: DNNLChunkedPass, _ operand: KeyPath<DNNLConvolution, DNNLOperand>) {
        guard plan.passes.allSatisfy({ $0[keyPath: operand].reorder != nil }) else { return nil }
        stride = plan.full[keyPath: operand].innerCount
        layouts = plan.passes.map { $0[keyPath: operand].inner }
        data = Tensor(uninitializedShape: [plan.count * stride])
    }

    func chunk(_ index: Int) -> UnsafeMutablePointer<Float> { data.storage.pointer + index * stride }

    /// Runs `body` with chunk `chunk` (samples `first…`, `sample` elements each) of `operand` of a
    /// pass (`passIndex` in its plan's passes) in that operand's layout: the kept chunk when it is
    /// in that layout, else read from `tensor` (`DNNLOperand.reading`).
    static func reading<R>(_ kept: DNNLKeptChunks?, _ operand: DNNLOperand, passIndex: Int, chunk: Int, _ tensor: Tensor,
                           first: Int, sample: Int, _ body: (UnsafeMutablePointer<Float>) -> R) -> R {
        if let kept, sameLayout(kept.layouts[passIndex], operand.inner) { return body(kept.chunk(chunk)) }
        return operand.reading(tensor, first: first, sample: sample, body)
    }
}

/// `convolved` on oneDNN's passes `plan`, keeping the input as the passes read it when `keeping`.
func convolvedOnDNNL(_ input: Tensor, _ weight: Tensor, bias: Tensor?, _ g: ConvolutionGeometry, _ plan: DNNLChunkedPass,
                     keeping: Bool = false) -> (output: Tensor, kept: DNNLKeptChunks?) {
    chunkwise(plan, weight, reading: input, as: \.source, keeping: keeping, writing: g.outputShape, as: \.destination) { pass, x, w, y in
        pass.run(source: x, weights: w, destination: y, bias: bias?.storage.pointer)
    }
}

/// `convolutionInputGradient` (a transposed convolution) on oneDNN's backward-data passes `plan`,
/// keeping the output gradient as the passes read it when `keeping`.
func convolutionInputGradientOnDNNL(_ outputGradient: Tensor, _ weight: Tensor, _ g: ConvolutionGeometry,
                                    _ plan: DNNLChunkedPass, keeping: Bool = false) -> (inputGradient: Tensor, kept: DNNLKeptChunks?) {
    chunkwise(plan, weight, reading: outputGradient, as: \.destination, keeping: keeping, writing: g.inputShape, as: \.source) {
        pass, dy, w, dx in pass.run(source: dx, weights: w, destination: dy)
    }
}

/// A pass that reads `input` as operand `read` and the weights and writes a tensor of `shape` as
/// operand `written` (the forward pass, backward-data), chunk by chunk; `run(pass, read, weights,
/// written)` runs one chunk on data in the pass's layouts. When `keeping`, the chunks of `input`
/// reordered for the passes are kept and returned (none when the passes read it as it lies).
private func chunkwise(_ plan: DNNLChunkedPass, _ weight: Tensor, reading input: Tensor, as read: KeyPath<DNNLConvolution, DNNLOperand>,
                       keeping: Bool, writing shape: [Int], as written: KeyPath<DNNLConvolution, DNNLOperand>,
                       _ run: (DNNLConvolution, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void)
    -> (Tensor, DNNLKeptChunks?) {
    let weights = plan.passes.map { $0.weights.inner(weight) }
    let kept = keeping && !plan.passes.allSatisfy({ $0[keyPath: read].readsAsItLies(input) }) ? DNNLKeptChunks(plan, read) : nil
    let readSample = input.count / input.shape[0], writtenSample = shape.dropFirst().reduce(1, *)
    let output = DNNLWrittenTensor(plan, written, shape: shape)
    makePlainFirst(input, unlessEvery: plan.passes.map { $0[keyPath: read] })
    plan.forEachChunk(batch: shape[0]) { chunk, pass, index, first, _ in
        func runChunk(_ x: UnsafeMutablePointer<Float>) {
            output.writing(pass, first: first, sample: writtenSample) { y in run(pass, x, weights[index].storage.pointer, y) }
        }
        if let kept {
            pass[keyPath: read].reorder(input.storage.pointer + first * readSample, into: kept.chunk(chunk))
            runChunk(kept.chunk(chunk))
        } else {
            pass[keyPath: read].reading(input, first: first, sample: readSample, runChunk)
        }
    }
    return (output.tensor, kept)
}

/// Makes `tensor`'s plain elements from its channel blocks now, on every thread, unless each of
/// `operands` reads the blocks as they lie: the chunks, side by side, then read them ready made.
private func makePlainFirst(_ tensor: Tensor, unlessEvery operands: [DNNLOperand]) {
    guard tensor.channelBlocks != nil, !operands.allSatisfy({ $0.readsBlocks(tensor) }) else { return }
    _ = tensor.storage.pointer
}

/// The tensor a chunked pass writes as one of its operands: in 16-channel blocks when every pass
/// of the plan writes that layout (no reorder; the next convolution reads it so), else plain.
private struct DNNLWrittenTensor {
    let tensor: Tensor
    let operand: KeyPath<DNNLConvolution, DNNLOperand>
    private let target: SharedPointer<Float>
    private let inBlocks: Bool

    init(_ plan: DNNLChunkedPass, _ operand: KeyPath<DNNLConvolution, DNNLOperand>, shape: [Int]) {
        self.operand = operand
        inBlocks = plan.passes.allSatisfy { $0[keyPath: operand].isChannelBlocked }
        var tensor = inBlocks ? Tensor(uninitializedChannelBlocksOf: shape) : Tensor(uninitializedShape: shape)
        target = SharedPointer(base: inBlocks ? tensor.channelBlocks!.pointer : tensor.uniqueMutablePointer())
        self.tensor = tensor
    }

    /// Runs `body` with room for samples `first…` (`sample` elements each) in `pass`'s layout of
    /// the operand, and leaves them in the tensor.
    func writing(_ pass: DNNLConvolution, first: Int, sample: Int, _ body: (UnsafeMutablePointer<Float>) -> Void) {
        if inBlocks { return body(target.base + first * sample) }
        pass[keyPath: operand].writing(target.base + first * sample, body)
    }
}

/// `convolutionWeightGradient` on oneDNN's backward-weights passes `plan`: each chunk's share,
/// added in chunk order; the input read from `kept` where it holds it in the passes' layout.
func convolutionWeightGradientOnDNNL(_ input: Tensor, kept: DNNLKeptChunks? = nil, _ outputGradient: Tensor,
                                     _ g: ConvolutionGeometry, _ plan: DNNLChunkedPass) -> Tensor {
    let shares = WeightShares(plan, g)
    makePlainFirst(input, unlessEvery: kept == nil ? plan.passes.map(\.source) : [])
    makePlainFirst(outputGradient, unlessEvery: plan.passes.map(\.destination))
    plan.forEachChunk(batch: g.batch) { chunk, pass, index, first, _ in
        DNNLKeptChunks.reading(kept, pass.source, passIndex: index, chunk: chunk, input, first: first, sample: g.inputSample) { x in
            pass.destination.reading(outputGradient, first: first, sample: g.outputSample) { dy in
                shares.add(pass, source: x, outputGradient: dy, chunk: chunk)
            }
        }
    }
    return shares.summed(g)
}

/// `convolutionInputGradient` and `convolutionWeightGradient` together (a convolution's
/// pullback) on oneDNN's backward-data passes `data` and backward-weights passes `weights`: each
/// chunk's output gradient reordered once for both where their layouts agree, the input read
/// from `kept` where it holds it. The same passes on the same data as the two alone, so the same
/// numbers.
func convolutionGradientsOnDNNL(_ input: Tensor, kept: DNNLKeptChunks?, _ weight: Tensor, _ outputGradient: Tensor,
                                _ g: ConvolutionGeometry, data: DNNLChunkedPass, weights: DNNLChunkedPass)
    -> (inputGradient: Tensor, weightGradient: Tensor) {
    passWithWeightGradient(data, weights, weight, g, reading: (outputGradient, \.destination),
                           other: (input, \.source, kept), writing: g.inputShape, as: \.source) { pass, dy, w, dx in
        pass.run(source: dx, weights: w, destination: dy)
    }
}

/// `convolvedWithWeightGradient` on oneDNN's forward passes `forward` and backward-weights passes
/// `backward`, each chunk's input reordered once for both where their layouts agree, the output
/// gradient read from `keptOutputGradient` where it holds it in the backward passes' layout.
func convolvedWithWeightGradientOnDNNL(_ input: Tensor, _ weight: Tensor, _ outputGradient: Tensor,
                                       keptOutputGradient: DNNLKeptChunks? = nil, _ g: ConvolutionGeometry,
                                       forward: DNNLChunkedPass, backward: DNNLChunkedPass) -> (output: Tensor, weightGradient: Tensor) {
    passWithWeightGradient(forward, backward, weight, g, reading: (input, \.source),
                           other: (outputGradient, \.destination, keptOutputGradient), writing: g.outputShape, as: \.destination) {
        pass, x, w, y in pass.run(source: x, weights: w, destination: y)
    }
}

/// A pass of `plan` (forward or backward-data) that reads `reading` as one operand and writes a
/// tensor of `shape` as `written`, chunk by chunk beside the backward-weights passes `weights`,
/// which read the same operand (the same reorder where the layouts agree) and `other` (from its
/// kept chunks where they are in the pass's layout): `run(pass, read, weights, written)` runs
/// one chunk on data in the pass's layouts. Returns the written tensor and the weight gradient.
private func passWithWeightGradient(
    _ plan: DNNLChunkedPass, _ weights: DNNLChunkedPass, _ weight: Tensor, _ g: ConvolutionGeometry,
    reading: (data: Tensor, operand: KeyPath<DNNLConvolution, DNNLOperand>),
    other: (data: Tensor, operand: KeyPath<DNNLConvolution, DNNLOperand>, kept: DNNLKeptChunks?),
    writing shape: [Int], as written: KeyPath<DNNLConvolution, DNNLOperand>,
    _ run: (DNNLConvolution, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void
) -> (Tensor, Tensor) {
    let planWeights = plan.passes.map { $0.weights.inner(weight) }
    let shares = WeightShares(weights, g)
    let readSample = reading.data.count / g.batch, otherSample = other.data.count / g.batch
    let writtenSample = shape.dropFirst().reduce(1, *), readsSource = reading.operand == \DNNLConvolution.source
    let output = DNNLWrittenTensor(plan, written, shape: shape)
    makePlainFirst(reading.data, unlessEvery: plan.passes.map { $0[keyPath: reading.operand] }
                                              + weights.passes.map { $0[keyPath: reading.operand] })
    makePlainFirst(other.data, unlessEvery: other.kept == nil ? weights.passes.map { $0[keyPath: other.operand] } : [])
    plan.forEachChunk(batch: g.batch) { chunk, pass, index, first, _ in
        let weightPass = weights.passes[index]
        func addShare(_ read: UnsafeMutablePointer<Float>) {
            DNNLKeptChunks.reading(other.kept, weightPass[keyPath: other.operand], passIndex: index, chunk: chunk, other.data,
                                   first: first, sample: otherSample) { otherChunk in
                shares.add(weightPass, source: readsSource ? read : otherChunk, outputGradient: readsSource ? otherChunk : read,
                           chunk: chunk)
            }
        }
        pass[keyPath: reading.operand].reading(reading.data, first: first, sample: readSample) { read in
            output.writing(pass, first: first, sample: writtenSample) { out in
                run(pass, read, planWeights[index].storage.pointer, out)
            }
            if sameLayout(pass[keyPath: reading.operand].inner, weightPass[keyPath: reading.operand].inner) {
                addShare(read)
            } else {
                weightPass[keyPath: reading.operand].reading(reading.data, first: first, sample: readSample, addShare)
            }
        }
    }
    return (output.tensor, shares.summed(g))
}

/// Every chunk's share of a weight gradient, laid end to end. When every backward-weights pass
/// of the plan writes the same layout (the usual case: a blocked one), the shares stay in it, are
/// added there in chunk order and reordered to OIHW once; otherwise each share is reordered as it
/// is made. Either way each weight's gradient is the same chain of additions, so the same bits.
private struct WeightShares {
    let shares: Tensor
    /// The layout the shares are added in, when the passes share one.
    let common: DNNLOperand?
    let stride: Int, count: Int

    init(_ plan: DNNLChunkedPass, _ g: ConvolutionGeometry) {
        let full = plan.full.weights
        common = plan.passes.allSatisfy { sameLayout($0.weights.inner, full.inner) } ? full : nil
        stride = common?.innerCount ?? g.weightCount
        count = plan.count
        shares = Tensor(uninitializedShape: [count * stride])
    }

    /// Computes chunk `chunk`'s share from its input and its output gradient in `pass`'s layouts.
    func add(_ pass: DNNLConvolution, source: UnsafeMutablePointer<Float>, outputGradient dy: UnsafeMutablePointer<Float>, chunk: Int) {
        let share = shares.storage.pointer + chunk * stride
        if common != nil {
            pass.run(source: source, weights: share, destination: dy)
        } else {
            pass.weights.writing(share) { dw in pass.run(source: source, weights: dw, destination: dy) }
        }
    }

    /// The weight gradient in OIHW: the shares added in chunk order.
    func summed(_ g: ConvolutionGeometry) -> Tensor {
        var weight = Tensor(uninitializedShape: g.weightShape)
        weight.withUnsafeMutableBufferPointer { buffer in
            let add = { (target: UnsafeMutablePointer<Float>) in sumInOrder(shares.storage.pointer, count, count: stride, into: target) }
            if let common { common.writing(buffer.baseAddress!, add) } else { add(buffer.baseAddress!) }
        }
        return weight
    }
}
