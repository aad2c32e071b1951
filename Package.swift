// swift-tools-version:6.0
import PackageDescription

// libtorch is found on the default search paths (Debian's libtorch-dev puts headers under
// /usr/include and libraries under /usr/lib). To build against another libtorch (for example
// a libtorch 2.x with CUDA), see README "Building against another libtorch": the paths are
// passed through the environment (CPATH / LIBRARY_PATH / LD_LIBRARY_PATH) so that no
// unsafeFlags end up in the products.
// VLP_WITH_NCCL=1 (with a CUDA libtorch on those paths) compiles the NCCL backend into the shim
// and links torch_cuda and c10_cuda; without it, asking for NCCL is a clear runtime error.
let withNCCL = Context.environment["VLP_WITH_NCCL"] == "1"
let cudaLibraries: [LinkerSetting] = withNCCL ? [.linkedLibrary("torch_cuda"), .linkedLibrary("c10_cuda")] : []

let package = Package(
    name: "swift-vlp",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Torch", targets: ["Torch"]),
        .library(name: "VLP", targets: ["VLP"]),
        .library(name: "VLPServer", targets: ["VLPServer"]),
        .library(name: "VLPDownload", targets: ["VLPDownload"]),
        .executable(name: "vlp", targets: ["vlp"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.20.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.60.0"),
    ],
    targets: [
        .target(
            name: "CTorch",
            path: "Sources/CTorch",
            cxxSettings: [.define("_GLIBCXX_USE_CXX11_ABI", to: "1"), .define("USE_C10D_GLOO")]
                + (withNCCL ? [.define("VLP_WITH_NCCL")] : []),
            linkerSettings: [
                .linkedLibrary("torch"),
                .linkedLibrary("torch_cpu"),
                .linkedLibrary("c10"),
            ] + cudaLibraries
        ),
        .target(name: "Torch", dependencies: ["CTorch"]),
        .target(
            name: "CImageCodecs",
            path: "Sources/CImageCodecs",
            linkerSettings: [
                .linkedLibrary("turbojpeg"),
                .linkedLibrary("jpeg"),
                .linkedLibrary("png16"),
                .linkedLibrary("webp"),
                .linkedLibrary("z"),
            ]
        ),
        .target(
            name: "VLP",
            dependencies: ["Torch", "CImageCodecs", .product(name: "Yams", package: "Yams")],
            resources: [.copy("Resources")]
        ),
        // FAISS from Debian's libfaiss-dev: a static libfaiss.a without FAISS's own C API, hence
        // this C++ shim; FAISS needs OpenMP (gomp) and BLAS/LAPACK at link time.
        .target(
            name: "CFaiss",
            path: "Sources/CFaiss",
            linkerSettings: [
                .linkedLibrary("faiss"),
                .linkedLibrary("gomp"),
                .linkedLibrary("blas"),
                .linkedLibrary("lapack"),
            ]
        ),
        .target(
            name: "VLPServer",
            dependencies: [
                "CFaiss",
                "VLP",
                "Torch",
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        // `vlp data download`: URL lists to WebDataset shards. Networking (AsyncHTTPClient), the
        // content hash (swift-crypto) and the CSV reader stay out of the VLP library.
        .target(
            name: "VLPDownload",
            dependencies: [
                "VLP", "Torch",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CSV", package: "CSV.swift"),
            ]
        ),
        .executableTarget(
            name: "vlp",
            dependencies: [
                "VLP", "Torch", "VLPServer", "VLPDownload",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Fuzzing (Fuzz/fuzz.sh): one function per parser of untrusted bytes, and the binary that
        // is a libFuzzer target when built with -sanitize=fuzzer,address -D VLP_FUZZING.
        .target(name: "VLPFuzzTargets", dependencies: ["VLP", "Torch", "VLPServer"]),
        .executableTarget(name: "vlp-fuzz", dependencies: ["VLPFuzzTargets"]),
        .executableTarget(name: "vlp-bench", dependencies: ["Torch", "VLP", "VLPServer"], path: "Benchmarks/vlp-bench"),
        .testTarget(name: "TorchTests", dependencies: ["Torch"], resources: [.copy("Fixtures")]),
        .testTarget(name: "VLPTests", dependencies: ["VLP", "Torch", "VLPFuzzTargets", "VLPDownload", .product(name: "Hummingbird", package: "hummingbird")], resources: [.copy("Fixtures")]),
        .testTarget(name: "VLPServerTests", dependencies: ["VLPServer", "VLP", "Torch", .product(name: "Hummingbird", package: "hummingbird")]),
    ],
    swiftLanguageModes: [.v5],
    cxxLanguageStandard: .cxx17
)
