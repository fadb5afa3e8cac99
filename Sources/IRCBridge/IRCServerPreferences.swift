import GatewayCore

/// What a user set for one IRC server with the `configure` command on the server's JID.
///
/// Every value ends up on an IRC line or decides where the gateway connects, so everything is
/// checked when submitted: ports are numbers, a nick is a nick, passwords hold no line breaks,
/// and each command to send after connecting is one line whose first word is a command.
struct IRCServerPreferences: Equatable {
    var ports: [UInt16]?
    var tls: Bool?
    var verifyCertificates: Bool?
    var nick: String?
    var password: String?
    var saslUsername: String?
    var saslPassword: String?
    var nickServPassword: String?
    var afterConnect: [String] = []

    static let defaultChoice = "server default"

    /// The `configure` form's fields.
    static let fields: [RegistrationField] = [
        RegistrationField("ports", label: "Ports", description: "Tried in order, separated by spaces, e.g. 6697 6667", isRequired: false),
        RegistrationField("tls", label: "TLS", description: "Encrypt the connection", kind: .choice([defaultChoice, "on", "off"]), isRequired: false),
        RegistrationField("verify_certificates", label: "Verify certificates", kind: .choice(["on", "off"]), isRequired: false),
        RegistrationField("nick", label: "Nick on this server", description: "Instead of your registered nick", isRequired: false),
        RegistrationField("password", label: "Server password (PASS)", kind: .secret, isRequired: false),
        RegistrationField("sasl_username", label: "SASL account", description: "Defaults to your nick", isRequired: false),
        RegistrationField("sasl_password", label: "SASL password (PLAIN)", description: "Used where the server offers SASL", kind: .secret, isRequired: false),
        RegistrationField("nickserv_password", label: "NickServ password", description: "Sent as IDENTIFY to NickServ after connecting", kind: .secret, isRequired: false),
        RegistrationField("after_connect", label: "Commands after connecting", description: "One IRC command per line, e.g. MODE mynick +x", kind: .lines, isRequired: false),
    ]

    init() {}

    /// Reads stored settings (already validated when they were saved).
    init(_ record: RegistrationRecord?) {
        guard let record else { return }
        ports = record.fields["ports"].map { $0.split(separator: " ").compactMap { UInt16($0) } }
        tls = Self.onOff(record.fields["tls"])
        verifyCertificates = Self.onOff(record.fields["verify_certificates"])
        nick = record.fields["nick"]
        saslUsername = record.fields["sasl_username"]
        afterConnect = record.fields["after_connect"].map { $0.split(separator: "\n").map(String.init) } ?? []
        password = record.secrets["password"]
        saslPassword = record.secrets["sasl_password"]
        nickServPassword = record.secrets["nickserv_password"]
    }

    private static func onOff(_ value: String?) -> Bool? {
        switch value {
        case "on": true
        case "off": false
        default: nil
        }
    }

    /// Checks submitted values and returns what to store.
    static func validate(_ values: [String: String], maxNickLength: Int, allowUnverifiedTLS: Bool) throws(RegistrationError) -> RegistrationRecord {
        var fields: [String: String] = [:]
        var secrets: [String: String] = [:]
        if let ports = values["ports"] {
            let words = ports.split(whereSeparator: { $0 == " " || $0 == "," })
            let numbers = words.compactMap { UInt16($0) }.filter { $0 > 0 }
            guard numbers.count == words.count, (1...5).contains(numbers.count) else {
                throw RegistrationError(field: "ports", "Ports must be one to five numbers from 1 to 65535, e.g. 6697 6667")
            }
            fields["ports"] = numbers.map(String.init).joined(separator: " ")
        }
        if let tls = values["tls"], tls != defaultChoice {
            guard tls == "on" || tls == "off" else { throw RegistrationError(field: "tls", "TLS is on, off or \(defaultChoice)") }
            fields["tls"] = tls
        }
        if let verify = values["verify_certificates"] {
            guard verify == "on" || verify == "off" else { throw RegistrationError(field: "verify_certificates", "Verification is on or off") }
            if verify == "off" && !allowUnverifiedTLS {
                throw RegistrationError(field: "verify_certificates", "This gateway's admin requires verified certificates", condition: .notAllowed)
            }
            fields["verify_certificates"] = verify
        }
        if let nick = values["nick"] {
            do throws(IRCAddressError) {
                try IRCAddress.validateNick(nick, maxLength: maxNickLength)
            } catch {
                throw RegistrationError(field: "nick", error.text)
            }
            fields["nick"] = nick
        }
        if let account = values["sasl_username"] {
            guard !account.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }) else {
                throw RegistrationError(field: "sasl_username", "The SASL account cannot contain spaces or control characters")
            }
            fields["sasl_username"] = account
        }
        for (name, label, allowsSpace) in [("password", "The server password", false), ("sasl_password", "The SASL password", true), ("nickserv_password", "The NickServ password", false)] {
            guard let secret = values[name] else { continue }
            guard !secret.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || (!allowsSpace && $0 == " ") }) else {
                throw RegistrationError(field: name, "\(label) cannot contain \(allowsSpace ? "" : "spaces or ")control characters")
            }
            secrets[name] = secret
        }
        if let commands = values["after_connect"] {
            var lines: [String] = []
            for text in commands.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) where !String(text).trimmingASCIISpaces().isEmpty {
                do throws(IRCLineError) {
                    lines.append(try IRCLineSplitter.rawCommand(String(text)))
                } catch {
                    throw RegistrationError(field: "after_connect", "“\(IRCAddressError.printable(String(text)))”: \(error)")
                }
            }
            guard lines.count <= 20 else { throw RegistrationError(field: "after_connect", "At most 20 commands") }
            if !lines.isEmpty { fields["after_connect"] = lines.joined(separator: "\n") }
        }
        return RegistrationRecord(legacyID: nil, fields: fields, secrets: secrets)
    }
}
