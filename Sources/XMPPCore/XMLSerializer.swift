/// Writes elements as XML text for the wire.
///
/// Text and attribute values are escaped; characters XML 1.0 cannot carry at all (C0 controls
/// other than tab, CR and LF, lone surrogates, U+FFFE/U+FFFF) become U+FFFD, because a single one
/// on the component stream would make the server close the link for every user of the bridge.
/// CR is written as `&#13;` so a receiving parser does not fold it into LF.
public enum XMLSerializer {
    /// The element as a string. `enclosingNamespace` is the default namespace in force where the
    /// element is written (for stanzas on a component stream: `jabber:component:accept`); an
    /// `xmlns` is written only where the element's namespace differs from it.
    public static func string(_ element: XMLElement, enclosingNamespace: String? = nil) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(256)
        write(element, enclosingNamespace: enclosingNamespace, to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// Appends the element's UTF-8 to `output` (see ``string(_:enclosingNamespace:)``).
    ///
    /// Bytes, not a `String`: appending to a byte array is a copy, appending to a string also
    /// checks and adjusts the string's form every time, which was a tenth of the gateway's
    /// CPU in an IRC→XMPP burst.
    public static func write(_ element: XMLElement, enclosingNamespace: String?, to output: inout [UInt8]) {
        var namespaceInForce = enclosingNamespace
        let isStreamElement = element.namespace == Namespace.streams
        output.append(UInt8(ascii: "<"))
        appendName(element.name, streamPrefixed: isStreamElement, to: &output)
        if !isStreamElement, let namespace = element.namespace, namespace != enclosingNamespace {
            append(" xmlns='", to: &output)
            appendEscaped(namespace, to: &output, inAttribute: true)
            output.append(UInt8(ascii: "'"))
            namespaceInForce = namespace
        }
        for attribute in element.attributes where attribute.name != "xmlns" {
            output.append(UInt8(ascii: " "))
            output.append(contentsOf: attribute.name.utf8)
            append("='", to: &output)
            appendEscaped(attribute.value, to: &output, inAttribute: true)
            output.append(UInt8(ascii: "'"))
        }
        if element.children.isEmpty {
            append("/>", to: &output)
            return
        }
        output.append(UInt8(ascii: ">"))
        for child in element.children {
            switch child {
            case .element(let child):
                write(child, enclosingNamespace: namespaceInForce, to: &output)
            case .text(let text):
                appendEscaped(text, to: &output, inAttribute: false)
            }
        }
        append("</", to: &output)
        appendName(element.name, streamPrefixed: isStreamElement, to: &output)
        output.append(UInt8(ascii: ">"))
    }

    /// Text escaped for an attribute value (`inAttribute`) or for element content.
    public static func escape(_ text: String, inAttribute: Bool = false) -> String {
        var output: [UInt8] = []
        appendEscaped(text, to: &output, inAttribute: inAttribute)
        return String(decoding: output, as: UTF8.self)
    }

    private static func appendName(_ name: String, streamPrefixed: Bool, to output: inout [UInt8]) {
        if streamPrefixed { append("stream:", to: &output) }
        output.append(contentsOf: name.utf8)
    }

    private static func append(_ text: StaticString, to output: inout [UInt8]) {
        output.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    static func appendEscaped(_ text: String, to output: inout [UInt8], inAttribute: Bool) {
        // Fast path: most text needs no escaping at all.
        if !text.utf8.contains(where: needsAttention) {
            output.append(contentsOf: text.utf8)
            return
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": append("&amp;", to: &output)
            case "<": append("&lt;", to: &output)
            case ">": append("&gt;", to: &output)
            case "'" where inAttribute: append("&apos;", to: &output)
            case "\"" where inAttribute: append("&quot;", to: &output)
            case "\r": append("&#13;", to: &output)
            case "\n" where inAttribute: append("&#10;", to: &output)
            case "\t" where inAttribute: append("&#9;", to: &output)
            default:
                // Tab and LF in content, and everything else XML allows, as they are.
                output.append(contentsOf: UTF8.encode(isAllowedInXML(scalar) ? scalar : "\u{FFFD}")!)
            }
        }
    }

    private static func needsAttention(_ byte: UInt8) -> Bool {
        // Bytes below 0x20 (controls, including CR), markup characters, and 0xEF, which starts
        // U+FFFE/U+FFFF in UTF-8, send the text down the careful path.
        byte < 0x20 || byte == UInt8(ascii: "&") || byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">")
            || byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"") || byte == 0xEF
    }

    /// Whether XML 1.0 allows this character in a document (the `Char` production).
    public static func isAllowedInXML(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x9, 0xA, 0xD: true
        case 0x20...0xD7FF: true
        case 0xE000...0xFFFD: true
        case 0x10000...0x10FFFF: true
        default: false
        }
    }
}

extension XMLElement: CustomStringConvertible {
    /// The element as XML, with its namespace declared.
    public var description: String { XMLSerializer.string(self) }
}
