import XMPPCore

/// The XEP-0114 component stream as a pure state machine: events in, actions out.
///
/// The channel handler feeds it what happens on the connection and runs the actions it returns;
/// nothing here touches a socket or a clock, so every path is tested without one.
public struct ComponentStateMachine: Sendable {
    public enum State: Sendable, Hashable {
        /// Waiting for the TCP connection.
        case idle
        /// Our stream header is out; waiting for the server's, which carries the stream id.
        case awaitingStreamHeader
        /// The handshake digest is out; waiting for `<handshake/>` or a stream error.
        case awaitingHandshakeResult(streamID: String)
        /// Stanzas flow both ways.
        case established(streamID: String)
        /// We sent `</stream:stream>` and wait for the server's.
        case closing
        /// The connection is gone; a new machine serves the next one.
        case closed
    }

    public enum Action: Sendable, Hashable {
        case write(OutboundFrame)
        /// The handshake succeeded: flush waiting stanzas, start keepalives, reset the backoff.
        case linkEstablished(streamID: String)
        /// A stanza for the gateway.
        case deliver(XMLElement)
        /// Write the ping that acknowledges the stanzas written before it.
        case writeAcknowledgementPing(XMLElement, ackID: String)
        /// The server answered the ping that followed acknowledged stanzas.
        case acknowledged(ackID: String)
        /// Write the stream error and the stream end, then close the connection.
        case failStream(StreamError, LinkFailure)
        /// Close the connection now; the failure, if any, says why.
        case closeConnection(LinkFailure?)
        case none
    }

    public let domain: String
    public let serverDomain: String
    private let secret: String
    public private(set) var state: State = .idle
    /// Why the link failed, kept for the reconnect loop's log line.
    public private(set) var failure: LinkFailure?
    private var outstandingPingID: String?
    private var pingCounter = 0
    /// Pings that follow acknowledged stanzas, not yet answered.
    private var pendingAcknowledgements: Set<String> = []
    private var acknowledgementCounter = 0

    public init(domain: String, secret: String, serverDomain: String) {
        self.domain = domain
        self.secret = secret
        self.serverDomain = serverDomain
    }

    public var isEstablished: Bool {
        if case .established = state { true } else { false }
    }

    public mutating func connected() -> Action {
        guard state == .idle else { return .none }
        state = .awaitingStreamHeader
        return .write(.streamHeader(to: domain))
    }

    public mutating func received(_ event: XMLStreamEvent) -> Action {
        switch (state, event) {
        case (.awaitingStreamHeader, .streamOpened(let header)):
            guard let streamID = header[attribute: "id"], !streamID.isEmpty else {
                return fail(StreamError(.invalidXML, text: "The stream header has no id"),
                            .protocolViolation("the stream header has no id attribute"))
            }
            state = .awaitingHandshakeResult(streamID: streamID)
            let digest = HandshakeDigest.compute(streamID: streamID, secret: secret)
            return .write(.element(XMLElement.text("handshake", namespace: Namespace.component, digest)))

        case (.awaitingHandshakeResult(let streamID), .element(let element)) where element.name == "handshake":
            state = .established(streamID: streamID)
            return .linkEstablished(streamID: streamID)

        case (_, .element(let element)) where element.name == "error" && element.namespace == Namespace.streams:
            let error = StreamError(element: element) ?? StreamError(.undefinedCondition)
            return close(failure: Self.failure(for: error))

        case (.established, .element(let element)) where element.name == "iq" && isAnswer(element)
            && pendingAcknowledgements.contains(element[attribute: "id"] ?? ""):
            // The server processes a stream in order: its answer to the ping proves it has
            // processed the stanza written before it.
            let id = element[attribute: "id"] ?? ""
            pendingAcknowledgements.remove(id)
            return .acknowledged(ackID: id)

        case (.established, .element(let element)):
            if let pingID = outstandingPingID, element.name == "iq", element[attribute: "id"] == pingID,
               element[attribute: "type"] == "result" || element[attribute: "type"] == "error" {
                // Any answer, even an error, proves the link is alive.
                outstandingPingID = nil
                return .none
            }
            return .deliver(element)

        case (.closing, .element(let element)) where element.name == "iq" && isAnswer(element)
            && pendingAcknowledgements.contains(element[attribute: "id"] ?? ""):
            let id = element[attribute: "id"] ?? ""
            pendingAcknowledgements.remove(id)
            return .acknowledged(ackID: id)

        case (.closing, .element):
            // The server may still send stanzas after our stream end; the gateway is stopping.
            return .none

        case (.closing, .streamClosed):
            return close(failure: nil)

        case (_, .streamClosed):
            return close(failure: .closedByServer)

        case (_, .failed(let error)):
            return fail(error, .protocolViolation("\(error.condition.rawValue): \(error.text ?? "")"))

        case (.awaitingHandshakeResult, .element(let element)):
            return fail(StreamError(.notAuthorized, text: "Expected <handshake/>"),
                        .protocolViolation("expected <handshake/>, got <\(element.name)>"))

        case (_, .streamOpened), (.idle, _), (.awaitingStreamHeader, _), (.closed, _):
            return fail(StreamError(.invalidXML, text: "Unexpected stream event"),
                        .protocolViolation("unexpected \(event) in state \(state)"))
        }
    }

    /// The handshake timer fired.
    public mutating func handshakeTimedOut() -> Action {
        switch state {
        case .awaitingStreamHeader, .awaitingHandshakeResult:
            return close(failure: .handshakeTimeout)
        default:
            return .none
        }
    }

    /// The ping timer fired: ping the server, or give the link up if the last ping is still
    /// unanswered a whole interval later.
    public mutating func pingTimerFired() -> Action {
        guard isEstablished else { return .none }
        if outstandingPingID != nil {
            return close(failure: .pingTimeout)
        }
        pingCounter += 1
        let id = "causeway-ping-\(pingCounter)"
        outstandingPingID = id
        let ping = XMLElement("iq", namespace: Namespace.component, [
            "type": "get", "id": id, "from": domain, "to": serverDomain,
        ]).appending(XMLElement("ping", namespace: Namespace.ping))
        return .write(.element(ping))
    }

    /// Stanzas to be acknowledged were just written: a ping follows them, and its answer
    /// acknowledges them all, since the server processes a stream in order. Nothing is written
    /// unless the link is up.
    public mutating func acknowledgementPing() -> Action {
        guard isEstablished else { return .none }
        acknowledgementCounter += 1
        let id = "causeway-ack-\(acknowledgementCounter)"
        pendingAcknowledgements.insert(id)
        let ping = XMLElement("iq", namespace: Namespace.component, [
            "type": "get", "id": id, "from": domain, "to": serverDomain,
        ]).appending(XMLElement("ping", namespace: Namespace.ping))
        return .writeAcknowledgementPing(ping, ackID: id)
    }

    private func isAnswer(_ element: XMLElement) -> Bool {
        element[attribute: "type"] == "result" || element[attribute: "type"] == "error"
    }

    /// The whitespace keepalive timer fired.
    public mutating func whitespaceTimerFired() -> Action {
        isEstablished ? .write(.whitespace) : .none
    }

    /// The gateway is shutting down: end the stream politely if it is up.
    public mutating func closeRequested() -> Action {
        switch state {
        case .established:
            state = .closing
            return .write(.streamEnd)
        case .closing, .closed:
            return .none
        case .idle, .awaitingStreamHeader, .awaitingHandshakeResult:
            return close(failure: nil)
        }
    }

    /// The server did not end its stream in time after ours.
    public mutating func closeTimedOut() -> Action {
        state == .closing ? close(failure: nil) : .none
    }

    /// The TCP connection is gone. Returns the failure to report, if the close was not ours.
    public mutating func connectionClosed() -> LinkFailure? {
        let wasClosing = state == .closing || state == .closed
        state = .closed
        if failure == nil && !wasClosing {
            failure = .closedByServer
        }
        return failure
    }

    private mutating func close(failure: LinkFailure?) -> Action {
        if self.failure == nil { self.failure = failure }
        state = .closed
        return .closeConnection(failure)
    }

    private mutating func fail(_ error: StreamError, _ failure: LinkFailure) -> Action {
        if self.failure == nil { self.failure = failure }
        state = .closed
        return .failStream(error, failure)
    }

    static func failure(for error: StreamError) -> LinkFailure {
        switch error.condition {
        case .notAuthorized: .notAuthorized
        case .conflict: .conflict
        case .hostUnknown: .hostUnknown
        default: .streamError(error)
        }
    }
}
