import Foundation
import TestSupport

/// Collects webhooks and lets a test wait, with a bound, for one it expects.
actor WebhookInbox {
    private typealias Predicate = @Sendable (ReceivedWebhook) -> Bool
    private var items: [ReceivedWebhook] = []
    private var waiters: [UUID: (predicate: Predicate, continuation: CheckedContinuation<ReceivedWebhook?, Never>)] = [:]

    func add(_ item: ReceivedWebhook) {
        items.append(item)
        for (id, waiter) in waiters where waiter.predicate(item) {
            waiters[id] = nil
            waiter.continuation.resume(returning: item)
        }
    }

    var all: [ReceivedWebhook] { items }

    /// The first webhook (already received or yet to come) matching `predicate`; throws
    /// ``TestTimeout`` after `seconds`.
    nonisolated func first(
        within seconds: Double = 10, where predicate: @escaping @Sendable (ReceivedWebhook) -> Bool
    ) async throws -> ReceivedWebhook {
        try await withTimeout(seconds, "a webhook") {
            let id = UUID()
            let found = await withTaskCancellationHandler {
                await self.wait(id: id, predicate: predicate)
            } onCancel: {
                Task { await self.cancel(id: id) }
            }
            guard let found else { throw CancellationError() }
            return found
        }
    }

    private func wait(id: UUID, predicate: @escaping Predicate) async -> ReceivedWebhook? {
        if let found = items.first(where: predicate) { return found }
        // The cancellation handler may have run before we got here; then nobody would resume us.
        if Task.isCancelled { return nil }
        return await withCheckedContinuation { waiters[id] = (predicate, $0) }
    }

    private func cancel(id: UUID) {
        waiters.removeValue(forKey: id)?.continuation.resume(returning: nil)
    }
}
