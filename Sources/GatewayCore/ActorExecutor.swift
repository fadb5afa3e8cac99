/// The serial executor an actor of a bridge instance runs its jobs on.
///
/// In the daemon the gateway and its bridge share one: the component link's event loop. A
/// stanza the loop has read then crosses from the gateway into the bridge and back as plain
/// calls on the loop's thread. Between actors on different executors, or into a default actor
/// from a task with an executor preference, Swift queues every crossing as a job on the executor
/// instead (it switches a task into a free actor in place only when the task has no executor
/// preference), and a lone stanza made four or more such trips through the loop's queue.
public struct ActorExecutor: Sendable {
    private enum Storage: Sendable {
        case executor(any SerialExecutor)
        case host(JobHost)
    }

    private let storage: Storage

    /// Runs on `executor`, which must outlive every actor given it (an event loop of the
    /// daemon's group does).
    public init(_ executor: any SerialExecutor) {
        storage = .executor(executor)
    }

    private init(host: JobHost) {
        storage = .host(host)
    }

    /// An executor of its own, as any default actor has: for an actor not tied to an event loop.
    public static func own() -> ActorExecutor {
        ActorExecutor(host: JobHost())
    }

    /// What the actor's `unownedExecutor` returns.
    public var unownedExecutor: UnownedSerialExecutor {
        switch storage {
        case .executor(let executor): executor.asUnownedSerialExecutor()
        case .host(let host): host.unownedExecutor
        }
    }
}

/// A default actor that only lends its executor.
private actor JobHost {}
