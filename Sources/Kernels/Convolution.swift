// Convolution as im2col + GEMM, the portable kernels' path (the fastest kernels' path is oneDNN,
// Kernels/ConvolutionDNNL.swift, with this one where oneDNN has only its reference loops). The im2col matrix of a chunk of samples has one row per
// (input channel, ky, kx) and one column per (sample, oy, ox), so one GEMM serves the chunk:
//   output[co, (n, p)] = Σ_r weight[co, r] · columns[r, (n, p)].
// Chunks bound the scratch memory and are the unit of threading: chunks run side by side, each
// on one thread with its own scratch (from the pool, reused across steps), so im2col on one
// core overlaps a GEMM on the other, and no chunk's numbers depend on the thread count.

/// Elements of im2col scratch per chunk (16 MB) at most, where the batch allows. Measured on
/// dcgan-mnist with chunks side by side on two threads: 1–4 M elements best; 16 M 10–15 %
/// slower; 256 K no faster, with 820 MB peak memory instead of 500 (a weight-gradient share per
/// chunk).
let columnBudget = 4 << 20

/// How a convolution's batch is cut into chunks: a multiple of four chunks, so that one, two or
/// four threads share them evenly, each within `columnBudget` where the batch allows.
struct ChunkPlan {
    /// Samples per chunk (the last chunk may have fewer) and the number of chunks.
    let size: Int, count: Int

    init(_ g: ConvolutionGeometry) {
        let perSample = max(g.patchSize * g.outputPlane, 1)
        let needed = (g.batch * perSample + columnBudget - 1) / columnBudget
        let chunks = max(1, min(g.batch, (needed + 3) / 4 * 4))
        size = (g.batch + chunks - 1) / chunks
        count = (g.batch + size - 1) / size
        chunkColumns = max(g.patchSize * size * g.outputPlane, 1)
    }

    /// Elements of one chunk's im2col matrix (room for `size` samples).
    let chunkColumns: Int
    /// Elements of every chunk's im2col matrix laid end to end.
    var columnCount: Int { count * chunkColumns }

    /// The samples of chunk `index`.
    func samples(_ index: Int, batch: Int) -> (first: Int, count: Int) {
        (index * size, min(size, batch - index * size))
    }
}

/// Runs `body(chunk, first, count, columns, product)` for every chunk of `g`'s batch, side by
/// side on the lab's threads; `columns` holds `patchSize · size · outputPlane` elements and
/// `product` `outputChannels · size · outputPlane`, both the chunk's own. With `keptColumns`
/// (`plan.columnCount` elements), chunk i's columns are its i-th part, left for the caller.
func forEachChunk(_ g: ConvolutionGeometry, _ plan: ChunkPlan, keptColumns: UnsafeMutablePointer<Float>? = nil,
                  _ body: (_ chunk: Int, _ first: Int, _ count: Int,
                           _ columns: UnsafeMutablePointer<Float>, _ product: UnsafeMutablePointer<Float>) -> Void) {
    let kept = keptColumns.map { SharedPointer(base: $0) }
    // Jobs cannot fail here: forEachJob rethrows only what the job throws.
    try! forEachJob(plan.count, threads: loopThreads, { chunk in
        let (first, count) = plan.samples(chunk, batch: g.batch)
        let scratch = kept == nil ? Tensor(uninitializedShape: [plan.chunkColumns]) : nil
        let columns = kept.map { $0.base + chunk * plan.chunkColumns } ?? scratch!.storage.pointer
        let product = Tensor(uninitializedShape: [g.outputChannels * plan.size * g.outputPlane])
        // The buffers go back to the pool only after `body`, not after their pointers' last use.
        withExtendedLifetime((scratch, product)) { body(chunk, first, count, columns, product.storage.pointer) }
    }, completed: { _, _ in })
}

/// Sums `parts` arrays of `count` elements laid end to end into `target`, in order, a block of
/// elements at a time (each block's sum stays in cache while every part is added to it) on the
/// lab's threads: every element is the same chain of additions however the work is cut.
func sumInOrder(_ parts: UnsafePointer<Float>, _ partCount: Int, count: Int, into target: UnsafeMutablePointer<Float>) {
    let target = SharedPointer(base: target), block = 4096
    forEachSlice(count, minimumSlice: 4 * block) { slice in
        for start in stride(from: slice.lowerBound, to: slice.upperBound, by: block) {
            let n = min(block, slice.upperBound - start), sum = target.base + start
            sum.update(from: parts + start, count: n)
            for part in 1..<max(partCount, 1) {
                let source = parts + part * count + start
                for i in 0..<n { sum[i] += source[i] }
            }
        }
    }
}

/// One sample's channel plane with the convolution's padding around it, as wide and high as
/// the windows reach: (oh − 1)·s + kh by (ow − 1)·s + kw. Window (oy, ox) at kernel tap (ky, kx)
/// reads element (oy·s + ky, ox·s + kx), so im2col and col2im need no bounds tests. Input
/// pixels no window reaches (a "valid" convolution's last rows) are left out.
struct PaddedPlane {
    let height: Int, width: Int
    /// The input rows and columns that lie inside the padded plane.
    let rows: Range<Int>, columns: Range<Int>

    init(_ g: ConvolutionGeometry) {
        height = (g.outputHeight - 1) * g.stride + g.kernelHeight
        width = (g.outputWidth - 1) * g.stride + g.kernelWidth
        rows = 0..<max(0, min(g.inputHeight, height - g.padTop))
        columns = 0..<max(0, min(g.inputWidth, width - g.padLeft))
    }

    /// A zeroed plane (the padding stays zero: `load` writes only the input's part), with room
    /// after it for the vector loads of `copyRow` and `addRow`.
    func make() -> UnsafeMutablePointer<Float> {
        let plane = UnsafeMutablePointer<Float>.allocate(capacity: height * width + 8)
        plane.initialize(repeating: 0, count: height * width + 8)
        return plane
    }

    /// Copies an input plane into the padded plane.
    @inline(__always)
    func load(_ source: UnsafePointer<Float>, _ g: ConvolutionGeometry, into plane: UnsafeMutablePointer<Float>) {
        for iy in rows {
            let from = source + iy * g.inputWidth, to = plane + (iy + g.padTop) * width + g.padLeft
            for ix in columns { to[ix] = from[ix] }
        }
    }

    /// Copies the input's part of the padded plane out to an input plane; pixels no window
    /// reaches get zero.
    @inline(__always)
    func store(_ plane: UnsafePointer<Float>, _ g: ConvolutionGeometry, into target: UnsafeMutablePointer<Float>) {
        for iy in 0..<g.inputHeight {
            let to = target + iy * g.inputWidth
            if !rows.contains(iy) {
                for ix in 0..<g.inputWidth { to[ix] = 0 }
                continue
            }
            let from = plane + (iy + g.padTop) * width + g.padLeft
            for ix in columns { to[ix] = from[ix] }
            for ix in columns.upperBound..<g.inputWidth { to[ix] = 0 }
        }
    }
}

/// to[i] = from[i·stride] for i < count, four at a time for strides 1 and 2 (im2col's rows
/// are 7 to 28 elements: vector moves beat both scalar loops and memcpy calls). Reads up to
/// one element past from[(count − 1)·stride].
@inline(__always)
func copyRow(_ from: UnsafePointer<Float>, stride s: Int, to: UnsafeMutablePointer<Float>, count: Int) {
    var i = 0
    if s == 1 {
        while i + 4 <= count {
            UnsafeMutableRawPointer(to + i).storeBytes(of: UnsafeRawPointer(from + i).loadUnaligned(as: SIMD4<Float>.self), as: SIMD4<Float>.self)
            i += 4
        }
    } else if s == 2 {
        while i + 4 <= count {
            let pairs = UnsafeRawPointer(from + 2 * i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(to + i).storeBytes(of: pairs.evenHalf, as: SIMD4<Float>.self)
            i += 4
        }
    }
    while i < count {
        to[i] = from[i * s]
        i += 1
    }
}

/// to[i·stride] += from[i] for i < count, four at a time for strides 1 and 2: the adjoint of
/// `copyRow`, each element still one addition. Reads and rewrites up to one element past
/// to[(count − 1)·stride].
@inline(__always)
func addRow(_ from: UnsafePointer<Float>, to: UnsafeMutablePointer<Float>, stride s: Int, count: Int) {
    var i = 0
    if s == 1 {
        while i + 4 <= count {
            let sum = UnsafeRawPointer(to + i).loadUnaligned(as: SIMD4<Float>.self) + UnsafeRawPointer(from + i).loadUnaligned(as: SIMD4<Float>.self)
            UnsafeMutableRawPointer(to + i).storeBytes(of: sum, as: SIMD4<Float>.self)
            i += 4
        }
    } else if s == 2 {
        while i + 4 <= count {
            var pairs = UnsafeRawPointer(to + 2 * i).loadUnaligned(as: SIMD8<Float>.self)
            pairs.evenHalf += UnsafeRawPointer(from + i).loadUnaligned(as: SIMD4<Float>.self)
            UnsafeMutableRawPointer(to + 2 * i).storeBytes(of: pairs, as: SIMD8<Float>.self)
            i += 4
        }
    }
    while i < count {
        to[i * s] += from[i]
        i += 1
    }
}

/// Runs `row(planeRow, columnsOffset)` for every window row (ky, kx, oy) of input channel `c`
/// of chunk sample `n`: the row starts at `planeRow` in the padded plane (every `stride`-th
/// element) and at `columnsOffset` in the im2col matrix of a `count`-sample chunk; it has
/// `outputWidth` elements. The one map between the two layouts, for im2col and col2im alike.
@inline(__always)
func forEachWindowRow(_ g: ConvolutionGeometry, _ padded: PaddedPlane, channel c: Int, sample n: Int, count: Int,
                      _ plane: UnsafeMutablePointer<Float>, _ row: (UnsafeMutablePointer<Float>, Int) -> Void) {
    let rowLength = count * g.outputPlane
    for ky in 0..<g.kernelHeight {
        for kx in 0..<g.kernelWidth {
            let columnsRow = ((c * g.kernelHeight + ky) * g.kernelWidth + kx) * rowLength + n * g.outputPlane
            for oy in 0..<g.outputHeight {
                row(plane + (oy * g.stride + ky) * padded.width + kx, columnsRow + oy * g.outputWidth)
            }
        }
    }
}

/// Runs `body(plane, offset)` for every input channel and chunk sample (channel-major, as the
/// im2col rows go) with one padded-plane scratch; `offset` is the sample's channel plane in an
/// [N, C, H, W] tensor.
@inline(__always)
func forEachPaddedPlane(_ g: ConvolutionGeometry, _ padded: PaddedPlane, first: Int, count: Int,
                        _ body: (_ channel: Int, _ sample: Int, _ plane: UnsafeMutablePointer<Float>, _ offset: Int) -> Void) {
    let plane = padded.make()
    defer { plane.deallocate() }
    for c in 0..<g.inputChannels {
        for n in 0..<count { body(c, n, plane, ((first + n) * g.inputChannels + c) * g.inputPlane) }
    }
}

/// Fills `columns` [patchSize, count·outputPlane] from samples `first..<first+count` of `input`.
func im2col(_ input: UnsafePointer<Float>, _ g: ConvolutionGeometry, first: Int, count: Int,
            _ columns: UnsafeMutablePointer<Float>) {
    let padded = PaddedPlane(g)
    forEachPaddedPlane(g, padded, first: first, count: count) { c, n, plane, offset in
        padded.load(input + offset, g, into: plane)
        forEachWindowRow(g, padded, channel: c, sample: n, count: count, plane) { planeRow, row in
            copyRow(planeRow, stride: g.stride, to: columns + row, count: g.outputWidth)
        }
    }
}

/// Adds up `columns` [patchSize, count·outputPlane] into samples `first..<first+count` of
/// `input`, overwriting them: every input pixel gets the sum of the columns that read it,
/// added in (ky, kx) order.
func col2im(_ columns: UnsafePointer<Float>, _ g: ConvolutionGeometry, first: Int, count: Int,
            _ input: UnsafeMutablePointer<Float>) {
    let padded = PaddedPlane(g)
    forEachPaddedPlane(g, padded, first: first, count: count) { c, n, plane, offset in
        plane.update(repeating: 0, count: padded.height * padded.width)
        forEachWindowRow(g, padded, channel: c, sample: n, count: count, plane) { planeRow, row in
            addRow(columns + row, to: planeRow, stride: g.stride, count: g.outputWidth)
        }
        padded.store(plane, g, into: input + offset)
    }
}

/// Copies samples `first..<first+count` of an [N, C, P] tensor into a [C, count·P] matrix.
func gatherChannels(_ source: UnsafePointer<Float>, channels: Int, plane: Int, first: Int, count: Int,
                    _ target: UnsafeMutablePointer<Float>) {
    for n in 0..<count {
        for c in 0..<channels {
            (target + (c * count + n) * plane).update(from: source + ((first + n) * channels + c) * plane, count: plane)
        }
    }
}

/// The inverse of `gatherChannels`, optionally adding `bias[c]` to every element.
func scatterChannels(_ source: UnsafePointer<Float>, channels: Int, plane: Int, first: Int, count: Int,
                     bias: UnsafePointer<Float>?, _ target: UnsafeMutablePointer<Float>) {
    for n in 0..<count {
        for c in 0..<channels {
            let from = source + (c * count + n) * plane, to = target + ((first + n) * channels + c) * plane
            if let bias {
                let b = bias[c]
                for p in 0..<plane { to[p] = from[p] + b }
            } else {
                to.update(from: from, count: plane)
            }
        }
    }
}

/// The convolution of `input` [N, C, H, W] by `weight` [Co, C, kh, kw], plus `bias` [Co] if given.
public func convolved(_ input: Tensor, _ weight: Tensor, bias: Tensor? = nil, geometry g: ConvolutionGeometry) -> Tensor {
    precondition(input.shape == g.inputShape && weight.shape == g.weightShape, "convolution shapes \(input.shape), \(weight.shape) do not match \(g)")
    if let plan = DNNLChunkedPass(g, bias == nil ? .forward : .forwardWithBias) { return convolvedOnDNNL(input, weight, bias: bias, g, plan).output }
    return convolved(input, weight, bias: bias, geometry: g, keptColumns: nil)
}

/// What a convolution pass keeps of an operand for a later pass over the same data, so that the
/// later pass does not prepare it again: on the im2col path the forward pass's im2col matrices
/// (for the weight gradient); on oneDNN an operand's chunks in the layout the pass read it, where
/// the backward-weights pass reads the same layout (the forward pass's input; a transposed
/// convolution's input, which its backward-weights pass reads as the output gradient).
public struct KeptConvolutionOperand {
    enum Form {
        case columns(Tensor)
        case chunks(DNNLKeptChunks)
    }
    let form: Form

    var columns: Tensor? { if case .columns(let columns) = form { columns } else { nil } }
    var chunks: DNNLKeptChunks? { if case .chunks(let chunks) = form { chunks } else { nil } }
}

/// `convolved`, keeping what its weight gradient can use (`KeptConvolutionOperand`): the im2col
/// matrices of its chunks, or on oneDNN the input reordered for it (nil when it needed none).
public func convolvedKeepingInput(_ input: Tensor, _ weight: Tensor, bias: Tensor? = nil,
                                  geometry g: ConvolutionGeometry) -> (output: Tensor, kept: KeptConvolutionOperand?) {
    precondition(input.shape == g.inputShape && weight.shape == g.weightShape, "convolution shapes \(input.shape), \(weight.shape) do not match \(g)")
    if let plan = DNNLChunkedPass(g, bias == nil ? .forward : .forwardWithBias) {
        let (output, kept) = convolvedOnDNNL(input, weight, bias: bias, g, plan, keeping: true)
        return (output, kept.map { KeptConvolutionOperand(form: .chunks($0)) })
    }
    let columns = Tensor(uninitializedShape: [ChunkPlan(g).columnCount])
    return (convolved(input, weight, bias: bias, geometry: g, keptColumns: columns.storage.pointer),
            KeptConvolutionOperand(form: .columns(columns)))
}

private func convolved(_ input: Tensor, _ weight: Tensor, bias: Tensor?, geometry g: ConvolutionGeometry,
                       keptColumns: UnsafeMutablePointer<Float>?) -> Tensor {
    var output = Tensor(uninitializedShape: g.outputShape)
    let biasPointer = bias.map { UnsafePointer($0.storage.pointer) }
    output.withUnsafeMutableBufferPointer { buffer in
        let out = SharedPointer(base: buffer.baseAddress!)
        forEachChunk(g, ChunkPlan(g), keptColumns: keptColumns) { _, first, count, columns, product in
            convolveChunk(input, weight, g, first: first, count: count, bias: biasPointer, columns: columns, product: product, out.base)
        }
    }
    return output
}

/// One chunk of `convolved`: im2col of samples `first..<first+count` into `columns`, the product
/// with `weight` into `product`, scattered (plus bias) into `output`. `columns` keeps the chunk's
/// im2col matrix for the caller.
@inline(__always)
func convolveChunk(_ input: Tensor, _ weight: Tensor, _ g: ConvolutionGeometry, first: Int, count: Int,
                   bias: UnsafePointer<Float>?, columns: UnsafeMutablePointer<Float>, product: UnsafeMutablePointer<Float>,
                   _ output: UnsafeMutablePointer<Float>) {
    im2col(input.storage.pointer, g, first: first, count: count, columns)
    gemm(false, false, g.outputChannels, count * g.outputPlane, g.patchSize, weight.storage.pointer, columns, 0, product)
    scatterChannels(product, channels: g.outputChannels, plane: g.outputPlane, first: first, count: count, bias: bias, output)
}

/// The gradient of a convolution with respect to its input, given the output gradient
/// [N, Co, Ho, Wo]; it is also the transposed convolution of `outputGradient` by `weight`.
public func convolutionInputGradient(_ outputGradient: Tensor, _ weight: Tensor, geometry g: ConvolutionGeometry) -> Tensor {
    convolutionInputGradientKeeping(outputGradient, weight, keeping: false, geometry: g).inputGradient
}

/// `convolutionInputGradient`, keeping on oneDNN the output gradient as its passes read it (nil
/// on the im2col path, or when it needed no reorder): a transposed convolution's forward pass,
/// whose input its backward-weights pass reads again (`convolvedWithWeightGradient`).
public func convolutionInputGradientKeeping(_ outputGradient: Tensor, _ weight: Tensor, keeping: Bool = true,
                                            geometry g: ConvolutionGeometry) -> (inputGradient: Tensor, kept: KeptConvolutionOperand?) {
    precondition(outputGradient.shape == g.outputShape && weight.shape == g.weightShape,
                 "convolution gradient shapes \(outputGradient.shape), \(weight.shape) do not match \(g)")
    if let plan = DNNLChunkedPass(g, .backwardData) {
        let (inputGradient, kept) = convolutionInputGradientOnDNNL(outputGradient, weight, g, plan, keeping: keeping)
        return (inputGradient, kept.map { KeptConvolutionOperand(form: .chunks($0)) })
    }
    var input = Tensor(uninitializedShape: g.inputShape)
    input.withUnsafeMutableBufferPointer { buffer in
        let x = SharedPointer(base: buffer.baseAddress!)
        forEachChunk(g, ChunkPlan(g)) { _, first, count, columns, gathered in
            gatherChannels(outputGradient.storage.pointer, channels: g.outputChannels, plane: g.outputPlane,
                           first: first, count: count, gathered)
            gemm(true, false, g.patchSize, count * g.outputPlane, g.outputChannels, weight.storage.pointer, gathered, 0, columns)
            col2im(columns, g, first: first, count: count, x.base)
        }
    }
    return (input, nil)
}

/// The gradient of a convolution with respect to its weight: Σ over the batch of
/// outputGradient · im2col(input)ᵀ, shape [Co, C, kh, kw]. Each chunk's share is a product of
/// its own; the shares are added in chunk order.
public func convolutionWeightGradient(_ input: Tensor, _ outputGradient: Tensor, geometry g: ConvolutionGeometry) -> Tensor {
    precondition(input.shape == g.inputShape && outputGradient.shape == g.outputShape,
                 "convolution gradient shapes \(input.shape), \(outputGradient.shape) do not match \(g)")
    if let plan = DNNLChunkedPass(g, .backwardWeights) { return convolutionWeightGradientOnDNNL(input, outputGradient, g, plan) }
    return convolutionWeightGradient(outputGradient, geometry: g) { first, count, columns, _ in
        im2col(input.storage.pointer, g, first: first, count: count, columns)
    }
}

/// `convolutionWeightGradient` with what `convolvedKeepingInput` kept of `input` (if anything):
/// the same products on the same data in the same order, so the same numbers.
public func convolutionWeightGradient(_ input: Tensor, kept: KeptConvolutionOperand?, _ outputGradient: Tensor,
                                      geometry g: ConvolutionGeometry) -> Tensor {
    if let columns = kept?.columns {
        precondition(columns.count == ChunkPlan(g).columnCount, "kept im2col of \(columns.count) elements does not match \(g)")
        return convolutionWeightGradient(outputGradient, geometry: g, keptColumns: columns.storage.pointer) { _, _, _, _ in }
    }
    precondition(input.shape == g.inputShape && outputGradient.shape == g.outputShape,
                 "convolution gradient shapes \(input.shape), \(outputGradient.shape) do not match \(g)")
    if let plan = DNNLChunkedPass(g, .backwardWeights) {
        return convolutionWeightGradientOnDNNL(input, kept: kept?.chunks, outputGradient, g, plan)
    }
    return convolutionWeightGradient(input, outputGradient, geometry: g)
}

/// A convolution's two gradients, for its input and its weight, with what `convolvedKeepingInput`
/// kept of `input` (if anything): on oneDNN each chunk's output gradient is reordered once for
/// both. The same numbers as `convolutionInputGradient` and `convolutionWeightGradient` alone.
public func convolutionGradients(_ input: Tensor, kept: KeptConvolutionOperand?, _ weight: Tensor, _ outputGradient: Tensor,
                                 geometry g: ConvolutionGeometry) -> (inputGradient: Tensor, weightGradient: Tensor) {
    precondition(input.shape == g.inputShape && weight.shape == g.weightShape && outputGradient.shape == g.outputShape,
                 "convolution gradient shapes \(input.shape), \(weight.shape), \(outputGradient.shape) do not match \(g)")
    if kept?.columns == nil, let data = DNNLChunkedPass(g, .backwardData), let weights = DNNLChunkedPass(g, .backwardWeights) {
        return convolutionGradientsOnDNNL(input, kept: kept?.chunks, weight, outputGradient, g, data: data, weights: weights)
    }
    return (convolutionInputGradient(outputGradient, weight, geometry: g),
            convolutionWeightGradient(input, kept: kept, outputGradient, geometry: g))
}

/// `convolved(input, weight)` and `convolutionWeightGradient(input, outputGradient)` together,
/// from one im2col (or reorder) of `input` per chunk: the pullback of a transposed convolution
/// needs both for the same input. On oneDNN the output gradient comes from `keptOutputGradient`
/// where `convolutionInputGradientKeeping` kept it. The same products on the same data in the
/// same order as the two alone, so the same numbers.
public func convolvedWithWeightGradient(_ input: Tensor, _ weight: Tensor, _ outputGradient: Tensor,
                                        keptOutputGradient: KeptConvolutionOperand? = nil,
                                        geometry g: ConvolutionGeometry) -> (output: Tensor, weightGradient: Tensor) {
    precondition(input.shape == g.inputShape && weight.shape == g.weightShape,
                 "convolution shapes \(input.shape), \(weight.shape) do not match \(g)")
    if let forward = DNNLChunkedPass(g, .forward), let backward = DNNLChunkedPass(g, .backwardWeights) {
        return convolvedWithWeightGradientOnDNNL(input, weight, outputGradient, keptOutputGradient: keptOutputGradient?.chunks, g,
                                                 forward: forward, backward: backward)
    }
    var output = Tensor(uninitializedShape: g.outputShape)
    let weightGradient = output.withUnsafeMutableBufferPointer { buffer in
        let out = SharedPointer(base: buffer.baseAddress!)
        return convolutionWeightGradient(outputGradient, geometry: g) { first, count, columns, product in
            convolveChunk(input, weight, g, first: first, count: count, bias: nil, columns: columns, product: product, out.base)
        }
    }
    return (output, weightGradient)
}

/// The one loop of the weight gradient: per chunk, `fill(first, count, columns, scratch)`
/// leaves the chunk's im2col matrix in `columns` (it may use `scratch`, which then takes the
/// gathered output gradient), and the chunk's share outputGradient · columnsᵀ is a product of
/// its own; the shares are added in chunk order.
private func convolutionWeightGradient(_ outputGradient: Tensor, geometry g: ConvolutionGeometry,
                                       keptColumns: UnsafeMutablePointer<Float>? = nil,
                                       fill: (_ first: Int, _ count: Int, _ columns: UnsafeMutablePointer<Float>,
                                              _ scratch: UnsafeMutablePointer<Float>) -> Void) -> Tensor {
    precondition(outputGradient.shape == g.outputShape, "convolution gradient \(outputGradient.shape) does not match \(g)")
    let plan = ChunkPlan(g), weightCount = g.outputChannels * g.patchSize
    let shares = Tensor(uninitializedShape: [plan.count * weightCount])
    forEachChunk(g, plan, keptColumns: keptColumns) { chunk, first, count, columns, gathered in
        fill(first, count, columns, gathered)
        gatherChannels(outputGradient.storage.pointer, channels: g.outputChannels, plane: g.outputPlane,
                       first: first, count: count, gathered)
        gemm(false, true, g.outputChannels, g.patchSize, count * g.outputPlane, gathered, columns, 0,
             shares.storage.pointer + chunk * weightCount)
    }
    var weight = Tensor(uninitializedShape: g.weightShape)
    weight.withUnsafeMutableBufferPointer { sumInOrder(shares.storage.pointer, plan.count, count: weightCount, into: $0.baseAddress!) }
    return weight
}
