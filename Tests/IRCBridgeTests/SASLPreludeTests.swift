// The SASL prelude state machine, the line framer and the base64 encoder, with no sockets.

import Foundation
import XCTest
@testable import IRCBridge

final class SASLPreludeTests: XCTestCase {
    private let alice = IRCTLSRelay.SASLCredentials(username: "alice", password: "s3cret")

    private func started(_ credentials: IRCTLSRelay.SASLCredentials? = nil) -> SASLPrelude {
        var prelude = SASLPrelude(credentials: credentials ?? alice)
        XCTAssertEqual(prelude.start(), [.send("CAP LS 302")])
        return prelude
    }

    private func feed(_ prelude: inout SASLPrelude, _ line: String) -> [SASLPrelude.Action] {
        prelude.receivedLine(Array(line.utf8))
    }

    /// Drives LS → REQ → ACK → AUTHENTICATE PLAIN → `+`; returns the AUTHENTICATE lines sent.
    private func authenticate(_ prelude: inout SASLPrelude, ls: String = ":irc.test CAP * LS :multi-prefix sasl=PLAIN,EXTERNAL") -> [String] {
        XCTAssertEqual(feed(&prelude, ls), [.send("CAP REQ :sasl")])
        XCTAssertEqual(feed(&prelude, ":irc.test CAP * ACK :sasl"), [.send("AUTHENTICATE PLAIN")])
        return feed(&prelude, "AUTHENTICATE +").map {
            guard case .send(let line) = $0 else { XCTFail("not a send: \($0)"); return "" }
            return line
        }
    }

    func testOfferedPLAINSucceeds() {
        var prelude = started()
        // base64("alice\0alice\0s3cret")
        XCTAssertEqual(authenticate(&prelude), ["AUTHENTICATE YWxpY2UAYWxpY2UAczNjcmV0"])
        XCTAssertEqual(feed(&prelude, ":irc.test 900 * * alice :You are now logged in as alice"), [])
        XCTAssertEqual(feed(&prelude, ":irc.test 903 * :SASL authentication successful"),
                       [.send("CAP END"), .finish(.succeeded)])
        XCTAssertFalse(prelude.isRunning)
        // Whatever comes after the end is libircclient's.
        XCTAssertEqual(feed(&prelude, ":irc.test 001 x :Welcome"), [.deliver(Array(":irc.test 001 x :Welcome".utf8))])
        XCTAssertEqual(prelude.timedOut(), [])
    }

    func testBareSaslIsOffered() {
        var prelude = started()
        XCTAssertEqual(feed(&prelude, ":irc.test CAP * LS :sasl"), [.send("CAP REQ :sasl")])
    }

    func testMultiLineCapabilityList() {
        var prelude = started()
        XCTAssertEqual(feed(&prelude, ":irc.test CAP * LS * :away-notify sasl=EXTERNAL,PLAIN"), [])
        XCTAssertEqual(feed(&prelude, ":irc.test CAP * LS * :account-tag"), [])
        XCTAssertEqual(feed(&prelude, ":irc.test CAP * LS :multi-prefix"), [.send("CAP REQ :sasl")])

        // The offer may also come on the last line only.
        var late = started()
        XCTAssertEqual(feed(&late, ":irc.test CAP * LS * :away-notify"), [])
        XCTAssertEqual(feed(&late, ":irc.test CAP * LS :sasl=plain"), [.send("CAP REQ :sasl")])
    }

    func testExternalOnlyIsNotOffered() {
        var prelude = started()
        XCTAssertEqual(feed(&prelude, ":irc.test CAP * LS :multi-prefix sasl=EXTERNAL"),
                       [.send("CAP END"), .finish(.notOffered)])
        var none = started()
        XCTAssertEqual(feed(&none, ":irc.test CAP * LS :multi-prefix saslish"),
                       [.send("CAP END"), .finish(.notOffered)])
    }

    func testNAKIsNotOffered() {
        var prelude = started()
        XCTAssertEqual(feed(&prelude, ":irc.test CAP * LS :sasl"), [.send("CAP REQ :sasl")])
        XCTAssertEqual(feed(&prelude, ":irc.test CAP * NAK :sasl"), [.send("CAP END"), .finish(.notOffered)])
    }

    func testFailureNumericCarriesTheServersText() {
        var prelude = started()
        _ = authenticate(&prelude)
        XCTAssertEqual(feed(&prelude, ":irc.test 904 * :SASL authentication failed"),
                       [.fail(.saslFailed("SASL authentication failed"))])
        XCTAssertFalse(prelude.isRunning)
        XCTAssertEqual(prelude.timedOut(), [])
        XCTAssertEqual(prelude.connectionClosed(), [])

        var mechs = started()
        _ = feed(&mechs, ":irc.test CAP * LS :sasl")
        _ = feed(&mechs, ":irc.test CAP * ACK :sasl")
        XCTAssertEqual(feed(&mechs, ":irc.test 908 alice EXTERNAL :are available SASL mechanisms"),
                       [.fail(.saslFailed("EXTERNAL are available SASL mechanisms"))])
    }

    func testUnknownCAPCommandEndsWithoutCAPEnd() {
        var prelude = started()
        XCTAssertEqual(feed(&prelude, ":irc.test 421 * CAP :Unknown command"), [.finish(.notOffered)])
    }

    func testPingIsAnsweredAndOtherLinesAreDelivered() {
        var prelude = started()
        let notice = ":irc.test NOTICE * :*** Looking up your hostname"
        XCTAssertEqual(feed(&prelude, notice), [.deliver(Array(notice.utf8))])
        XCTAssertEqual(feed(&prelude, "PING :12345"), [.send("PONG :12345")])
        XCTAssertEqual(feed(&prelude, ":irc.test CAP * LS :sasl"), [.send("CAP REQ :sasl")])
        XCTAssertEqual(feed(&prelude, "PING irc.test"), [.send("PONG :irc.test")])
        XCTAssertEqual(feed(&prelude, ":irc.test CAP * ACK :sasl"), [.send("AUTHENTICATE PLAIN")])
        // Bytes that are not UTF-8 go through untouched.
        let latin1: [UInt8] = Array(":irc.test NOTICE * :caf".utf8) + [0xE9]
        XCTAssertEqual(prelude.receivedLine(latin1), [.deliver(latin1)])
        // cap-notify comes with 302; the prelude has nothing to do with it.
        XCTAssertEqual(feed(&prelude, ":irc.test CAP * NEW :batch"), [])
    }

    func testLongPasswordIsChunkedAt400Bytes() throws {
        // "u\0u\0" + 296 bytes = 300 bytes → exactly 400 base64 characters → a final "+".
        let exact = IRCTLSRelay.SASLCredentials(username: "u", password: String(repeating: "p", count: 296))
        var prelude = started(exact)
        let sent = authenticate(&prelude, ls: ":irc.test CAP * LS :sasl")
        XCTAssertEqual(sent.count, 2)
        XCTAssertEqual(sent[0].utf8.count, "AUTHENTICATE ".utf8.count + 400)
        XCTAssertEqual(sent[1], "AUTHENTICATE +")
        XCTAssertEqual(Self.decode(sent), Array("u\0u\0".utf8) + Array(String(repeating: "p", count: 296).utf8))

        // 1000-byte password: 1004 bytes → 1340 characters → 400, 400, 400, 140; no "+".
        let long = IRCTLSRelay.SASLCredentials(username: "u", password: String(repeating: "x", count: 1000))
        var longPrelude = started(long)
        let chunks = authenticate(&longPrelude, ls: ":irc.test CAP * LS :sasl")
        XCTAssertEqual(chunks.map { $0.utf8.count - "AUTHENTICATE ".utf8.count }, [400, 400, 400, 140])
        XCTAssertEqual(Self.decode(chunks), Array("u\0u\0".utf8) + Array(String(repeating: "x", count: 1000).utf8))
        XCTAssertEqual(feed(&longPrelude, ":irc.test 903 * :ok"), [.send("CAP END"), .finish(.succeeded)])
    }

    func testTimeoutAndClose() {
        var prelude = started()
        XCTAssertEqual(prelude.timedOut(), [.fail(.saslTimedOut)])

        var closed = started()
        XCTAssertEqual(feed(&closed, "ERROR :Closing Link: too many connections"),
                       [.fail(.saslFailed("the server closed the connection: Closing Link: too many connections"))])
        XCTAssertEqual(closed.connectionClosed(), [])

        var dropped = started()
        XCTAssertEqual(dropped.connectionClosed(),
                       [.fail(.saslFailed("the server closed the connection during SASL authentication"))])
    }

    func testUnexpectedChallengeFails() {
        var prelude = started()
        XCTAssertEqual(feed(&prelude, ":irc.test CAP * LS :sasl"), [.send("CAP REQ :sasl")])
        XCTAssertEqual(feed(&prelude, "AUTHENTICATE +"), [.fail(.saslFailed("the server sent an unexpected SASL challenge"))])
    }

    func testCredentialsValidation() {
        for bad in [("", "pw"), ("a\rb", "pw"), ("a", "p\nw"), ("a", "p\0w")] {
            let credentials = IRCTLSRelay.SASLCredentials(username: bad.0, password: bad.1)
            XCTAssertThrowsError(try credentials.validate(), "\(bad)") { error in
                guard case .invalidCredentials = error as? IRCTLSError else { return XCTFail("got \(error)") }
            }
        }
        XCTAssertNoThrow(try IRCTLSRelay.SASLCredentials(username: "jörg", password: "pässwörd ok").validate())
        XCTAssertFalse("\(alice)".contains("s3cret"))
        XCTAssertFalse(String(reflecting: alice).contains("s3cret"))
    }

    // MARK: Framer and base64

    func testFramerHandlesSplitReadsAndBothEndings() throws {
        let stream = Array("PING :a\r\n:s NOTICE * :b\n\r\n:s 001 x :c\r\npartial".utf8)
        // Every way of cutting the stream in two gives the same lines and the same remainder.
        for cut in 0...stream.count {
            var framer = IRCLineFramer(maxLineLength: 64)
            var lines: [String] = []
            for piece in [stream[..<cut], stream[cut...]] {
                framer.append(piece)
                while let line = try framer.nextLine() { lines.append(String(decoding: line, as: UTF8.self)) }
            }
            XCTAssertEqual(lines, ["PING :a", ":s NOTICE * :b", ":s 001 x :c"], "cut at \(cut)")
            XCTAssertEqual(framer.takeRemainder(), Array("partial".utf8))
        }
        // Byte at a time.
        var framer = IRCLineFramer(maxLineLength: 64)
        var lines = 0
        for byte in stream {
            framer.append([byte])
            while try framer.nextLine() != nil { lines += 1 }
        }
        XCTAssertEqual(lines, 3)
    }

    func testFramerRemainderIsRawAndLimitsHold() throws {
        var framer = IRCLineFramer(maxLineLength: 10)
        framer.append(Array("ab\r\ncd\n\nef".utf8))
        XCTAssertEqual(try framer.nextLine(), Array("ab".utf8))
        XCTAssertEqual(framer.takeRemainder(), Array("cd\n\nef".utf8))

        var long = IRCLineFramer(maxLineLength: 10)
        long.append(Array("0123456789\r".utf8))  // 10 bytes and maybe a CR LF to come: fine
        XCTAssertNil(try long.nextLine())
        long.append(Array("\n".utf8))
        XCTAssertEqual(try long.nextLine(), Array("0123456789".utf8))
        long.append(Array("0123456789AB".utf8))
        XCTAssertThrowsError(try long.nextLine())

        var complete = IRCLineFramer(maxLineLength: 10)
        complete.append(Array("0123456789A\n".utf8))
        XCTAssertThrowsError(try complete.nextLine())
    }

    func testBase64() {
        let vectors = ["": "", "f": "Zg==", "fo": "Zm8=", "foo": "Zm9v", "foob": "Zm9vYg==",
                       "fooba": "Zm9vYmE=", "foobar": "Zm9vYmFy"]
        for (plain, encoded) in vectors {
            XCTAssertEqual(Base64.encode(Array(plain.utf8)), encoded, plain)
        }
        let all = (0...255).map { UInt8($0) }
        XCTAssertEqual(Base64.encode(all), Data(all).base64EncodedString())
    }

    private static func decode(_ lines: [String]) -> [UInt8] {
        let joined = lines.map { String($0.dropFirst("AUTHENTICATE ".count)) }.filter { $0 != "+" }.joined()
        return Array(Data(base64Encoded: joined) ?? Data())
    }
}
