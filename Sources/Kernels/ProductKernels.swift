import CMicroKernels
#if canImport(Glibc)
import Glibc
#endif

/// Which kernels run the lab's matrix products and convolutions.
public enum ProductKernels: String, CaseIterable, Sendable {
    /// Every element one chain of fused multiply–adds in a fixed order (the lab's own kernels,
    /// AVX-512, AVX2 or scalar), convolutions as im2col and such products: the same bits on
    /// every x86-64 machine. The toy lessons and the judge use it.
    case portable
    /// OpenBLAS with the kernel set for this CPU's instruction set, and convolutions on oneDNN,
    /// which picks its kernels from the CPU's instruction-set flags: the fastest for large
    /// products and for convolutions; the last bits depend on the kernel sets.
    case fastest
}

/// The kernels `gemm` and the convolutions use now on this thread: its own choice inside
/// `withProductKernels`, else the process's (`setProductKernels`). Jobs and slices that a thread
/// hands to others run on its choice (`forEachJob`, `forEachSlice`), so a judge scoring on the
/// portable kernels in one sweep run leaves the run beside it on the fastest.
var activeProductKernels: ProductKernels { KernelChoice.thread ?? KernelChoice.process }

/// Where the choice of kernels lives: one for the process, and one per thread over it.
enum KernelChoice {
    nonisolated(unsafe) static var process = ProductKernels.portable

    /// This thread's own choice, or nil (the process's).
    static var thread: ProductKernels? {
        get { pthread_getspecific(key).map { ProductKernels.allCases[Int(bitPattern: $0) - 1] } }
        set { pthread_setspecific(key, newValue.flatMap { kernels in ProductKernels.allCases.firstIndex(of: kernels) }
                .flatMap { UnsafeRawPointer(bitPattern: $0 + 1) }) }
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let status = pthread_key_create(&key, nil)
        if status != 0 { fatalError("no thread-specific key for the product kernels (error \(status))") }
        return key
    }()
}

/// Sets the kernels the lab's matrix products and convolutions run on, for the whole process
/// (a thread inside `withProductKernels` keeps its own choice until it leaves).
public func setProductKernels(_ kernels: ProductKernels) { KernelChoice.process = kernels }

/// The kernels the lab's matrix products run on now, on this thread.
public func productKernels() -> ProductKernels { activeProductKernels }

/// Runs `body` with this thread's products and convolutions (and the jobs it hands out) on
/// `kernels`, then puts its choice back. Other threads are not affected.
public func withProductKernels<R>(_ kernels: ProductKernels, _ body: () throws -> R) rethrows -> R {
    let saved = KernelChoice.thread
    KernelChoice.thread = kernels
    defer { KernelChoice.thread = saved }
    return try body()
}

/// What this CPU can do, read with CPUID once.
public struct ProcessorFeatures: Sendable {
    public let brand: String, family: Int, model: Int
    public let avx2FMA: Bool, avx512: Bool

    static let current: ProcessorFeatures = {
        var raw = cpu_features_read()
        let brand = withUnsafeBytes(of: &raw.brand) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return ProcessorFeatures(brand: brand.trimmingSpaces, family: Int(raw.family), model: Int(raw.model),
                                 avx2FMA: raw.avx2_fma != 0, avx512: raw.avx512 != 0)
    }()

    /// The widest vector instructions the lab's kernels use here: "AVX-512", "AVX2+FMA" or "SSE2".
    public var instructionSet: String { avx512 ? "AVX-512" : avx2FMA ? "AVX2+FMA" : "SSE2" }

    /// The portable kernels' instruction sets this CPU runs, narrowest first.
    public var portableInstructionSets: [PortableInstructionSet] {
        [.scalar] + (avx2FMA ? [.avx2] : []) + (avx512 ? [.avx512] : [])
    }

    /// OpenBLAS's kernel set for this CPU's instruction set (nil: none better than its own guess).
    /// Haswell's, not Zen's, on AMD CPUs with AVX2: measured on a Zen 3 EPYC, one thread, the same
    /// on large products (1024³: 92.7 against 90.9 GFLOP/s) and faster on the toy lessons' small
    /// ones (256·16·16: 51.6 against 32.9; 64·2·256: 18.7 against 13.1).
    var openBLASCoreType: String? { avx512 ? "SkylakeX" : avx2FMA ? "Haswell" : nil }
}

/// The CPU the lab runs on.
public func processorFeatures() -> ProcessorFeatures { ProcessorFeatures.current }

/// The instruction sets of the portable kernels: each gives the same bits, only the speed differs.
public enum PortableInstructionSet: String, CaseIterable, Sendable {
    case scalar, avx2, avx512

    var code: fixed_order_isa {
        switch self {
        case .scalar: return fixed_order_scalar
        case .avx2: return fixed_order_avx2
        case .avx512: return fixed_order_avx512
        }
    }

    /// "scalar", "AVX2" or "AVX-512".
    public var name: String { self == .scalar ? "scalar" : self == .avx2 ? "AVX2" : "AVX-512" }
}

/// The portable kernels' instruction set: the widest this CPU has, unless `GAN_LAB_PORTABLE_ISA`
/// (scalar, avx2, avx512) or `setPortableInstructionSet` narrows it, to compare them.
nonisolated(unsafe) var portableInstructionSet: fixed_order_isa = {
    let available = ProcessorFeatures.current.portableInstructionSets
    let asked = getenv("GAN_LAB_PORTABLE_ISA").flatMap { PortableInstructionSet(rawValue: String(cString: $0)) }
    return (asked.flatMap { available.contains($0) ? $0 : nil } ?? available.last!).code
}()

/// Runs the portable kernels on `set` (it must be one this CPU has), for comparing them.
public func setPortableInstructionSet(_ set: PortableInstructionSet) {
    precondition(ProcessorFeatures.current.portableInstructionSets.contains(set), "this CPU cannot run \(set.name)")
    portableInstructionSet = set.code
}

/// The portable kernels' instruction set now.
public func currentPortableInstructionSet() -> PortableInstructionSet {
    PortableInstructionSet.allCases.first { $0.code == portableInstructionSet }!
}

/// The portable kernels' instruction set: "AVX-512", "AVX2" or "scalar".
public func portableKernelName() -> String { currentPortableInstructionSet().name }

extension String {
    var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}

/// OpenBLAS, loaded when the first fast product needs it, with the kernel set chosen for this
/// CPU's instruction set. OpenBLAS reads `OPENBLAS_CORETYPE` once, when it loads, and otherwise
/// picks kernels from a table of CPU models that does not know newer CPUs (an Intel Xeon of
/// family 6, model 207 gets its SSE3 "Prescott" kernels, 7× slower): so the lab does not link
/// it, but sets `OPENBLAS_CORETYPE` from CPUID, loads it, and puts the environment back.
struct OpenBLAS {
    typealias SGEMM = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
                                      UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32) -> Void
    let sgemm: SGEMM
    let setThreads: @convention(c) (Int32) -> Void
    let coreName: String
    /// Why these kernels: detected, pinned, or chosen by the lab.
    let reason: String

    /// The library, or why it could not be loaded; loaded once, on first use.
    private static let loaded: Result<OpenBLAS, LoadFailure> = load()
    /// nil when no OpenBLAS library could be loaded (`loadError` says why).
    static var shared: OpenBLAS? { try? loaded.get() }
    static var loadError: String {
        switch loaded {
        case .failure(let failure): return failure.message
        case .success: return ""
        }
    }

    struct LoadFailure: Error { let message: String }

    private static func load() -> Result<OpenBLAS, LoadFailure> {
        let features = ProcessorFeatures.current
        let environment = getenv("OPENBLAS_CORETYPE").map { String(cString: $0) }
        let forced = getenv("GAN_LAB_OPENBLAS_CORETYPE").map { String(cString: $0) }.flatMap { name in
            // A kernel set this CPU cannot run would stop the program at its first product.
            let needs = ["skylakex": features.avx512, "cooperlake": features.avx512, "sapphirerapids": features.avx512,
                         "haswell": features.avx2FMA, "zen": features.avx2FMA]
            return needs[name.lowercased()] == false ? nil : name
        }
        let wanted = forced ?? features.openBLASCoreType
        if let wanted { setenv("OPENBLAS_CORETYPE", wanted, 1) }
        defer {
            if let environment { setenv("OPENBLAS_CORETYPE", environment, 1) } else { unsetenv("OPENBLAS_CORETYPE") }
        }
        let names: [String] = ["libopenblas.so.0", "libopenblas.so", "libopenblas.dylib"]
        guard let handle = names.lazy.compactMap({ (name: String) in dlopen(name, RTLD_NOW | RTLD_LOCAL) }).first else {
            return .failure(LoadFailure(message: "OpenBLAS could not be loaded (\(dlerror().map { String(cString: $0) } ?? "not found")); "
                + "install libopenblas-dev (scripts/setup.sh does)"))
        }
        guard let sgemm = dlsym(handle, "cblas_sgemm"), let threads = dlsym(handle, "openblas_set_num_threads"),
              let name = dlsym(handle, "openblas_get_corename") else {
            return .failure(LoadFailure(message: "the OpenBLAS library found lacks cblas_sgemm or openblas_get_corename"))
        }
        let coreName = String(cString: unsafeBitCast(name, to: (@convention(c) () -> UnsafePointer<CChar>).self)())
        let reason: String
        if let forced {
            reason = "pinned by GAN_LAB_OPENBLAS_CORETYPE=\(forced)"
        } else if let wanted = features.openBLASCoreType {
            let against = environment.map { $0.lowercased() == wanted.lowercased() ? ", as the environment's OPENBLAS_CORETYPE says"
                : "; the environment's OPENBLAS_CORETYPE=\($0) is overridden" } ?? ""
            reason = "chosen by the lab for this CPU's \(features.instructionSet)\(against)"
        } else {
            reason = "detected by OpenBLAS; this CPU has no AVX2+FMA"
        }
        let library = OpenBLAS(sgemm: unsafeBitCast(sgemm, to: SGEMM.self),
                               setThreads: unsafeBitCast(threads, to: (@convention(c) (Int32) -> Void).self),
                               coreName: coreName, reason: reason)
        library.setThreads(1)  // the lab runs its own threads (see `gemm`)
        return .success(library)
    }
}

/// What runs the lab's products and convolutions on this machine, for a run's header,
/// `summary.json` and the bench.
public struct MatrixKernelReport: Sendable {
    /// The processor's brand string, family and model.
    public let processor: String
    /// "AVX-512", "AVX2+FMA" or "SSE2".
    public let instructionSet: String
    /// The portable kernels' instruction set ("AVX-512", "AVX2" or "scalar").
    public let portable: String
    /// OpenBLAS's kernel set ("SkylakeX", "Haswell", …), or nil when it could not load.
    public let openBLAS: String?
    /// Why that kernel set (or why OpenBLAS is missing).
    public let openBLASReason: String
    /// What runs the fastest kernels' convolutions: "oneDNN 2.6.3 (avx512_core)".
    public let convolutions: String
    /// A one-line warning when only slow kernels are possible here.
    public let warning: String?

    /// One line: "portable kernels (AVX2) · OpenBLAS Haswell kernels, chosen by the lab for this CPU's
    /// AVX2+FMA · convolutions on oneDNN 2.6.3 (avx2)".
    public var line: String {
        "portable kernels (\(portable)) · " + (openBLAS.map { "OpenBLAS \($0) kernels, \(openBLASReason)" } ?? openBLASReason)
            + " · convolutions on \(convolutions)"
    }
}

/// What runs the lab's products here, loading OpenBLAS if it has not been loaded yet.
public func matrixKernelReport() -> MatrixKernelReport {
    let features = ProcessorFeatures.current
    let library = OpenBLAS.shared
    let slow = !features.avx2FMA || ["Prescott", "Core2", "Nehalem", "Atom"].contains(library?.coreName ?? "")
    return MatrixKernelReport(
        processor: "\(features.brand) (family \(features.family), model \(features.model))",
        instructionSet: features.instructionSet, portable: portableKernelName(), openBLAS: library?.coreName,
        openBLASReason: library?.reason ?? OpenBLAS.loadError, convolutions: convolutionLibraryName(),
        warning: library == nil ? "warning: \(OpenBLAS.loadError); every product runs on the portable kernels"
            : slow ? "warning: this machine runs matrix products on SSE kernels (no AVX2+FMA), several times slower than a current laptop"
            : nil)
}

/// The kernel set OpenBLAS runs ("SkylakeX", "Haswell", …; "none" when it could not load).
public func matrixKernels() -> String { OpenBLAS.shared?.coreName ?? "none" }
