// One libircclient session per (user, server), driven by an `IRCLoop`.
//
// How callbacks reach Swift: `irc_create_session` gets an `irc_callbacks_t` whose members are
// capture-less Swift closures converted to `@convention(c)`. Each C session carries an
// unretained pointer to its `SessionCore` (`irc_set_ctx`); the callback recovers it with
// `irc_get_ctx`, decodes origin/params into Swift strings and yields an `IRCEvent` into the
// session's `AsyncStream` (unbounded buffer: yielding never blocks the loop thread). The
// `SessionCore` is kept alive by its loop's session table for as long as the C session exists.
//
// How raw lines are sent: `causeway_irc_send_line` in Sources/CIRCClient/shim.h wraps
// `irc_send_raw(session, "%s", line)`, since Swift cannot call C variadic functions.
//
// Output buffering: libircclient queues outgoing bytes in a small fixed buffer and fails
// irc_send_raw with LIBIRC_ERR_NOMEM when it is full. Each session therefore keeps its own FIFO
// outbox and hands lines over only as the buffer drains (after writes in
// irc_process_select_descriptors), so bursts are never dropped and order is kept.

import CIRCClient
import GatewayCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: Public types

/// Where and as whom to connect. `host` must be an IPv4 or IPv6 literal: libircclient would
/// otherwise resolve the name with a blocking gethostbyname() on the loop thread.
public struct IRCConnectionConfig: Sendable, Equatable {
    public var host: String
    public var port: UInt16
    public var password: String?
    public var nick: String
    public var username: String
    public var realname: String
    /// Time allowed from connect() until registration completes (end of MOTD).
    public var registrationTimeout: Duration

    public init(
        host: String, port: UInt16, password: String? = nil, nick: String,
        username: String? = nil, realname: String? = nil,
        registrationTimeout: Duration = .seconds(30)
    ) {
        self.host = host
        self.port = port
        self.password = password
        self.nick = nick
        self.username = username ?? nick
        self.realname = realname ?? nick
        self.registrationTimeout = registrationTimeout
    }
}

/// A libircclient error (`irc_errno`) with its text (`irc_strerror`), or one of ours.
public struct IRCError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: Int32
    public var message: String

    public init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }

    init(libircCode code: Int32) {
        let text = irc_strerror(code).map { String(cString: $0) } ?? "unknown error"
        self.init(code: code, message: text)
    }

    public var description: String { "IRCError(\(code): \(message))" }

    public static let closed = LIBIRC_ERR_CLOSED
    public static let connectFailed = LIBIRC_ERR_CONNECT
    public static let invalidState = LIBIRC_ERR_STATE
    public static let timeout = LIBIRC_ERR_TIMEOUT
    public static let invalidArgument = LIBIRC_ERR_INVAL
    public static let terminated = LIBIRC_ERR_TERMINATED
    /// Ours: the process is too close to FD_SETSIZE descriptors for select().
    public static let descriptorLimit: Int32 = 1000
}

/// Which libircclient callback produced a message event.
public enum IRCMessageKind: String, Sendable, Equatable {
    case nick, quit, join, part, mode, umode, topic, kick
    case channel, privmsg, notice, channelNotice, invite
    case ctcpRequest, ctcpReply, ctcpAction
    /// Any command libircclient has no callback for; `command` holds its name.
    case unknown
}

/// What an IRC session reports. Origins are full prefixes (`nick!user@host`):
/// LIBIRC_OPTION_STRIPNICKS is kept off.
public enum IRCEvent: Sendable, Equatable {
    /// The TCP connection is up and NICK/USER (and PASS) have been queued.
    case connecting
    /// Registration finished: the server has said what it supports (`005`) and ended its
    /// message of the day (`376` RPL_ENDOFMOTD or `422` ERR_NOMOTD), so a client may act on
    /// ISUPPORT from here on. Reported after that numeric.
    case connected(origin: String?)
    /// A numeric reply (event_numeric), raw fields.
    case numeric(code: UInt32, origin: String?, params: [String])
    /// Any other server line, raw fields. `command` is libircclient's event name
    /// ("PRIVMSG", "JOIN", "CTCP", "ACTION", ... or the unknown command itself).
    case message(kind: IRCMessageKind, command: String, origin: String?, params: [String])
    /// A line could not be handed to libircclient (not connected, bad line).
    case sendFailed(line: String, error: IRCError)
    /// The connection ended. `requested` is true after `disconnect`/`close`; `error` is nil
    /// for a clean requested close. `unsentLines` counts outbox lines that were dropped.
    case disconnected(error: IRCError?, requested: Bool, unsentLines: Int)
}

/// A handle on one IRC connection. Thread-safe: every method returns at once, having queued its
/// work for the loop thread or, for lines to a registered connection when the loop is idle,
/// written them itself (``IRCLoop/perform(_:)``). Dropping the last reference closes the session.
///
/// Events come either through ``events`` or, for a session made with an `onEvent` handler,
/// through that handler, called under the engine lock — usually on the loop thread, for a
/// `sendFailed` possibly on the sender's, inside its `send` — so it must neither block nor call
/// back into the session (hand the event to a queue or a task); then ``events`` is empty.
/// A long-lived consumer of ``events`` keeps a task, and its memory, per connection.
public final class IRCSession: Sendable {
    public let events: AsyncStream<IRCEvent>
    public let label: String
    let core: SessionCore
    /// Lines sent during an ``OutputBatch``, not yet handed to the loop (in order).
    private let held = Mutex<[String]>([])

    public var loopIndex: Int { core.loop.index }

    init(loop: IRCLoop, label: String) {
        let (stream, continuation) = AsyncStream.makeStream(of: IRCEvent.self, bufferingPolicy: .unbounded)
        events = stream
        self.label = label
        core = SessionCore(loop: loop, deliver: { continuation.yield($0) }, finish: { continuation.finish() })
        let core = core
        loop.submit { core.loop.register(core) }
    }

    /// The ``events`` of every session made with an `onEvent` handler: one finished stream,
    /// shared, as a stream's storage cost a few hundred bytes per connection.
    private static let noEvents = AsyncStream<IRCEvent> { $0.finish() }

    init(loop: IRCLoop, label: String, onEvent: @escaping @Sendable (IRCEvent) -> Void) {
        events = Self.noEvents
        self.label = label
        core = SessionCore(loop: loop, deliver: onEvent, finish: {})
        let core = core
        loop.submit { core.loop.register(core) }
    }

    deinit {
        let core = core
        core.loop.submit { core.closeOnLoop(reason: nil) }
    }

    /// Connects (or reconnects: any previous connection is dropped first, and a fresh
    /// libircclient session is used every time).
    public func connect(_ config: IRCConnectionConfig) {
        submitHeld { $0.connectOnLoop(config) }
    }

    /// Queues one complete IRC line, without CRLF. Lines go out in call order.
    public func send(_ line: String) {
        send(lines: [line])
    }

    /// Queues several lines atomically with respect to other senders.
    ///
    /// With `batchable`, during an ``OutputBatch`` they are held and handed to the loop with the
    /// rest of the batch's lines when it ends. Only for lines nobody waits on in the meantime
    /// (messages): a caller that awaits the server's answer within the batch would wait for its
    /// own end. Any other send takes held lines along first, so order is kept.
    public func send(lines: [String], batchable: Bool = false) {
        if batchable, let batch = OutputBatch.current {
            let alreadyHeld = held.withLock { held in
                defer { held += lines }
                return !held.isEmpty
            }
            // Held lines are registered with a batch already, which releases these too.
            if alreadyHeld || batch.hold(self) { return }
            submitHeld()  // the batch has ended: nothing would release them
            return
        }
        submitHeld(then: lines)
    }

    /// How many lines wait for their batch to end (for tests).
    var heldLineCount: Int { held.withLock { $0.count } }

    /// Takes the lines held for a batch back from the session, which will not send them: for a
    /// connection that has ended, whose lines are to go out on the next one.
    public func takeHeld() -> [String] {
        held.withLock { held in
            defer { held = [] }
            return held
        }
    }

    /// Hands held lines, then `lines`, then `command` to the loop in one job. Under the lock,
    /// so two threads submitting one after the other cannot reach the loop in the other order.
    private func submitHeld(then lines: [String] = [], command: (@Sendable (SessionCore) -> Void)? = nil) {
        let core = core
        held.withLock { held in
            let all = held.isEmpty ? lines : lines.isEmpty ? held : held + lines
            held = []
            if let command {
                core.loop.submit {
                    if !all.isEmpty { core.enqueueOnLoop(all) }
                    command(core)
                }
            } else if !all.isEmpty {
                core.loop.perform { direct in core.send(all, direct: direct) }
            }
        }
    }

    /// Sends QUIT after everything queued and waits (bounded) for the server to close.
    public func disconnect(quitMessage: String? = nil, timeout: Duration = .seconds(3)) {
        submitHeld { $0.disconnectOnLoop(quitMessage: quitMessage, timeout: timeout) }
    }

    /// Drops the connection at once, removes the session from its loop, finishes `events`.
    public func close() {
        submitHeld { $0.closeOnLoop(reason: nil) }
    }
}

extension IRCSession: HeldOutput {
    public func releaseHeld() { submitHeld() }
}

// MARK: Engine side (under the loop's engine lock)

/// Everything here except `loop`, `deliver` and `finish` is touched only under `loop`'s engine
/// lock: on the loop thread, or in a direct job (``IRCLoop/perform(_:)``) on a sender's thread.
final class SessionCore: @unchecked Sendable {
    let loop: IRCLoop
    private let deliver: @Sendable (IRCEvent) -> Void
    private let finish: @Sendable () -> Void

    private enum Phase {
        case idle
        case connecting(deadline: ContinuousClock.Instant)
        case registered
        case quitting(deadline: ContinuousClock.Instant)
        case closed
    }

    private var handle: OpaquePointer?
    private var phase: Phase = .idle
    private var outbox: [String] = []
    private var outboxHead = 0
    private var socketFD: Int32 = -1
    private var announcedTCP = false
    /// libircclient's error code when a write from a sender's thread failed; the loop thread
    /// ends the connection, as the socket's select() is its business.
    private var senderWriteFailure: Int32?
    /// A sender wrote since the loop thread last built its descriptor sets: what select() says
    /// about this socket's writability may be out of date.
    private var senderWroteSinceSelect = false

    init(loop: IRCLoop, deliver: @escaping @Sendable (IRCEvent) -> Void, finish: @escaping @Sendable () -> Void) {
        self.loop = loop
        self.deliver = deliver
        self.finish = finish
    }

    deinit {
        if let handle { irc_destroy_session(handle) }
    }

    func emit(_ event: IRCEvent) { deliver(event) }

    private var pendingCount: Int { outbox.count - outboxHead }

    // Commands

    func connectOnLoop(_ config: IRCConnectionConfig) {
        if case .closed = phase { return }
        if handle != nil { dropConnection(error: nil, requested: true) }

        var v4 = in_addr()
        var v6 = in6_addr()
        let isV4 = inet_pton(AF_INET, config.host, &v4) == 1
        let isV6 = !isV4 && inet_pton(AF_INET6, config.host, &v6) == 1
        guard isV4 || isV6 else {
            emit(.disconnected(
                error: IRCError(code: IRCError.invalidArgument,
                                message: "host must be an IP literal (DNS is resolved outside libircclient)"),
                requested: false, unsentLines: 0))
            return
        }
        guard loop.descriptorHeadroomOK() else {
            emit(.disconnected(
                error: IRCError(code: IRCError.descriptorLimit,
                                message: "too many open descriptors for select()"),
                requested: false, unsentLines: 0))
            return
        }

        var callbacks = makeCallbacks()
        guard let session = irc_create_session(&callbacks) else {
            emit(.disconnected(error: IRCError(libircCode: LIBIRC_ERR_NOMEM), requested: false, unsentLines: 0))
            return
        }
        irc_set_ctx(session, Unmanaged.passUnretained(self).toOpaque())
        // Keep full nick!user@host prefixes; callers split them.
        irc_option_reset(session, UInt32(LIBIRC_OPTION_STRIPNICKS))
        irc_option_reset(session, UInt32(LIBIRC_OPTION_DEBUG))
        handle = session
        socketFD = -1
        announcedTCP = false

        let rc: Int32 = isV4
            ? irc_connect(session, config.host, config.port, config.password, config.nick, config.username, config.realname)
            : irc_connect6(session, config.host, config.port, config.password, config.nick, config.username, config.realname)
        if rc != 0 {
            dropConnection(error: IRCError(libircCode: irc_errno(session)), requested: false)
            return
        }
        if let fd = socketAndOutput?.fd { disableNagle(on: fd) }
        phase = .connecting(deadline: .now + config.registrationTimeout)
    }

    /// Lines leave as soon as they are written: the gateway already gathers what it sends at
    /// once (an ``OutputBatch``) into one write. With Nagle, a line written while the previous
    /// one was unacknowledged waited for the server's delayed ACK, which a server that talks to
    /// the connection (an active channel) holds back for up to 40 ms; a client sending every
    /// 7 ms in such a channel measured 10.5 ms p50 against 0.4 ms without.
    private func disableNagle(on fd: Int32) {
        var on: Int32 = 1
        // A failure only costs latency; the connection works either way.
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Whether libircclient may send `line` as one line (it adds the CRLF).
    private static func isSendable(_ line: String) -> Bool {
        line.utf8.count <= 1020 && !line.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 })
    }

    func enqueueOnLoop(_ lines: [String]) {
        for line in lines {
            if !Self.isSendable(line) {
                emit(.sendFailed(line: line, error: IRCError(code: IRCError.invalidArgument,
                                                               message: "line contains CR/LF/NUL or is too long")))
                continue
            }
            switch phase {
            case .connecting, .registered:
                outbox.append(line)
            case .idle, .quitting, .closed:
                emit(.sendFailed(line: line, error: IRCError(code: IRCError.invalidState, message: "not connected")))
            }
        }
        pumpOutbox()
    }

    /// Queues lines. In a direct job also writes them out, leaving the loop thread whatever
    /// the socket does not take now.
    func send(_ lines: [String], direct: Bool) {
        if direct {
            switch writeDirectly(lines) {
            case .written:
                return
            case .partly:
                loop.wakeUp()
                return
            case .notWritten:
                break
            }
        }
        enqueueOnLoop(lines)
        if direct, !flushFromSender() { loop.wakeUp() }
    }

    private enum DirectWrite { case written, partly, notWritten }

    /// The usual case of a sender, a registered session with nothing queued: its lines go out in
    /// one send() of its own, without the copy into libircclient's buffer and without the poll()
    /// that guards libircclient's write (which retries on EAGAIN without end). What the socket
    /// does not take goes into libircclient's buffer and the outbox, in order, for the loop
    /// thread. Nothing is written, and the usual path takes over (with its error reports), when
    /// a line is not sendable, the socket takes no byte now or fails.
    private func writeDirectly(_ lines: [String]) -> DirectWrite {
        guard let handle, case .registered = phase, pendingCount == 0, senderWriteFailure == nil,
              let socket = socketAndOutput, !socket.hasOutput, lines.allSatisfy(Self.isSendable)
        else { return .notWritten }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(lines.reduce(0) { $0 + $1.utf8.count + 2 })
        var lineEnds: [Int] = []
        lineEnds.reserveCapacity(lines.count)
        for line in lines {
            bytes.append(contentsOf: line.utf8)
            bytes.append(0x0D)
            bytes.append(0x0A)
            lineEnds.append(bytes.count)
        }
        let written = bytes.withUnsafeBytes { socketSend(socket.fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) }
        guard written > 0 else { return .notWritten }
        senderWroteSinceSelect = true
        guard written < bytes.count else { return .written }

        // The rest of the line the socket cut goes first, as bytes: the cut may fall inside a
        // UTF-8 sequence. libircclient adds CRLF to what it is given, so it gets the rest
        // without its CRLF, or a lone LF when only that is left (then the server sees an empty
        // line, which it ignores). Its buffer is empty and holds 4 KiB: a line always fits.
        let cut = lineEnds.firstIndex { $0 > written }!
        var rest = Array(bytes[written..<lineEnds[cut]])
        if rest.count >= 2 { rest.removeLast(2) }
        rest.append(0)
        let taken = rest.withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { ircSendRawLine(handle, $0.baseAddress!) } }
        if taken != 0 {
            // Cannot happen with an empty buffer on a connected session; if it did, the line on
            // the wire is cut for good, and the loop thread ends the connection.
            senderWriteFailure = irc_errno(handle)
            return .partly
        }
        outbox.append(contentsOf: lines[(cut + 1)...])
        pumpOutbox()
        loop.partialDirectWrites.add(1, ordering: .relaxed)
        return .partly
    }

    /// Writes what libircclient buffered for a registered session while the socket takes it.
    /// Returns whether nothing is left for the loop thread to do.
    private func flushFromSender() -> Bool {
        guard let handle else { return true }
        guard case .registered = phase else { return pendingCount == 0 && socketWithOutput == nil }
        for _ in 0..<Self.senderWriteRounds {
            guard let fd = socketWithOutput else { return pendingCount == 0 }
            // libircclient's send() retries on EAGAIN: only hand it a socket that takes bytes now.
            guard isWritableNow(fd) else { return false }
            var readSet = fd_set()
            var writeSet = fd_set()
            FDSet.insert(fd, into: &writeSet)
            senderWroteSinceSelect = true
            if irc_process_select_descriptors(handle, &readSet, &writeSet) != 0 {
                senderWriteFailure = irc_errno(handle)
                return false
            }
            pumpOutbox()
        }
        return pendingCount == 0 && socketWithOutput == nil
    }

    /// A sender writes at most this many libircclient buffers (4 KiB each) before leaving the
    /// rest to the loop thread, so a long backlog does not keep the engine lock.
    private static let senderWriteRounds = 8

    /// Whether the socket takes bytes now, without error or hang-up.
    private func isWritableNow(_ fd: Int32) -> Bool {
        var probe = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        return poll(&probe, 1, 0) == 1 && probe.revents == Int16(POLLOUT)
    }

    /// The socket, when libircclient holds a complete line not yet written on it.
    private var socketWithOutput: Int32? {
        guard let socket = socketAndOutput, socket.hasOutput else { return nil }
        return socket.fd
    }

    /// The session's socket, and whether libircclient holds output for it.
    private var socketAndOutput: (fd: Int32, hasOutput: Bool)? {
        guard let handle else { return nil }
        var readSet = fd_set()
        var writeSet = fd_set()
        var fd: Int32 = -1
        guard irc_add_select_descriptors(handle, &readSet, &writeSet, &fd) == 0, fd >= 0 else { return nil }
        return (fd, FDSet.contains(fd, writeSet))
    }

    func disconnectOnLoop(quitMessage: String?, timeout: Duration) {
        switch phase {
        case .registered:
            outbox.append(quitMessage.map { "QUIT :\($0)" } ?? "QUIT")
            phase = .quitting(deadline: .now + timeout)
            pumpOutbox()
        case .connecting:
            dropConnection(error: nil, requested: true)
        case .idle, .quitting, .closed:
            break
        }
    }

    func closeOnLoop(reason: String?) {
        if case .closed = phase { return }
        if handle != nil {
            dropConnection(error: reason.map { IRCError(code: IRCError.terminated, message: $0) }, requested: true)
        }
        phase = .closed
        loop.unregister(self)
        finish()
    }

    // Loop hooks

    func onTick(now: ContinuousClock.Instant) {
        if endAfterSenderWriteFailure() { return }
        switch phase {
        case .connecting(let deadline) where now >= deadline:
            dropConnection(error: IRCError(code: IRCError.timeout, message: "registration timed out"), requested: false)
        case .quitting(let deadline) where now >= deadline:
            dropConnection(error: nil, requested: true)
        default:
            pumpOutbox()
        }
    }

    func addDescriptors(read: inout fd_set, write: inout fd_set, maxfd: inout Int32) {
        guard let handle else { return }
        senderWroteSinceSelect = false
        var mine: Int32 = -1
        if irc_add_select_descriptors(handle, &read, &write, &mine) == 0, mine >= 0 {
            socketFD = mine
            maxfd = max(maxfd, mine)
        } else {
            socketFD = -1
        }
    }

    func processDescriptors(read: inout fd_set, write: inout fd_set) {
        guard let handle, socketFD >= 0 else { return }
        // Only hand over sessions whose socket is ready: libircclient treats a call in the
        // CONNECTING state without writability as an error on some paths.
        guard FDSet.contains(socketFD, read) || FDSet.contains(socketFD, write) else { return }
        if endAfterSenderWriteFailure() { return }
        // A sender may have written between select() and now: libircclient would take an empty
        // write for a failure, and spin on a full socket. Ask again.
        if senderWroteSinceSelect, FDSet.contains(socketFD, write), socketWithOutput.map(isWritableNow) != true {
            FDSet.remove(socketFD, from: &write)
            guard FDSet.contains(socketFD, read) else { return }
        }
        if irc_process_select_descriptors(handle, &read, &write) != 0 {
            connectionFailed(code: irc_errno(handle))
            return
        }
        if !announcedTCP, irc_is_connected(handle) != 0 {
            if case .connecting = phase {
                announcedTCP = true
                emit(.connecting)
            }
        }
        pumpOutbox()
    }

    // Callbacks (under the engine lock, from inside irc_process_select_descriptors)

    /// A numeric from the server; the first end of the MOTD completes registration.
    ///
    /// Not libircclient's event_connect: Debian's 1.10 fires it at `001`, before the `005`
    /// ISUPPORT lines, and a client that configured itself then saw none of them (no MONITOR,
    /// the default case mapping, a copy of empty tokens per connection).
    func handleNumeric(_ code: UInt32, origin: String?, params: [String]) {
        emit(.numeric(code: code, origin: origin, params: params))
        guard code == 376 || code == 422, case .connecting = phase else { return }
        phase = .registered
        emit(.connected(origin: origin))
        pumpOutbox()
    }

    // Internals

    private func connectionFailed(code: Int32) {
        if case .quitting = phase {
            dropConnection(error: nil, requested: true)
        } else {
            dropConnection(error: IRCError(libircCode: code == 0 ? LIBIRC_ERR_CLOSED : code), requested: false)
        }
    }

    /// Ends the connection a sender's write found broken. Returns whether it did.
    private func endAfterSenderWriteFailure() -> Bool {
        guard let code = senderWriteFailure else { return false }
        senderWriteFailure = nil
        connectionFailed(code: code)
        return true
    }

    private func pumpOutbox() {
        guard let handle, outboxHead < outbox.count else { return }
        while outboxHead < outbox.count {
            let line = outbox[outboxHead]
            let rc = line.withCString { ircSendRawLine(handle, $0) }
            if rc == 0 {
                outboxHead += 1
                continue
            }
            let code = irc_errno(handle)
            if code == LIBIRC_ERR_NOMEM || code == LIBIRC_ERR_STATE {
                // Buffer full (wait for a write) or TCP not up yet (wait for connect).
                break
            }
            emit(.sendFailed(line: line, error: IRCError(libircCode: code)))
            outboxHead += 1
        }
        if outboxHead == outbox.count {
            outbox.removeAll(keepingCapacity: true)
            outboxHead = 0
        } else if outboxHead > 1024 && outboxHead * 2 > outbox.count {
            outbox.removeFirst(outboxHead)
            outboxHead = 0
        }
    }

    /// Destroys the C session (closing its socket) and reports the end of the connection.
    private func dropConnection(error: IRCError?, requested: Bool) {
        let unsent = pendingCount
        outbox.removeAll()
        outboxHead = 0
        if let handle {
            irc_set_ctx(handle, nil)
            irc_disconnect(handle)
            irc_destroy_session(handle)
            self.handle = nil
        }
        socketFD = -1
        senderWriteFailure = nil
        if case .closed = phase {} else { phase = .idle }
        emit(.disconnected(error: error, requested: requested, unsentLines: unsent))
    }
}

// MARK: C bridging

/// send(2), which ``SessionCore``'s own `send` hides inside the class.
private func socketSend(_ fd: Int32, _ bytes: UnsafeRawPointer?, _ count: Int, _ flags: Int32) -> Int {
    send(fd, bytes, count, flags)
}

private func ircSendRawLine(_ session: OpaquePointer, _ line: UnsafePointer<CChar>) -> Int32 {
    causeway_irc_send_line(session, line)
}

/// IRC text is bytes: UTF-8 when valid, otherwise Latin-1 (`IRCTextDecoder`), decided per
/// parameter since libircclient has already split the line. Nothing is lost or replaced.
func ircDecode(_ pointer: UnsafePointer<CChar>?) -> String? {
    guard let pointer else { return nil }
    let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self),
                                    count: strlen(pointer))
    return IRCTextDecoder.decode(bytes)
}

private func decodeParams(_ params: UnsafeMutablePointer<UnsafePointer<CChar>?>?, _ count: UInt32) -> [String] {
    guard let params, count > 0 else { return [] }
    return (0..<Int(count)).map { ircDecode(params[$0]) ?? "" }
}

private func core(of session: OpaquePointer?) -> SessionCore? {
    guard let session, let ctx = irc_get_ctx(session) else { return nil }
    return Unmanaged<SessionCore>.fromOpaque(ctx).takeUnretainedValue()
}

private func deliver(_ kind: IRCMessageKind, _ session: OpaquePointer?, _ event: UnsafePointer<CChar>?,
                     _ origin: UnsafePointer<CChar>?, _ params: UnsafeMutablePointer<UnsafePointer<CChar>?>?,
                     _ count: UInt32) {
    guard let core = core(of: session) else { return }
    core.emit(.message(kind: kind, command: ircDecode(event) ?? "", origin: ircDecode(origin),
                       params: decodeParams(params, count)))
}

private func makeCallbacks() -> irc_callbacks_t {
    var cb = irc_callbacks_t()
    cb.event_numeric = { session, code, origin, params, count in
        core(of: session)?.handleNumeric(code, origin: ircDecode(origin), params: decodeParams(params, count))
    }
    cb.event_nick = { deliver(.nick, $0, $1, $2, $3, $4) }
    cb.event_quit = { deliver(.quit, $0, $1, $2, $3, $4) }
    cb.event_join = { deliver(.join, $0, $1, $2, $3, $4) }
    cb.event_part = { deliver(.part, $0, $1, $2, $3, $4) }
    cb.event_mode = { deliver(.mode, $0, $1, $2, $3, $4) }
    cb.event_umode = { deliver(.umode, $0, $1, $2, $3, $4) }
    cb.event_topic = { deliver(.topic, $0, $1, $2, $3, $4) }
    cb.event_kick = { deliver(.kick, $0, $1, $2, $3, $4) }
    cb.event_channel = { deliver(.channel, $0, $1, $2, $3, $4) }
    cb.event_privmsg = { deliver(.privmsg, $0, $1, $2, $3, $4) }
    cb.event_notice = { deliver(.notice, $0, $1, $2, $3, $4) }
    cb.event_channel_notice = { deliver(.channelNotice, $0, $1, $2, $3, $4) }
    cb.event_invite = { deliver(.invite, $0, $1, $2, $3, $4) }
    // Setting event_ctcp_req turns off libircclient's automatic CTCP VERSION/PING/TIME
    // replies: the bridge decides what to answer.
    cb.event_ctcp_req = { deliver(.ctcpRequest, $0, $1, $2, $3, $4) }
    cb.event_ctcp_rep = { deliver(.ctcpReply, $0, $1, $2, $3, $4) }
    cb.event_ctcp_action = { deliver(.ctcpAction, $0, $1, $2, $3, $4) }
    cb.event_unknown = { deliver(.unknown, $0, $1, $2, $3, $4) }
    return cb
}
