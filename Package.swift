// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "orchestrate",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "orchestrate", targets: ["Orchestrator"]),
        .library(name: "Manifests", targets: ["Manifests"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .target(
            name: "Manifests",
            dependencies: [
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "Orchestrator",
            dependencies: [
                "Manifests",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(
            name: "RESP",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "RESPTests", dependencies: ["RESP", "TestSupport"]),
        .testTarget(name: "ManifestsTests", dependencies: ["Manifests"], exclude: ["Golden"]),
        .testTarget(name: "OrchestratorTests", dependencies: ["Orchestrator", "Manifests"]),
    ],
    swiftLanguageModes: [.v6]
)
