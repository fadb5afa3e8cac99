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
        var output = ""
        output.reserveCapacity(256)
        write(element, enclosingNamespace: enclosingNamespace, to: &output)
        return output
    }

    public static func write(_ element: XMLElement, enclosingNamespace: String?, to output: inout String) {
        let qualifiedName: String
        var namespaceInForce = enclosingNamespace
        if element.namespace == Namespace.streams {
            qualifiedName = "stream:" + element.name
        } else {
            qualifiedName = element.name
        }
        output += "<"
        output += qualifiedName
        if element.namespace != Namespace.streams, let namespace = element.namespace, namespace != enclosingNamespace {
            output += " xmlns='"
            appendEscaped(namespace, to: &output, inAttribute: true)
            output += "'"
            namespaceInForce = namespace
        }
        for attribute in element.attributes where attribute.name != "xmlns" {
            output += " "
            output += attribute.name
            output += "='"
            appendEscaped(attribute.value, to: &output, inAttribute: true)
            output += "'"
        }
        if element.children.isEmpty {
            output += "/>"
            return
        }
        output += ">"
        for child in element.children {
            switch child {
            case .element(let child):
                write(child, enclosingNamespace: namespaceInForce, to: &output)
            case .text(let text):
                appendEscaped(text, to: &output, inAttribute: false)
            }
        }
        output += "</"
        output += qualifiedName
        output += ">"
    }

    /// The escaped form of `text`, for use inside an element or a single-quoted attribute.
    public static func escape(_ text: String, inAttribute: Bool = false) -> String {
        var output = ""
        appendEscaped(text, to: &output, inAttribute: inAttribute)
        return output
    }

    static func appendEscaped(_ text: String, to output: inout String, inAttribute: Bool) {
        // Fast path: most text needs no escaping at all.
        if !text.utf8.contains(where: needsAttention) {
            output += text
            return
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": output += "&amp;"
            case "<": output += "&lt;"
            case ">": output += "&gt;"
            case "'" where inAttribute: output += "&apos;"
            case "\"" where inAttribute: output += "&quot;"
            case "\r": output += "&#13;"
            case "\n" where inAttribute: output += "&#10;"
            case "\t" where inAttribute: output += "&#9;"
            case "\t", "\n": output.unicodeScalars.append(scalar)
            default:
                if isAllowedInXML(scalar) {
                    output.unicodeScalars.append(scalar)
                } else {
                    output += "\u{FFFD}"
                }
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
