// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "causeway",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "causeway", targets: ["causeway"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // System libraries, from Debian's -dev packages.
        .systemLibrary(
            name: "CLibXML2",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"]), .brew(["libxml2"])]
        ),
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"]), .brew(["openssl"])]
        ),
        // glibc's malloc.h (malloc_trim); part of libc, nothing to link.
        .systemLibrary(name: "CMalloc"),
        .systemLibrary(
            name: "CIRCClient",
            providers: [.apt(["libircclient-dev"])]
        ),

        // XMPP core: pure values, the libxml2 stream parser, the serializer. No sockets.
        .target(
            name: "XMPPCore",
            dependencies: ["CLibXML2"]
        ),
        // XEP-0114 component link over SwiftNIO.
        .target(
            name: "ComponentLink",
            dependencies: [
                "XMPPCore", "COpenSSL",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Gateway core: bridges, routing, registration, roster, store, vault. Knows XMPP, not sockets.
        .target(
            name: "GatewayCore",
            dependencies: [
                "XMPPCore", "COpenSSL", "CMalloc",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The SMS bridge: E.164 addresses, the carrier's HTTP API, signed webhooks.
        .target(
            name: "SMSBridge",
            dependencies: [
                "GatewayCore", "XMPPCore", "COpenSSL",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // A development SMS carrier over real HTTP: `causeway sms-stub`.
        .target(
            name: "SMSStubCarrier",
            dependencies: [
                "SMSBridge",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The IRC bridge: addresses, safe outgoing lines, parsing, throttle, and the libircclient
        // engine multiplexed on a few loop threads.
        .target(
            name: "IRCBridge",
            dependencies: [
                "GatewayCore", "XMPPCore", "CIRCClient",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // Configuration loading and the service graph the executable runs.
        .target(
            name: "CausewayDaemon",
            dependencies: [
                "XMPPCore", "ComponentLink", "GatewayCore", "SMSBridge", "IRCBridge",
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "causeway",
            dependencies: [
                "CausewayDaemon", "SMSStubCarrier",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Prints the stream parser's throughput; run by scripts/bench-parser.
        .executableTarget(
            name: "ParserBenchmark",
            dependencies: ["XMPPCore"]
        ),

        // Helpers shared by the test targets (bounded waits, a bridge that sends at once).
        .target(name: "TestSupport", dependencies: ["GatewayCore"], path: "Tests/TestSupport"),
        .testTarget(name: "XMPPCoreTests", dependencies: ["XMPPCore"]),
        .testTarget(
            name: "ComponentLinkTests",
            dependencies: [
                "ComponentLink",
                "TestSupport",
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "GatewayCoreTests",
            dependencies: [
                "GatewayCore",
                "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "CausewayDaemonTests", dependencies: ["CausewayDaemon", "IRCBridge", "TestSupport"]),
        .testTarget(name: "SMSBridgeTests", dependencies: ["SMSBridge", "SMSStubCarrier", "TestSupport"]),
        .testTarget(name: "IRCBridgeTests", dependencies: ["IRCBridge", "GatewayCore"]),
    ],
    swiftLanguageModes: [.v6]
)
