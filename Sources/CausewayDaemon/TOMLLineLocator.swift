/// Finds the line on which each key of a TOML document is written, so configuration messages
/// can name it. TOMLKit reports positions only for syntax errors; this reads the text once more.
///
/// It understands table headers, dotted and quoted keys, comments, and skips the insides of
/// multi-line strings and arrays. Paths are keys joined with `.`; a table header's own line is
/// recorded under the table's path.
struct TOMLLineLocator {
    private var lines: [String: Int] = [:]

    init(text: String) {
        var table: [String] = []
        var skipUntil: String?
        var arrayDepth = 0
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            let line = rawLine.trimmed(" \t\r")
            if let terminator = skipUntil {
                if line.contains(terminator) { skipUntil = nil }
                continue
            }
            if arrayDepth > 0 {
                arrayDepth += Self.bracketBalance(Self.withoutComment(line))
                continue
            }
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("[") {
                let isArrayTable = line.hasPrefix("[[")
                let inner = Self.withoutComment(line)
                    .dropFirst(isArrayTable ? 2 : 1)
                    .prefix { $0 != "]" }
                table = Self.keyParts(String(inner))
                lines[table.joined(separator: "."), default: lineNumber] = lineNumber
                continue
            }
            guard let equals = Self.assignmentIndex(in: line) else { continue }
            let key = Self.keyParts(String(line[..<equals]))
            lines[(table + key).joined(separator: "."), default: lineNumber] = lineNumber
            let value = Self.withoutComment(String(line[line.index(after: equals)...])).trimmed(" \t")
            for quote in ["\"\"\"", "'''"] where value.hasPrefix(quote) {
                if !value.dropFirst(3).contains(quote) { skipUntil = quote }
            }
            if value.hasPrefix("[") {
                arrayDepth = Self.bracketBalance(value)
            }
        }
    }

    /// The line of a key path like `xmpp.component_port`, or of the nearest enclosing table.
    func line(of path: [String]) -> Int? {
        var path = path
        while !path.isEmpty {
            if let line = lines[path.joined(separator: ".")] { return line }
            path.removeLast()
        }
        return nil
    }

    /// The `=` that separates key from value, outside quoted keys.
    private static func assignmentIndex(in line: String) -> String.Index? {
        var found: String.Index?
        scanOutsideQuotes(line) { index, character in
            if character == "=" { found = index }
            return found == nil
        }
        return found
    }

    /// Splits `a."b.c".d` into `["a", "b.c", "d"]`.
    private static func keyParts(_ key: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var quote: Character?
        for character in key {
            if let open = quote {
                if character == open { quote = nil } else { current.append(character) }
            } else if character == "\"" || character == "'" {
                quote = character
            } else if character == "." {
                parts.append(current.trimmed(" \t"))
                current = ""
            } else {
                current.append(character)
            }
        }
        parts.append(current.trimmed(" \t"))
        return parts
    }

    private static func withoutComment(_ line: String) -> String {
        var end = line.endIndex
        scanOutsideQuotes(line) { index, character in
            if character == "#" { end = index }
            return end == line.endIndex
        }
        return String(line[..<end])
    }

    private static func bracketBalance(_ text: String) -> Int {
        var balance = 0
        scanOutsideQuotes(text) { _, character in
            if character == "[" { balance += 1 } else if character == "]" { balance -= 1 }
            return true
        }
        return balance
    }

    /// Calls `visit` with each character of `text` outside a quoted string, until it returns false.
    private static func scanOutsideQuotes(_ text: String, _ visit: (String.Index, Character) -> Bool) {
        var quote: Character?
        for index in text.indices {
            let character = text[index]
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "\"" || character == "'" {
                quote = character
            } else if !visit(index, character) {
                return
            }
        }
    }
}

extension StringProtocol {
    /// The string without leading and trailing characters from `set`; no Foundation needed.
    /// Works on Unicode scalars, so "\r\n" in `set` means CR and LF, not the CRLF cluster.
    func trimmed(_ set: String) -> String {
        let scalars = Set(set.unicodeScalars)
        let view = String(self).unicodeScalars
        guard let first = view.firstIndex(where: { !scalars.contains($0) }),
              let last = view.lastIndex(where: { !scalars.contains($0) }) else { return "" }
        return String(view[first...last])
    }
}
