#if canImport(FoundationEssentials)
import FoundationEssentials  // not Foundation: its ICU clashes with libxml2's in modules that see CLibXML2
#else
import Foundation
#endif
import Logging

/// Room history, written in batches: messages go out to users at once with their stanza-id, and
/// land in the store up to 100 ms later, many per transaction — so history costs a room's
/// fan-out little. Reads flush first, so history on join and MAM see everything sent.
public actor RoomArchive {
    public struct Policy: Sendable, Hashable {
        /// Whether rooms are archived at all.
        public var enabled = true
        /// Messages replayed on join (XEP-0045 history), unless the client asks for fewer.
        public var onJoin = 20
        /// Newest messages kept per user and room (a room may briefly hold a tenth more: it is cut
        /// back every tenth of this, not on every write).
        public var maxMessagesPerRoom = 10_000
        /// Oldest message kept.
        public var maxAge: Duration = .seconds(30 * 24 * 3600)

        public init() {}
    }

    public let policy: Policy
    private let store: GatewayStore
    private let logger: Logger
    /// Messages not yet written; appended to from the gateway without a hop to this actor.
    /// A batch's cost is mostly the index pages it dirties (one per user and room in a busy
    /// room), not its rows: fewer, bigger batches cost less per message.
    private let waiting = WriteBatch<ArchivedMessage>(size: 4096, delay: .milliseconds(100))
    private var lastPrune = ContinuousClock.now
    /// Messages appended to each room since it was last cut back to ``Policy/maxMessagesPerRoom``;
    /// a room not here has not been cut by this process yet.
    private var sinceTrim: [GatewayStore.ArchiveRoom: Int] = [:]

    /// Where this actor runs: the gateway's executor (see ``ActorExecutor``), so the gateway's
    /// calls into it are plain calls.
    nonisolated let executor: ActorExecutor

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.unownedExecutor }

    public init(store: GatewayStore, policy: Policy, logger: Logger, executor: ActorExecutor = .own()) {
        self.executor = executor
        self.store = store
        self.policy = policy
        self.logger = logger
    }

    /// Queues a message for the next batch. Synchronous: the order of calls is the archive's order.
    public nonisolated func append(_ message: ArchivedMessage) {
        guard policy.enabled else { return }
        waiting.append(message) { await self.flush() }
    }

    /// Writes what waits. Failures are logged: history is not worth stopping chat for.
    public func flush() async {
        let batch = waiting.take()
        guard !batch.isEmpty else { return }
        // A room is cut back on its first batch here and then after every tenth of its limit:
        // it may hold up to 10% more than the limit meanwhile.
        let trimEvery = max(1, policy.maxMessagesPerRoom / 10)
        var trimming: Set<GatewayStore.ArchiveRoom> = []
        for message in batch {
            let room = GatewayStore.ArchiveRoom(bridge: message.bridge, user: message.user, room: message.room)
            let count = sinceTrim[room].map { $0 + 1 } ?? trimEvery
            if count >= trimEvery {
                trimming.insert(room)
                sinceTrim[room] = 0
            } else {
                sinceTrim[room] = count
            }
        }
        do {
            try await store.appendArchive(batch, keepPerRoom: policy.maxMessagesPerRoom, trimming: trimming)
        } catch {
            logger.error("cannot archive \(batch.count) room messages: \(error)")
        }
        if lastPrune.duration(to: .now) > .seconds(600) {
            lastPrune = .now
            let cutoff = Date().addingTimeInterval(-Double(policy.maxAge.components.seconds))
            _ = try? await store.pruneArchive(olderThan: cutoff)
        }
    }

    public func page(bridge: String, user: String, room: String, query: ArchiveQuery) async throws -> ArchivePage {
        await flush()
        return try await store.archive(bridge: bridge, user: user, room: room, query: query)
    }
}
