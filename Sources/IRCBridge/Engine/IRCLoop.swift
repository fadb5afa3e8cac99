// The libircclient engine: a few loop threads, each multiplexing many sessions with select().
//
// Thread model
// - An `IRCLoopGroup` owns a fixed number of `IRCLoop`s (default 2). Each loop is one pthread
//   running `select()` over the descriptors of ALL its sessions, collected with
//   `irc_add_select_descriptors` and served with `irc_process_select_descriptors`. There is no
//   thread per connection and `irc_run` is never called.
// - libircclient is not thread-safe (Debian builds it without its optional mutexes), so every
//   call into it happens under the loop's engine lock. The loop thread holds that lock except
//   while it waits in select(). Swift code elsewhere enqueues jobs (a lock-protected FIFO) and
//   wakes the loop through a self-pipe; select() also has a bounded timeout (250 ms by default)
//   as a fallback and to run deadlines (connect / QUIT timeouts).
// - Sending is the exception that makes the lock worth having: a thread with lines for a
//   registered session takes the engine lock if it is free and nothing is queued before it, and
//   writes them itself (`perform`). Waking the loop thread for every message cost a pipe write,
//   two select() calls and a context switch; this costs one send() (see
//   `SessionCore.writeDirectly`), or a poll() and libircclient's send() when it holds output.
//   Only the loop thread creates or destroys libircclient sessions and their sockets, so a
//   socket is never closed under its select().
// - A new session goes to the loop with the fewest sessions.
//
// select() limit: Debian's libircclient is built with _FORTIFY_SOURCE, so FD_SET on a descriptor
// >= FD_SETSIZE (1024) aborts the process. A session refuses to connect when the lowest free
// descriptor is near that limit (see `IRCLoop.descriptorHeadroomOK`). A daemon that needs more
// than ~900 IRC connections per process has to keep its other descriptors above 1024 (or run
// several processes); poll() is not possible because libircclient only speaks fd_set.

import CIRCClient
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A fixed set of IRC loop threads. Create one per daemon; call `shutdown()` before exit.
public final class IRCLoopGroup: Sendable {
    public let loops: [IRCLoop]
    private let assignLock = Mutex<Void>(())

    /// - Parameters:
    ///   - threads: number of loop threads (each multiplexes any number of sessions).
    ///   - selectTimeout: upper bound of one select() wait, in milliseconds.
    public init(threads: Int = 2, selectTimeoutMilliseconds: Int = 250) {
        precondition(threads >= 1, "an IRC loop group needs at least one thread")
        // libircclient writes with send(fd, buf, len, 0): a server that went away would raise
        // SIGPIPE and end the process. The write's error is what we want instead.
        _ = signal(SIGPIPE, SIG_IGN)
        loops = (0..<threads).map { IRCLoop(index: $0, selectTimeoutMilliseconds: selectTimeoutMilliseconds) }
        for loop in loops { loop.start() }
    }

    /// Creates a session on the least-loaded loop. The session does nothing until `connect`.
    public func makeSession(label: String = "") -> IRCSession {
        IRCSession(loop: leastLoaded(), label: label)
    }

    /// Like ``makeSession(label:)``, with events delivered to `onEvent` on the loop thread.
    public func makeSession(label: String = "", onEvent: @escaping @Sendable (IRCEvent) -> Void) -> IRCSession {
        IRCSession(loop: leastLoaded(), label: label, onEvent: onEvent)
    }

    private func leastLoaded() -> IRCLoop {
        assignLock.withLock { _ in
            let chosen = loops.min { $0.sessionCount < $1.sessionCount }!
            chosen.load.add(1, ordering: .relaxed)
            return chosen
        }
    }

    /// Stops every loop: live sessions are closed (their streams finish), threads are joined.
    /// Must not be called from a loop thread.
    public func shutdown() {
        for loop in loops { loop.stop() }
        for loop in loops { loop.join() }
    }
}

/// One loop thread. Mutable state marked "under `engine` only" is touched with the engine lock
/// held: by the loop thread, or by a sender in ``perform(_:)``; other work reaches the loop
/// through ``submit(_:)``.
public final class IRCLoop: @unchecked Sendable {
    public let index: Int
    /// Number of sessions assigned (created and not yet closed).
    let load = Atomic<Int>(0)
    public var sessionCount: Int { load.load(ordering: .relaxed) }
    /// How many ``perform(_:)`` jobs ran on their caller's thread (for tests).
    let directJobs = Atomic<Int>(0)
    /// How many of its sessions' own writes the socket took only in part (for tests).
    let partialDirectWrites = Atomic<Int>(0)
    /// Runs on the loop thread between select() and taking the engine lock (for tests: what a
    /// sender may do in that window).
    let afterSelect = Mutex<(@Sendable () -> Void)?>(nil)

    private struct Pending {
        var jobs: [@Sendable () -> Void] = []
        var wakePending = false
        var stopping = false
    }
    private let pending = Mutex<Pending>(Pending())
    /// Held by whoever calls into libircclient or touches the state below: the loop thread
    /// (except while in select()) or a sender in `perform`.
    private let engine = Mutex<Void>(())
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let selectTimeoutMilliseconds: Int
    private let threadLock = Mutex<pthread_t?>(nil)
    /// Thread id of the loop thread once running (for `isOnLoopThread`).
    private let loopThreadID = Atomic<UInt>(0)

    // Under `engine` only.
    private var sessions: [ObjectIdentifier: SessionCore] = [:]
    private var running = true

    init(index: Int, selectTimeoutMilliseconds: Int) {
        self.index = index
        self.selectTimeoutMilliseconds = selectTimeoutMilliseconds
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { fatalError("IRCLoop: pipe() failed: errno \(errno)") }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        wakeRead = fds[0]
        wakeWrite = fds[1]
    }

    deinit {
        close(wakeRead)
        close(wakeWrite)
    }

    var isOnLoopThread: Bool {
        UInt(pthread_self()) == loopThreadID.load(ordering: .acquiring)
    }

    // MARK: Cross-thread API

    /// Runs `job` on the loop thread, in submission order. Never blocks on the loop.
    /// Jobs submitted after `stop()` are dropped.
    func submit(_ job: @escaping @Sendable () -> Void) {
        let mustWake: Bool = pending.withLock { state in
            if state.stopping { return false }
            state.jobs.append(job)
            if state.wakePending { return false }
            state.wakePending = true
            return true
        }
        if mustWake { wake() }
    }

    /// Runs `job` at once on the calling thread when the loop is waiting in select() and no job
    /// is queued before it (`direct` is then true), otherwise like ``submit(_:)`` (`direct`
    /// false, on the loop thread). Either way it runs under the engine lock, in submission order.
    /// A direct job must not close or create sessions: the loop may be selecting on their sockets.
    func perform(_ job: @escaping @Sendable (_ direct: Bool) -> Void) {
        let ran = engine.withLockIfAvailable { _ -> Bool in
            // Queued jobs came first: the loop thread cannot take them without this lock.
            let queuedFirst = pending.withLock { $0.stopping || !$0.jobs.isEmpty }
            if queuedFirst || !running { return false }
            job(true)
            directJobs.add(1, ordering: .relaxed)
            return true
        }
        if ran != true { submit { job(false) } }
    }

    /// Makes the loop look at its sessions again (after a direct job left work for it).
    func wakeUp() {
        let mustWake: Bool = pending.withLock { state in
            if state.stopping || state.wakePending { return false }
            state.wakePending = true
            return true
        }
        if mustWake { wake() }
    }

    private func wake() {
        var byte: UInt8 = 1
        // EAGAIN (pipe full) is fine: the loop is already due to wake up.
        _ = write(wakeWrite, &byte, 1)
    }

    func start() {
        let box = Unmanaged.passRetained(self).toOpaque()
        var tid = pthread_t()
        let rc = pthread_create(&tid, nil, { arg in
            let loop = Unmanaged<IRCLoop>.fromOpaque(arg!).takeRetainedValue()
            loop.run()
            return nil
        }, box)
        precondition(rc == 0, "IRCLoop: pthread_create failed: \(rc)")
        threadLock.withLock { $0 = tid }
    }

    func stop() {
        let mustWake: Bool = pending.withLock { state in
            if state.stopping { return false }
            state.stopping = true
            state.wakePending = true
            return true
        }
        if mustWake { wake() }
    }

    func join() {
        precondition(!isOnLoopThread, "IRCLoopGroup.shutdown() called from an IRC loop thread")
        let tid: pthread_t? = threadLock.withLock { t in
            let v = t
            t = nil
            return v
        }
        if let tid { pthread_join(tid, nil) }
    }

    // MARK: Under the engine lock

    func register(_ core: SessionCore) { sessions[ObjectIdentifier(core)] = core }

    func unregister(_ core: SessionCore) {
        if sessions.removeValue(forKey: ObjectIdentifier(core)) != nil {
            load.subtract(1, ordering: .relaxed)
        }
    }

    /// Best-effort guard against libircclient's FD_SET abort: the socket libircclient creates
    /// gets the lowest free descriptor, so check that one is comfortably below FD_SETSIZE.
    func descriptorHeadroomOK() -> Bool {
        let probe = dup(wakeRead)
        guard probe >= 0 else { return false }
        close(probe)
        return Int(probe) < IRCLoop.fdSetCapacity - 64
    }

    static let fdSetCapacity = MemoryLayout<fd_set>.size * 8

    private func run() {
        loopThreadID.store(UInt(pthread_self()), ordering: .releasing)

        var readSet = fd_set()
        var writeSet = fd_set()
        var selected = false  // whether the sets hold select()'s answer, to be processed
        while true {
            let maxfd: Int32? = engine.withLock { _ in
                if selected {
                    for core in Array(sessions.values) {
                        core.processDescriptors(read: &readSet, write: &writeSet)
                    }
                }
                runPendingJobs()
                guard running else { return nil }

                let now = ContinuousClock.now
                for core in Array(sessions.values) { core.onTick(now: now) }

                readSet = fd_set()
                writeSet = fd_set()
                FDSet.insert(wakeRead, into: &readSet)
                var maxfd = wakeRead
                for core in sessions.values {
                    core.addDescriptors(read: &readSet, write: &writeSet, maxfd: &maxfd)
                }
                return maxfd
            }
            guard let maxfd else { break }

            var timeout = timeval(
                tv_sec: selectTimeoutMilliseconds / 1000,
                tv_usec: (selectTimeoutMilliseconds % 1000) * 1000
            )
            let n = select(maxfd + 1, &readSet, &writeSet, nil, &timeout)
            if n < 0 {
                selected = false
                if errno == EINTR { continue }
                // EBADF would mean a session's socket vanished under us; process every session
                // so libircclient reports it rather than spinning.
                readSet = fd_set()
                writeSet = fd_set()
            }
            if FDSet.contains(wakeRead, readSet) { drainWakePipe() }
            selected = n > 0
            if let hook = afterSelect.withLock({ $0 }) { hook() }
        }
        // Shutdown: close every session still here.
        engine.withLock { _ in
            for core in Array(sessions.values) { core.closeOnLoop(reason: "IRC loop stopped") }
            sessions.removeAll()
        }
    }

    private func runPendingJobs() {
        let (jobs, stopping): ([@Sendable () -> Void], Bool) = pending.withLock { state in
            let jobs = state.jobs
            state.jobs = []  // handing the buffer over; keeping its capacity would allocate anew
            state.wakePending = false
            return (jobs, state.stopping)
        }
        for job in jobs { job() }
        if stopping { running = false }
    }

    private func drainWakePipe() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(wakeRead, $0.baseAddress, $0.count) }
            if n <= 0 { break }
        }
    }
}

/// fd_set bit operations (the FD_* macros are not imported into Swift).
enum FDSet {
    private static let bitsPerWord = Int.bitWidth

    static func insert(_ fd: Int32, into set: inout fd_set) {
        precondition(fd >= 0 && Int(fd) < IRCLoop.fdSetCapacity)
        withUnsafeMutableBytes(of: &set) { raw in
            let words = raw.bindMemory(to: Int.self)
            words[Int(fd) / bitsPerWord] |= 1 << (Int(fd) % bitsPerWord)
        }
    }

    static func remove(_ fd: Int32, from set: inout fd_set) {
        guard fd >= 0 && Int(fd) < IRCLoop.fdSetCapacity else { return }
        withUnsafeMutableBytes(of: &set) { raw in
            let words = raw.bindMemory(to: Int.self)
            words[Int(fd) / bitsPerWord] &= ~(1 << (Int(fd) % bitsPerWord))
        }
    }

    static func contains(_ fd: Int32, _ set: fd_set) -> Bool {
        guard fd >= 0 && Int(fd) < IRCLoop.fdSetCapacity else { return false }
        var copy = set
        return withUnsafeBytes(of: &copy) { raw in
            let words = raw.bindMemory(to: Int.self)
            return words[Int(fd) / bitsPerWord] & (1 << (Int(fd) % bitsPerWord)) != 0
        }
    }
}
