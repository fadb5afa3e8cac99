/// The serial executor an actor of a bridge instance runs its jobs on.
///
/// In the daemon the gateway and its bridge share one: the component link's event loop. A
/// stanza the loop has read then crosses from the gateway into the bridge and back as plain
/// calls on the loop's thread. Between actors on different executors, or into a default actor
/// from a task with an executor preference, Swift queues every crossing as a job on the executor
/// instead (it switches a task into a free actor in place only when the task has no executor
/// preference), and a lone stanza made more than five such trips through the loop's queue.
public struct ActorExecutor: Sendable {
    fileprivate enum Storage: Sendable {
        case executor(any SerialExecutor)
        /// An executor with a thread of its own, told apart once here rather than by a dynamic
        /// cast on every ``isCurrent`` (once per message the gateway sends at once).
        case threadBound(any ThreadBoundExecutor)
        case host(JobHost)
    }

    fileprivate let storage: Storage

    /// Runs on `executor`, which must outlive every actor given it (an event loop of the
    /// daemon's group does).
    public init(_ executor: any SerialExecutor) {
        if let threadBound = executor as? any ThreadBoundExecutor {
            storage = .threadBound(threadBound)
        } else {
            storage = .executor(executor)
        }
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
        case .threadBound(let executor): executor.asUnownedSerialExecutor()
        case .host(let host): host.unownedExecutor
        }
    }
}

extension ActorExecutor {
    /// Whether the calling code runs on this executor's thread now, so actors on it may be
    /// entered synchronously (`assumeIsolated`). Known only for a ``ThreadBoundExecutor``; false
    /// for any other.
    public var isCurrent: Bool {
        thread?.isIsolatingCurrentContext() ?? false
    }

    /// Starts `operation` in a task on `actor`, which runs on this executor, from a thread
    /// outside it (a foreign network's). With a thread of its own (``ThreadBoundExecutor``) the
    /// task starts there at once; otherwise it starts on the global executor and hops over,
    /// which for an actor on an event loop would cost a pool thread's wake-up as well.
    public func startTask<A: Actor>(on actor: A, _ operation: @escaping @Sendable (isolated A) async -> Void) {
        guard let thread else {
            Task { await operation(actor) }
            return
        }
        thread.execute {
            actor.assumeIsolated { actor in Self.startImmediately(on: actor, operation) }
        }
    }

    /// The executor, when it has a thread of its own.
    private var thread: (any ThreadBoundExecutor)? {
        guard case .threadBound(let executor) = storage else { return nil }
        return executor
    }

    /// Runs `operation` in a new task until it first waits, here and now.
    private static func startImmediately<A: Actor>(on actor: isolated A, _ operation: @escaping @Sendable (isolated A) async -> Void) {
        _ = Task<Void, Never>.immediate {
            await operation(actor)
        }
    }
}

/// A serial executor that runs its jobs on one thread of its own, on which other code can run
/// too: an event loop.
public protocol ThreadBoundExecutor: SerialExecutor {
    /// Runs `work` on the executor's thread, outside any task, in order with its jobs; code run
    /// this way is isolated to the actors on the executor (`assumeIsolated` holds).
    func execute(_ work: @escaping @Sendable () -> Void)
}

/// A default actor that only lends its executor.
private actor JobHost {}
