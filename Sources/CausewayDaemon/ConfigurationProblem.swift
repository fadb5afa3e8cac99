/// One thing wrong in a configuration file, with where it is and what to do.
public struct ConfigurationProblem: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var message: String

    public init(file: String, line: Int?, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    /// `FILE:LINE: message`, the form editors and terminals link to.
    public var description: String {
        "\(file):\(line.map(String.init) ?? "1"): \(message)"
    }
}

/// Every problem found while loading the configuration; loading stops only after all files are
/// read, so an admin sees everything to fix at once.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var problems: [ConfigurationProblem]

    public init(problems: [ConfigurationProblem]) {
        self.problems = problems
    }

    public var description: String {
        problems.map(\.description).joined(separator: "\n")
    }
}
