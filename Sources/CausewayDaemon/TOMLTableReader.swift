import TOMLKit

/// Reads values out of one TOML table against what the configuration expects, recording a
/// ``ConfigurationProblem`` with file and line for each missing key, wrong type, bad value and
/// unknown key, instead of stopping at the first.
final class TOMLTableReader {
    let file: String
    private let table: TOMLTable
    private let path: [String]
    private let locator: TOMLLineLocator
    private let report: (ConfigurationProblem) -> Void
    private var knownKeys: [String] = []

    init(file: String, table: TOMLTable, path: [String], locator: TOMLLineLocator, report: @escaping (ConfigurationProblem) -> Void) {
        self.file = file
        self.table = table
        self.path = path
        self.locator = locator
        self.report = report
    }

    var tableName: String { path.isEmpty ? "the top level" : "[\(path.joined(separator: "."))]" }

    func problem(_ key: String?, _ message: String) {
        report(ConfigurationProblem(file: file, line: locator.line(of: path + (key.map { [$0] } ?? [])), message: message))
    }

    /// A string value; `nil` when absent (reported if required) or of the wrong type (reported).
    func string(_ key: String, required: Bool = false, what: String) -> String? {
        guard let value = value(key, required: required, what: what) else { return nil }
        guard let string = value.string else {
            problem(key, "'\(key)' must be a string (\(what)), not \(describe(value.type))")
            return nil
        }
        return string
    }

    /// A boolean.
    func bool(_ key: String, what: String) -> Bool? {
        guard let value = value(key, required: false, what: what) else { return nil }
        guard let bool = value.bool else {
            problem(key, "'\(key)' must be true or false (\(what)), not \(describe(value.type))")
            return nil
        }
        return bool
    }

    /// An array of strings.
    func stringArray(_ key: String, what: String) -> [String]? {
        guard let value = value(key, required: false, what: what) else { return nil }
        guard let array = value.array else {
            problem(key, "'\(key)' must be an array of strings (\(what)), not \(describe(value.type))")
            return nil
        }
        var strings: [String] = []
        for element in array {
            guard let string = element.string else {
                problem(key, "'\(key)' must hold only strings (\(what))")
                return nil
            }
            strings.append(string)
        }
        return strings
    }

    /// An integer within `range`.
    func int(_ key: String, in range: ClosedRange<Int>, required: Bool = false, what: String) -> Int? {
        guard let value = value(key, required: required, what: what) else { return nil }
        guard let int = value.int else {
            problem(key, "'\(key)' must be an integer (\(what)), not \(describe(value.type))")
            return nil
        }
        guard range.contains(int) else {
            problem(key, "'\(key)' must be between \(range.lowerBound) and \(range.upperBound) (\(what)), not \(int)")
            return nil
        }
        return int
    }

    /// A number of seconds, integer or fractional, within `range`.
    func seconds(_ key: String, in range: ClosedRange<Double>, what: String) -> Duration? {
        guard let value = value(key, required: false, what: what) else { return nil }
        let seconds: Double
        if let int = value.int {
            seconds = Double(int)
        } else if let double = value.double {
            seconds = double
        } else {
            problem(key, "'\(key)' must be a number of seconds (\(what)), not \(describe(value.type))")
            return nil
        }
        guard range.contains(seconds) else {
            problem(key, "'\(key)' must be between \(range.lowerBound) and \(range.upperBound) seconds (\(what)), not \(seconds)")
            return nil
        }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    /// One of a fixed set of strings.
    func choice(_ key: String, from choices: [String], what: String) -> String? {
        guard let string = string(key, what: what) else { return nil }
        guard choices.contains(string) else {
            problem(key, "'\(key)' must be one of \(choices.map { "\"\($0)\"" }.joined(separator: ", ")) (\(what)), not \"\(string)\"")
            return nil
        }
        return string
    }

    /// A sub-table, read with its own reader; absent tables read as empty.
    func table(_ key: String, what: String, read: (TOMLTableReader) -> Void) {
        knownKeys.append(key)
        let subtable: TOMLTable
        if let value = table[key] {
            guard let table = value.table else {
                problem(key, "'\(key)' must be a table (\(what)), not \(describe(value.type))")
                return
            }
            subtable = table
        } else {
            subtable = TOMLTable()
        }
        let reader = TOMLTableReader(file: file, table: subtable, path: path + [key], locator: locator, report: report)
        read(reader)
        reader.finish()
    }

    /// Every key of this table as a sub-table of its own (`[irc.servers.NAME]`), in order.
    func eachTable(what: String, read: (String, TOMLTableReader) -> Void) {
        for key in table.keys.sorted() {
            knownKeys.append(key)
            guard let subtable = table[key]?.table else {
                problem(key, "'\(key)' must be a table (\(what))")
                continue
            }
            let reader = TOMLTableReader(file: file, table: subtable, path: path + [key], locator: locator, report: report)
            read(key, reader)
            reader.finish()
        }
    }

    /// An array of integers, each within `range`.
    func intArray(_ key: String, in range: ClosedRange<Int>, what: String) -> [Int]? {
        guard let value = value(key, required: false, what: what) else { return nil }
        guard let array = value.array, !array.isEmpty else {
            problem(key, "'\(key)' must be a non-empty array of integers (\(what))")
            return nil
        }
        var ints: [Int] = []
        for element in array {
            guard let int = element.int, range.contains(int) else {
                problem(key, "'\(key)' must hold integers between \(range.lowerBound) and \(range.upperBound) (\(what))")
                return nil
            }
            ints.append(int)
        }
        return ints
    }

    /// Reports every key nobody asked for: a typo must not be silently ignored.
    func finish() {
        for key in table.keys where !knownKeys.contains(key) {
            let suggestion = knownKeys.min { editDistance($0, key) < editDistance($1, key) }
                .flatMap { editDistance($0, key) <= 2 ? " (did you mean '\($0)'?)" : nil } ?? ""
            problem(key, "unknown key '\(key)' in \(tableName)\(suggestion); known keys: \(knownKeys.joined(separator: ", "))")
        }
    }

    private func value(_ key: String, required: Bool, what: String) -> TOMLValueConvertible? {
        knownKeys.append(key)
        guard let value = table[key] else {
            if required { problem(nil, "missing '\(key)' in \(tableName): \(what)") }
            return nil
        }
        return value
    }

    private func describe(_ type: TOMLType) -> String {
        switch type {
        case .int: "an integer"
        case .array: "an array"
        default: "a \(type)"
        }
    }
}

/// Levenshtein distance, for "did you mean" hints on misspelt keys.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    guard !a.isEmpty else { return b.count }
    guard !b.isEmpty else { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}
