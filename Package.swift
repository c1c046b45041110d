// swift-tools-version:6.0
import PackageDescription

// Layers, each knowing only the ones below it (see README "Architecture"):
// C libraries → Kernels → Autodiff → NN → GAN; Data; Charts → Lessons → CLI.
let optimized: [SwiftSetting] = [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
// The engine also lets C's sqrtf skip errno, so that square roots in element loops vectorise.
let engine: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-Xcc", "-fno-math-errno"], .when(configuration: .release))]

let package = Package(
    name: "gan-lab",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "gan-lab", targets: ["CLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // 1. C system libraries: thin module maps only.
        .systemLibrary(name: "CCairo", path: "Sources/CCairo", pkgConfig: "cairo",
                       providers: [.apt(["libcairo2-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CGIF", path: "Sources/CGIF", providers: [.apt(["libgif-dev"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng16", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL", providers: [.apt(["libdnnl-dev"])]),

        // 2–5. The engine and the GAN layer. OpenBLAS is loaded at run time (Kernels/ProductKernels.swift),
        // after the lab has chosen its kernel set; oneDNN, which picks its kernels from the CPU's
        // instruction-set flags itself, is linked; the fixed-order micro-kernels are C because Swift cannot
        // enable an instruction set for one function.
        .target(name: "CMicroKernels", path: "Sources/CMicroKernels", cSettings: [.unsafeFlags(["-O3", "-fno-math-errno"])]),
        .target(name: "Kernels", dependencies: ["CMicroKernels", "CDNNL"], swiftSettings: engine),
        .target(name: "Autodiff", dependencies: ["Kernels"], swiftSettings: engine),
        .target(name: "NN", dependencies: ["Autodiff"], swiftSettings: engine),
        .target(name: "GAN", dependencies: ["NN"], swiftSettings: optimized),

        // 6–7. Data and charts.
        .target(name: "Data", dependencies: ["Kernels", "CZlib", "CPNG", "CCairo"], swiftSettings: optimized),
        // 6b. Evaluation: the judge and the numbers it gives (IS, Fréchet distance, precision/recall, coverage).
        .target(name: "Evaluation", dependencies: ["NN", "Data", "GAN"], swiftSettings: optimized),
        .target(name: "Charts", dependencies: ["CCairo", "CGIF", "CZlib"], swiftSettings: optimized),


        // 8–9. Lessons and the command line.
        .target(name: "Lessons", dependencies: ["GAN", "Data", "Evaluation", "Charts"], swiftSettings: optimized),
        .executableTarget(name: "CLI", dependencies: [
            "Lessons", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "CMicroKernels"]),
        .testTarget(name: "AutodiffTests", dependencies: ["Autodiff", "NN"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "GAN"]),
        .testTarget(name: "ChartsTests", dependencies: ["Charts"]),
        .testTarget(name: "GANTests", dependencies: ["GAN", "Data", "NN", "Autodiff", "Kernels"]),
        .testTarget(name: "LessonsTests", dependencies: ["Lessons", "CLI"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "Data", "NN", "Kernels"]),
        .testTarget(name: "DataTests", dependencies: ["Data", "Kernels", "CZlib", "CPNG"]),
    ],
    swiftLanguageModes: [.v5]
)
