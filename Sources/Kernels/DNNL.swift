import CDNNL
import Synchronization

// oneDNN through its C API: the engine, streams, memory layouts and primitives the lab's
// convolutions need (Kernels/ConvolutionDNNL.swift). The lab runs every primitive on one of its
// own threads: each is created and run with OpenMP's thread count at one, so that no OpenMP
// thread spins beside the lab's and the numbers do not depend on the lab's thread count.

/// Stops the program with oneDNN's status when a call that cannot fail by design fails.
@inline(__always)
func checkDNNL(_ status: dnnl_status_t, _ what: @autoclosure () -> String) {
    if status != dnnl_success { fatalError("oneDNN: \(what()) failed (status \(status.rawValue))") }
}

/// oneDNN's CPU engine, and streams to run primitives on, one per caller at a time.
final class DNNLContext: @unchecked Sendable {
    static let shared = DNNLContext()

    let engine: dnnl_engine_t
    private let idleStreams = Mutex<[dnnl_stream_t]>([])

    private init() {
        var engine: dnnl_engine_t?
        checkDNNL(dnnl_engine_create(&engine, dnnl_cpu, 0), "creating the CPU engine")
        self.engine = engine!
    }

    /// Runs `body` with a stream no other thread uses meanwhile.
    func withStream<R>(_ body: (dnnl_stream_t) -> R) -> R {
        let stream = idleStreams.withLock { $0.popLast() } ?? {
            var stream: dnnl_stream_t?
            checkDNNL(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue), "creating a stream")
            return stream!
        }()
        defer { idleStreams.withLock { $0.append(stream) } }
        return body(stream)
    }
}

/// An f32 memory layout of `dimensions` in `format` (`dnnl_format_tag_any`: the primitive's choice).
func memoryLayout(_ dimensions: [Int], _ format: dnnl_format_tag_t) -> dnnl_memory_desc_t {
    var layout = dnnl_memory_desc_t()
    withDimensions(dimensions) { checkDNNL(dnnl_memory_desc_init_by_tag(&layout, Int32(dimensions.count), $0, dnnl_f32, format),
                                       "describing \(dimensions)") }
    return layout
}

/// Runs `body` with `values` as a `dnnl_dims_t` (12 dimensions, the rest zero).
func withDimensions<R>(_ values: [Int], _ body: (UnsafePointer<dnnl_dim_t>) -> R) -> R {
    var dimensions: dnnl_dims_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    return withUnsafeMutableBytes(of: &dimensions) { raw in
        let elements = raw.bindMemory(to: dnnl_dim_t.self)
        for (index, value) in values.enumerated() { elements[index] = dnnl_dim_t(value) }
        return body(elements.baseAddress!)
    }
}

/// Floats that hold a memory layout (padding included).
func floatCount(_ layout: dnnl_memory_desc_t) -> Int {
    withUnsafePointer(to: layout) { (dnnl_memory_desc_get_size($0) + 3) / 4 }
}

/// The dimensions of a memory layout.
func dimensions(of layout: dnnl_memory_desc_t) -> [Int] {
    var dims = layout.dims
    return withUnsafeBytes(of: &dims) { raw in
        Array(raw.bindMemory(to: dnnl_dim_t.self).prefix(Int(layout.ndims)).map { Int($0) })
    }
}

/// Whether two memory layouts are one.
func sameLayout(_ a: dnnl_memory_desc_t, _ b: dnnl_memory_desc_t) -> Bool {
    withUnsafePointer(to: a) { a in withUnsafePointer(to: b) { b in dnnl_memory_desc_equal(a, b) != 0 } }
}

/// A primitive ready to run on one thread, with its implementation's name ("jit:avx512_core",
/// "x64:gemm:jit", "ref:any", …) and the scratch memory it asks for (given per run).
final class DNNLPrimitive {
    let handle: dnnl_primitive_t
    let implementation: String
    private let scratchpad: dnnl_memory_desc_t
    private let scratchpadCount: Int

    /// The primitive of a primitive descriptor, which it takes over.
    init(_ descriptor: dnnl_primitive_desc_t) {
        defer { dnnl_primitive_desc_destroy(descriptor) }
        var name: UnsafePointer<CChar>?
        checkDNNL(dnnl_primitive_desc_query(descriptor, dnnl_query_impl_info_str, 0, &name), "asking a primitive's name")
        implementation = String(cString: name!)
        scratchpad = dnnl_primitive_desc_query_md(descriptor, dnnl_query_scratchpad_md, 0).pointee
        scratchpadCount = floatCount(scratchpad)
        var handle: dnnl_primitive_t?
        checkDNNL(dnnl_primitive_create(&handle, descriptor), "creating \(implementation)")
        self.handle = handle!
    }

    deinit { dnnl_primitive_destroy(handle) }

    /// A reorder from one layout to another.
    convenience init(reorderFrom source: dnnl_memory_desc_t, to target: dnnl_memory_desc_t) {
        let engine = DNNLContext.shared.engine
        var descriptor: dnnl_primitive_desc_t?
        withSingleThreadAttributes { attributes in
            withUnsafePointer(to: source) { source in
                withUnsafePointer(to: target) { target in
                    checkDNNL(dnnl_reorder_primitive_desc_create(&descriptor, source, engine, target, engine, attributes), "a reorder")
                }
            }
        }
        self.init(descriptor!)
    }

    /// Runs the primitive on this thread with `arguments` (role, layout, data).
    func run(_ arguments: [(role: Int32, layout: dnnl_memory_desc_t, data: UnsafeMutablePointer<Float>)]) {
        omp_set_num_threads(1)
        let scratch = scratchpadCount > 0 ? Tensor(uninitializedShape: [scratchpadCount]) : nil
        let all = arguments + (scratch.map { [(DNNL_ARG_SCRATCHPAD, scratchpad, $0.storage.pointer)] } ?? [])
        let engine = DNNLContext.shared.engine
        let memories = all.map { argument -> dnnl_memory_t in
            var memory: dnnl_memory_t?
            withUnsafePointer(to: argument.layout) {
                checkDNNL(dnnl_memory_create(&memory, $0, engine, argument.data), "wrapping an operand of \(implementation)")
            }
            return memory!
        }
        defer { for memory in memories { dnnl_memory_destroy(memory) } }
        let executionArguments = zip(all, memories).map { dnnl_exec_arg_t(arg: $0.role, memory: $1) }
        DNNLContext.shared.withStream { stream in
            checkDNNL(dnnl_primitive_execute(handle, stream, Int32(executionArguments.count), executionArguments), "running \(implementation)")
            checkDNNL(dnnl_stream_wait(stream), "waiting for \(implementation)")
        }
        withExtendedLifetime(scratch) {}
    }
}

/// Runs `body` with primitive attributes that ask for a scratchpad given per run, after setting
/// this thread's OpenMP thread count to one: a primitive plans its work for the threads it sees
/// when it is created.
func withSingleThreadAttributes<R>(_ body: (dnnl_primitive_attr_t) -> R) -> R {
    omp_set_num_threads(1)
    var attributes: dnnl_primitive_attr_t?
    checkDNNL(dnnl_primitive_attr_create(&attributes), "creating attributes")
    defer { dnnl_primitive_attr_destroy(attributes) }
    checkDNNL(dnnl_primitive_attr_set_scratchpad_mode(attributes, dnnl_scratchpad_mode_user), "asking for a user scratchpad")
    return body(attributes!)
}

/// One operand of a primitive: its layout in the lab (NCHW, OIHW, or a bias vector) and the
/// layout the primitive chose, with a reorder between the two where they differ (from the lab's
/// for what the primitive reads, to the lab's for what it writes).
struct DNNLOperand {
    let role: Int32
    let plain: dnnl_memory_desc_t
    let inner: dnnl_memory_desc_t
    let reorder: DNNLPrimitive?
    let innerCount: Int
    /// Whether the primitive's layout is the 16-channel blocked one of `ChannelBlocks` (aBcd16b).
    let isChannelBlocked: Bool

    init(role: Int32, plain: dnnl_memory_desc_t, inner: dnnl_memory_desc_t, written: Bool) {
        (self.role, self.plain, self.inner, innerCount) = (role, plain, inner, floatCount(inner))
        reorder = sameLayout(plain, inner) ? nil
            : written ? DNNLPrimitive(reorderFrom: inner, to: plain) : DNNLPrimitive(reorderFrom: plain, to: inner)
        let shape = dimensions(of: plain)
        isChannelBlocked = shape.count == 4 && ChannelBlocks.fits(shape) && sameLayout(inner, memoryLayout(shape, dnnl_aBcd16b))
    }

    /// Runs `body` with samples `first…` of `tensor` (`sample` elements each) in the primitive's
    /// layout: the tensor's own channel blocks when that is the layout, else its plain elements
    /// (reordered if need be).
    func reading<R>(_ tensor: Tensor, first: Int, sample: Int, _ body: (UnsafeMutablePointer<Float>) -> R) -> R {
        if isChannelBlocked, let blocks = tensor.channelBlocks { return body(blocks.pointer + first * sample) }
        return reading(tensor.storage.pointer + first * sample, body)
    }

    /// Whether `reading(tensor, …)` reads the tensor's channel blocks.
    func readsBlocks(_ tensor: Tensor) -> Bool { isChannelBlocked && tensor.channelBlocks != nil }

    /// Whether `reading(tensor, …)` reads the tensor as it lies, without a reorder.
    func readsAsItLies(_ tensor: Tensor) -> Bool { readsBlocks(tensor) || (reorder == nil && tensor.channelBlocks == nil) }

    /// A copy of `data` (in the lab's layout) in the primitive's layout, or nil when the two are one.
    func reordered(_ data: UnsafeMutablePointer<Float>) -> Tensor? {
        guard reorder != nil else { return nil }
        let copy = Tensor(uninitializedShape: [innerCount])
        reorder(data, into: copy.storage.pointer)
        return copy
    }

    /// Writes `data` (in the lab's layout) into `target` (room for `innerCount` floats) in the
    /// primitive's layout; only for an operand with a reorder.
    func reorder(_ data: UnsafeMutablePointer<Float>, into target: UnsafeMutablePointer<Float>) {
        reorder!.run([(DNNL_ARG_FROM, plain, data), (DNNL_ARG_TO, inner, target)])
    }

    /// `tensor` in the primitive's layout.
    func inner(_ tensor: Tensor) -> Tensor { reordered(tensor.storage.pointer) ?? tensor }

    /// Runs `body` with the operand `data` (in the lab's layout) in the primitive's layout.
    func reading<R>(_ data: UnsafeMutablePointer<Float>, _ body: (UnsafeMutablePointer<Float>) -> R) -> R {
        let copy = reordered(data)
        return withExtendedLifetime(copy) { body(copy?.storage.pointer ?? data) }
    }

    /// Runs `body` with room for the operand in the primitive's layout, then leaves it in `data`
    /// in the lab's layout.
    func writing(_ data: UnsafeMutablePointer<Float>, _ body: (UnsafeMutablePointer<Float>) -> Void) {
        guard let reorder else { return body(data) }
        let copy = Tensor(uninitializedShape: [innerCount])
        body(copy.storage.pointer)
        reorder.run([(DNNL_ARG_FROM, inner, copy.storage.pointer), (DNNL_ARG_TO, plain, data)])
        withExtendedLifetime(copy) {}
    }

    /// The argument of a primitive's run for data in the primitive's layout.
    func argument(_ data: UnsafeMutablePointer<Float>) -> (role: Int32, layout: dnnl_memory_desc_t, data: UnsafeMutablePointer<Float>) {
        (role, inner, data)
    }
}

/// oneDNN's version and the widest instruction set its kernels use on this CPU: "oneDNN 2.6.3 (avx512_core)".
public func convolutionLibraryName() -> String {
    let version = dnnl_version().pointee
    let isa: String
    switch dnnl_get_effective_cpu_isa() {
    case dnnl_cpu_isa_avx512_core_amx: isa = "avx512_core_amx"
    case dnnl_cpu_isa_avx512_core_bf16: isa = "avx512_core_bf16"
    case dnnl_cpu_isa_avx512_core_vnni: isa = "avx512_core_vnni"
    case dnnl_cpu_isa_avx512_core: isa = "avx512_core"
    case dnnl_cpu_isa_avx2_vnni: isa = "avx2_vnni"
    case dnnl_cpu_isa_avx2: isa = "avx2"
    case dnnl_cpu_isa_avx: isa = "avx"
    default: isa = "sse41"
    }
    return "oneDNN \(version.major).\(version.minor).\(version.patch) (\(isa))"
}
