// The stream parser's throughput, for scripts/bench-parser: feeds a whole XMPP stream file to a
// fresh XMLStreamParser per round, in fixed-size chunks, and prints one machine-readable line.
//
// Usage: ParserBenchmark FILE [ROUNDS=5] [CHUNK=16384]
// Prints: causeway-parser bytes=N seconds=S rounds=R chunk=C stanzas=N
// (bytes is the file size; seconds the total over the timed rounds, after one untimed warm-up;
// stanzas the `.element` events of one round.)

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import XMPPCore

/// Writes to standard error (the C `stderr` global is off limits under Swift 6's strict concurrency).
func printError(_ message: String) {
    var line = message + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

func fail(_ message: String) -> Never {
    printError("ParserBenchmark: \(message)")
    exit(1)
}

func readFile(_ path: String) -> [UInt8] {
    guard let file = fopen(path, "rb") else { fail("cannot open \(path)") }
    defer { fclose(file) }
    guard fseek(file, 0, SEEK_END) == 0 else { fail("cannot seek \(path)") }
    let length = ftell(file)
    guard length >= 0 else { fail("cannot size \(path)") }
    rewind(file)
    var bytes = [UInt8](repeating: 0, count: length)
    let read = bytes.withUnsafeMutableBytes { fread($0.baseAddress, 1, length, file) }
    guard read == length else { fail("short read on \(path)") }
    return bytes
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// One full pass; returns the number of stanzas (`.element` events).
func parseOnce(_ data: UnsafeRawBufferPointer, chunk: Int) -> Int {
    let parser = XMLStreamParser(limits: .init(maxStanzaBytes: 1 << 20, maxDepth: 64))
    var stanzas = 0
    var opened = false
    var closed = false
    var offset = 0
    while offset < data.count {
        let length = min(chunk, data.count - offset)
        for event in parser.feed(UnsafeRawBufferPointer(rebasing: data[offset..<(offset + length)])) {
            switch event {
            case .streamOpened: opened = true
            case .element: stanzas += 1
            case .streamClosed: closed = true
            case .failed(let error): fail("the parser failed at byte \(offset): \(error)")
            }
        }
        offset += length
    }
    guard opened, closed else { fail("the stream was not opened and closed (opened: \(opened), closed: \(closed))") }
    return stanzas
}

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    printError("usage: ParserBenchmark FILE [ROUNDS] [CHUNK]")
    exit(2)
}
let rounds = arguments.count > 2 ? Int(arguments[2]) ?? 0 : 5
let chunk = arguments.count > 3 ? Int(arguments[3]) ?? 0 : 16384
guard rounds >= 1, chunk >= 1 else { fail("bad ROUNDS or CHUNK") }

let data = readFile(arguments[1])
data.withUnsafeBytes { buffer in
    let stanzas = parseOnce(buffer, chunk: chunk)  // warm-up, untimed
    let start = now()
    for _ in 0..<rounds {
        let counted = parseOnce(buffer, chunk: chunk)
        if counted != stanzas { fail("round counted \(counted) stanzas, warm-up \(stanzas)") }
    }
    let seconds = now() - start
    print("causeway-parser bytes=\(buffer.count) seconds=\(format(seconds)) rounds=\(rounds) chunk=\(chunk) stanzas=\(stanzas)")
}

/// Seconds with six decimals, without Foundation.
func format(_ seconds: Double) -> String {
    let micros = Int((seconds * 1e6).rounded())
    let fraction = String(micros % 1_000_000)
    return "\(micros / 1_000_000)." + String(repeating: "0", count: 6 - fraction.count) + fraction
}
