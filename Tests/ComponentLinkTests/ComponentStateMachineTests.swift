import XCTest
@testable import ComponentLink
import XMPPCore

fileprivate typealias XMLElement = XMPPCore.XMLElement

final class ComponentStateMachineTests: XCTestCase {
    private func header(id: String? = "stream-1") -> XMLStreamEvent {
        .streamOpened(XMLElement("stream", namespace: Namespace.streams, ["id": id]))
    }

    private func established() -> ComponentStateMachine {
        var machine = ComponentStateMachine(domain: "irc.localhost", secret: "s3cret", serverDomain: "localhost")
        _ = machine.connected()
        _ = machine.received(header())
        _ = machine.received(.element(XMLElement("handshake", namespace: Namespace.component)))
        return machine
    }

    func testHandshakeDigestIsSHA1OfStreamIDAndSecretInLowerCaseHex() {
        // sha1("3BF96D32" + "secret"), computed independently with `printf %s 3BF96D32secret | sha1sum`.
        XCTAssertEqual(HandshakeDigest.compute(streamID: "3BF96D32", secret: "secret"), "b09ea9b3b7f586be8a08d0a3dd7466f110aeb136")
    }

    func testSuccessfulHandshake() {
        var machine = ComponentStateMachine(domain: "irc.localhost", secret: "s3cret", serverDomain: "localhost")
        XCTAssertEqual(machine.connected(), .write(.streamHeader(to: "irc.localhost")))
        let digest = HandshakeDigest.compute(streamID: "stream-1", secret: "s3cret")
        XCTAssertEqual(machine.received(header()), .write(.element(.text("handshake", namespace: Namespace.component, digest))))
        XCTAssertEqual(machine.received(.element(XMLElement("handshake", namespace: Namespace.component))), .linkEstablished(streamID: "stream-1"))
        XCTAssertTrue(machine.isEstablished)
        let message = XMLElement("message", namespace: Namespace.component, ["to": "a@irc.localhost"])
        XCTAssertEqual(machine.received(.element(message)), .deliver(message))
    }

    func testHeaderWithoutIDFailsTheStream() {
        var machine = ComponentStateMachine(domain: "d", secret: "s", serverDomain: "x")
        _ = machine.connected()
        guard case .failStream(_, .protocolViolation) = machine.received(header(id: nil)) else { return XCTFail() }
    }

    func testStreamErrorsDuringHandshakeAreClassified() {
        let cases: [(StreamError.Condition, LinkFailure)] = [
            (.notAuthorized, .notAuthorized), (.conflict, .conflict), (.hostUnknown, .hostUnknown),
            (.systemShutdown, .streamError(StreamError(.systemShutdown))),
        ]
        for (condition, expected) in cases {
            var machine = ComponentStateMachine(domain: "d", secret: "s", serverDomain: "x")
            _ = machine.connected()
            _ = machine.received(header())
            XCTAssertEqual(machine.received(.element(StreamError(condition).element)), .closeConnection(expected))
            XCTAssertEqual(machine.connectionClosed(), expected)
            XCTAssertEqual(expected.needsConfigurationChange, [.notAuthorized, .conflict, .hostUnknown].contains(condition))
        }
    }

    func testNotAuthorizedExplanationNamesTheSecret() {
        let text = LinkFailure.notAuthorized.explanation(domain: "irc.localhost", host: "127.0.0.1", port: 5347)
        XCTAssertTrue(text.contains("not-authorized"))
        XCTAssertTrue(text.contains("secret"))
        XCTAssertTrue(LinkFailure.hostUnknown.explanation(domain: "irc.localhost", host: "h", port: 1).contains("Component \"irc.localhost\""))
    }

    func testHandshakeTimeout() {
        var machine = ComponentStateMachine(domain: "d", secret: "s", serverDomain: "x")
        _ = machine.connected()
        XCTAssertEqual(machine.handshakeTimedOut(), .closeConnection(.handshakeTimeout))
        var up = established()
        XCTAssertEqual(up.handshakeTimedOut(), .none)
    }

    func testUnexpectedElementInsteadOfHandshake() {
        var machine = ComponentStateMachine(domain: "d", secret: "s", serverDomain: "x")
        _ = machine.connected()
        _ = machine.received(header())
        guard case .failStream(let error, _) = machine.received(.element(XMLElement("message"))) else { return XCTFail() }
        XCTAssertEqual(error.condition, .notAuthorized)
    }

    func testServerClosingTheStreamIsAFailure() {
        var machine = established()
        XCTAssertEqual(machine.received(.streamClosed), .closeConnection(.closedByServer))
    }

    func testBadXMLFromServerFailsTheStreamWithItsError() {
        var machine = established()
        let error = StreamError(.notWellFormed, text: "bad")
        guard case .failStream(error, .protocolViolation) = machine.received(.failed(error)) else { return XCTFail() }
    }

    func testPingsDetectADeadLink() {
        var machine = established()
        guard case .write(.element(let ping)) = machine.pingTimerFired() else { return XCTFail() }
        XCTAssertEqual(ping[attribute: "to"], "localhost")
        XCTAssertEqual(ping[attribute: "from"], "irc.localhost")
        XCTAssertNotNil(ping.child("ping", namespace: Namespace.ping))
        // The answer clears the ping and is not delivered to the gateway.
        let pong = XMLElement("iq", namespace: Namespace.component, ["type": "result", "id": ping[attribute: "id"]])
        XCTAssertEqual(machine.received(.element(pong)), .none)
        guard case .write = machine.pingTimerFired() else { return XCTFail("a new ping expected") }
        // No answer for a whole interval: the link is dead.
        XCTAssertEqual(machine.pingTimerFired(), .closeConnection(.pingTimeout))
    }

    func testAnErrorAnswerToAPingAlsoProvesTheLinkAlive() {
        var machine = established()
        guard case .write(.element(let ping)) = machine.pingTimerFired() else { return XCTFail() }
        XCTAssertEqual(machine.received(.element(XMLElement("iq", ["type": "error", "id": ping[attribute: "id"]]))), .none)
        guard case .write = machine.pingTimerFired() else { return XCTFail() }
    }

    func testKeepalivesOnlyWhenEstablished() {
        var machine = ComponentStateMachine(domain: "d", secret: "s", serverDomain: "x")
        XCTAssertEqual(machine.whitespaceTimerFired(), .none)
        XCTAssertEqual(machine.pingTimerFired(), .none)
        var up = established()
        XCTAssertEqual(up.whitespaceTimerFired(), .write(.whitespace))
    }

    func testCleanClose() {
        var machine = established()
        XCTAssertEqual(machine.closeRequested(), .write(.streamEnd))
        XCTAssertEqual(machine.received(.element(XMLElement("message"))), .none)
        XCTAssertEqual(machine.received(.streamClosed), .closeConnection(nil))
        XCTAssertNil(machine.connectionClosed())
    }

    func testCloseTimesOutWhenTheServerDoesNotAnswer() {
        var machine = established()
        _ = machine.closeRequested()
        XCTAssertEqual(machine.closeTimedOut(), .closeConnection(nil))
        XCTAssertNil(machine.connectionClosed())
    }

    func testCloseBeforeEstablishedJustCloses() {
        var machine = ComponentStateMachine(domain: "d", secret: "s", serverDomain: "x")
        _ = machine.connected()
        XCTAssertEqual(machine.closeRequested(), .closeConnection(nil))
    }

    func testSocketLossIsReported() {
        var machine = established()
        XCTAssertEqual(machine.connectionClosed(), .closedByServer)
    }
}

final class ReconnectBackoffTests: XCTestCase {
    func testGrowsExponentiallyToTheCapWithJitter() {
        var backoff = ReconnectBackoff(initial: .milliseconds(100), maximum: .seconds(2))
        XCTAssertEqual(backoff.ceiling(forAttempt: 0), .milliseconds(100))
        XCTAssertEqual(backoff.ceiling(forAttempt: 3), .milliseconds(800))
        XCTAssertEqual(backoff.ceiling(forAttempt: 10), .seconds(2))
        XCTAssertEqual(backoff.ceiling(forAttempt: 1000), .seconds(2))
        var delays: [Duration] = []
        for attempt in 0..<8 {
            let delay = backoff.nextDelay()
            let ceiling = backoff.ceiling(forAttempt: attempt)
            XCTAssertGreaterThanOrEqual(delay, ceiling / 2)
            XCTAssertLessThanOrEqual(delay, ceiling)
            delays.append(delay)
        }
        backoff.reset()
        XCTAssertLessThanOrEqual(backoff.nextDelay(), .milliseconds(100))
    }

    func testJitterSpreadsManyLinks() {
        let delays = (0..<200).map { _ -> Duration in
            var backoff = ReconnectBackoff(initial: .seconds(1), maximum: .seconds(30))
            for _ in 0..<4 { _ = backoff.nextDelay() }
            return backoff.nextDelay()
        }
        XCTAssertGreaterThan(Set(delays).count, 150, "reconnects must not come in lock-step")
    }
}

final class OutboundQueueTests: XCTestCase {
    func testKeepsOrderAndRefusesPlainStanzasWhenFull() {
        var queue = OutboundQueue(limit: 3)
        let elements = (1...4).map { XMLElement("message", ["id": "\($0)"]) }
        XCTAssertTrue(queue.append(elements[0]))
        XCTAssertTrue(queue.append(elements[1]))
        XCTAssertTrue(queue.append(elements[2]))
        XCTAssertFalse(queue.append(elements[3]))
        XCTAssertEqual(queue.removeAll().map(\.element), Array(elements[0..<3]))
        XCTAssertTrue(queue.isEmpty)
        XCTAssertTrue(queue.append(elements[3]))
    }

    func testRefusesNothingWhileTheLinkIsUpAndKeepsItAllWhenItIsLost() {
        var queue = OutboundQueue(limit: 2)
        let elements = (1...5).map { XMLElement("message", ["id": "\($0)"]) }
        queue.linkEstablished()
        for element in elements[0..<4] { XCTAssertTrue(queue.append(element), "a slow drain is not an outage") }
        queue.linkLost()
        XCTAssertFalse(queue.append(elements[4]), "down and over the limit")
        XCTAssertEqual(queue.removeAll().map(\.element), Array(elements[0..<4]), "nothing accepted is dropped")
        XCTAssertTrue(queue.append(elements[4]))
    }

    func testAcknowledgedStanzasKeepTheirPlaceAreNeverRefusedAndGoWhenTheLinkIsLost() {
        var queue = OutboundQueue(limit: 1)
        let elements = (1...4).map { XMLElement("message", ["id": "\($0)"]) }
        XCTAssertTrue(queue.append(elements[0]))
        queue.appendAcknowledged(elements[1]) {}
        queue.appendAcknowledged(elements[2]) {}
        XCTAssertFalse(queue.append(elements[3]), "the limit counts plain stanzas only")
        XCTAssertEqual(queue.count, 3)
        let batch = queue.removeAll()
        XCTAssertEqual(batch.map(\.element), Array(elements[0..<3]))
        XCTAssertEqual(batch.map { $0.onAcknowledged != nil }, [false, true, true])

        queue.appendAcknowledged(elements[1]) {}
        XCTAssertTrue(queue.append(elements[3]))
        queue.linkLost()
        XCTAssertEqual(queue.removeAll().map(\.element), [elements[3]])
    }
}

final class AcknowledgedSendTests: XCTestCase {
    func testAcknowledgedStanzasAreFollowedByAPingWhoseAnswerAcknowledgesThem() {
        var machine = ComponentStateMachine(domain: "gw.localhost", secret: "s", serverDomain: "localhost")
        XCTAssertEqual(machine.acknowledgementPing(), .none, "nothing is sent before the link is up")
        _ = machine.connected()
        _ = machine.received(.streamOpened(XMLElement("stream", namespace: Namespace.streams, ["id": "s1"])))
        _ = machine.received(.element(XMLElement("handshake", namespace: Namespace.component)))
        guard case .writeAcknowledgementPing(let ping, let id) = machine.acknowledgementPing() else { return XCTFail() }
        XCTAssertEqual(ping[attribute: "id"], id)
        XCTAssertEqual(ping[attribute: "to"], "localhost")
        XCTAssertNotNil(ping.child("ping", namespace: Namespace.ping))
        let answer = XMLElement("iq", namespace: Namespace.component, ["type": "result", "id": id])
        XCTAssertEqual(machine.received(.element(answer)), .acknowledged(ackID: id))
        // A second answer with the same id is just a stanza for the gateway.
        XCTAssertEqual(machine.received(.element(answer)), .deliver(answer))
    }
}
