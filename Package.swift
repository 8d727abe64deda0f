// swift-tools-version:6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    // Release builds skip the runtime's exclusivity check on each access to a class's stored property or a global
    // (about 80 instructions an access); debug builds, which run the tests, keep it and trap on a conflict.
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "tollgate",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tollgate", targets: ["tollgate"]),
        .executable(name: "tollgate-bench", targets: ["tollgate-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(
            url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: ["FullFoundation"]),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    ],
    targets: [
        // C libraries, linked from the system (Debian: libsqlite3-dev, libzstd-dev).
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        // glibc's allocator controls (malloc.h): the gateway's heap settings.
        .systemLibrary(name: "CMalloc"),
        // CRC-32C with the CPU's instruction (segment frames' checksums); Swift cannot name it.
        .target(name: "CCRC32C"),

        // Build-time embedding of Schema/*.sql and Queries/*.sql into the binary.
        .executableTarget(name: "EmbedSQLTool", path: "Sources/EmbedSQLTool"),
        .plugin(
            name: "EmbedSQLPlugin",
            capability: .buildTool(),
            dependencies: ["EmbedSQLTool"],
            path: "Sources/EmbedSQLPlugin"
        ),

        // Records, ids, providers, usage parsing, redaction: plain values, no I/O.
        .target(
            name: "TollgateModel",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        // SQLite catalog, zstd codec, segment files.
        .target(
            name: "TollgateStorage",
            dependencies: [
                "CSQLite", "CZstd", "CCRC32C", "TollgateModel",
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Segment/FORMAT.md", "Cache/CACHE.md"],
            swiftSettings: swiftSettings,
            plugins: ["EmbedSQLPlugin"]
        ),
        // Pricing, cost, rollups and reports: what the stored records add up to.
        .target(
            name: "TollgateAnalytics",
            dependencies: [
                "TollgateModel", "TollgateStorage",
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Pricing/PRICES.md", "Rollup/LAYOUT.md"],
            resources: [.embedInCode("Pricing/prices.csv")],
            swiftSettings: swiftSettings
        ),
        // Proxy (SwiftNIO handlers), REST API (Hummingbird), ingest service.
        .target(
            name: "TollgateGateway",
            dependencies: [
                "TollgateModel", "TollgateStorage", "TollgateAnalytics", "CMalloc",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            exclude: ["API/openapi.json"],
            // The operator dashboard's page, script, charts and style sheet, served at /dashboard.
            resources: [
                .embedInCode("Dashboard/index.html"), .embedInCode("Dashboard/app.js"),
                .embedInCode("Dashboard/charts.js"), .embedInCode("Dashboard/style.css"),
            ],
            swiftSettings: swiftSettings
        ),
        // A fake OpenAI/Anthropic server for tests, the demo and benchmarks.
        .target(
            name: "TollgateMockProvider",
            dependencies: [
                "TollgateModel",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The configuration file (`serve --config`): YAML read with line and column for every error.
        .target(
            name: "TollgateConfig",
            dependencies: [
                "TollgateModel", "TollgateGateway",
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "tollgate",
            dependencies: [
                "TollgateModel", "TollgateStorage", "TollgateAnalytics", "TollgateGateway", "TollgateMockProvider",
                "TollgateConfig",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "tollgate-bench",
            dependencies: [
                "TollgateModel", "TollgateStorage", "TollgateAnalytics",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        .testTarget(
            name: "TollgateModelTests",
            dependencies: ["TollgateModel"],
            resources: [],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TollgateAnalyticsTests",
            dependencies: ["TollgateAnalytics", "TollgateStorage", "TollgateModel"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TollgateStorageTests",
            dependencies: ["TollgateStorage", "TollgateModel"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TollgateGatewayTests",
            dependencies: [
                "TollgateGateway", "TollgateConfig", "TollgateMockProvider", "TollgateStorage", "TollgateAnalytics",
                "TollgateModel",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
