// Runs `SASLPrelude` on the relay's upstream channel: frames lines, feeds them to the state
// machine, writes what it says, enforces the timeout. It sits just in front of the upstream's
// `RelayGlueHandler`, which holds reads until libircclient pairs; so this handler asks for
// reads itself (`context.read()` goes from here towards the socket, past the glue) while the
// prelude runs.
//
// Nothing the server says is lost: lines the prelude does not own go on down the pipeline at
// once, and at the end everything still unframed (the rest of the last read, byte for byte)
// follows them. The glue keeps all of it, behind anything that arrived before this handler was
// added, and gives it to libircclient first when it pairs. Then this handler removes itself.

import NIOCore

final class SASLPreludeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// During the prelude a line may be at most this long (without CR LF): enough for IRCv3
    /// tags plus a 512-byte message, and a bound on what a misbehaving server can make us keep.
    static let maxLineLength = 8192

    private var machine: SASLPrelude
    private var framer = IRCLineFramer(maxLineLength: SASLPreludeHandler.maxLineLength)
    private let timeout: TimeAmount
    private let result: EventLoopPromise<IRCTLSRelay.SASLOutcome>
    private var timer: Scheduled<Void>?
    private var context: ChannelHandlerContext?
    private var done = false

    /// - Parameter result: succeeds with the outcome once the prelude is over and this handler
    ///   has left the pipeline; fails with an `IRCTLSError` (the channel is then closed).
    init(credentials: IRCTLSRelay.SASLCredentials, timeout: TimeAmount,
         result: EventLoopPromise<IRCTLSRelay.SASLOutcome>) {
        self.machine = SASLPrelude(credentials: credentials)
        self.timeout = timeout
        self.result = result
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        guard context.channel.isActive else {
            run(machine.connectionClosed(), context: context)
            return
        }
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            guard let context = self.context else { return }
            run(machine.timedOut(), context: context)
        }
        run(machine.start(), context: context)
        if !done { context.read() }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        self.context = nil
        if !done {
            done = true
            result.fail(IRCTLSError.saslFailed("the SASL exchange was interrupted"))
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else { return context.fireChannelRead(data) }
        framer.append(unwrapInboundIn(data).readableBytesView)
        while !done {
            let line: [UInt8]?
            do {
                line = try framer.nextLine()
            } catch {
                fail(.saslFailed("the server sent a line longer than \(error.limit) bytes"), context: context)
                return
            }
            guard let line else { break }
            run(machine.receivedLine(line), context: context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
        if !done { context.read() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        run(machine.connectionClosed(), context: context)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !done else { return context.fireErrorCaught(error) }
        run(machine.connectionClosed(detail: "\(error)"), context: context)
    }

    // MARK: Running the machine's actions

    private func run(_ actions: [SASLPrelude.Action], context: ChannelHandlerContext) {
        for action in actions {
            switch action {
            case .send(let line):
                var buffer = context.channel.allocator.buffer(capacity: line.utf8.count + 2)
                buffer.writeString(line)
                buffer.writeStaticString("\r\n")
                context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
            case .deliver(let line):
                var buffer = context.channel.allocator.buffer(capacity: line.count + 2)
                buffer.writeBytes(line)
                buffer.writeStaticString("\r\n")
                context.fireChannelRead(wrapInboundOut(buffer))
            case .finish(let outcome):
                finish(outcome, context: context)
            case .fail(let error):
                fail(error, context: context)
            }
        }
    }

    private func finish(_ outcome: IRCTLSRelay.SASLOutcome, context: ChannelHandlerContext) {
        guard !done else { return }
        done = true
        timer?.cancel()
        // The rest of what was read is libircclient's, exactly as the server sent it.
        let rest = framer.takeRemainder()
        if !rest.isEmpty {
            var buffer = context.channel.allocator.buffer(capacity: rest.count)
            buffer.writeBytes(rest)
            context.fireChannelRead(wrapInboundOut(buffer))
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        result.succeed(outcome)
    }

    private func fail(_ error: IRCTLSError, context: ChannelHandlerContext) {
        guard !done else { return }
        done = true
        timer?.cancel()
        result.fail(error)
        context.close(promise: nil)
    }
}
