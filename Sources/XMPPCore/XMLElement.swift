/// An XML element as XMPP uses it: a local name, a resolved namespace, ordered attributes and
/// mixed children. A value type; stanzas are built and read as these.
///
/// Attribute names are qualified as they appear on the wire (`xml:lang`, `xmlns:foo`); the
/// element's own namespace is kept apart from its attributes and written back by
/// ``XMLSerializer`` only where it differs from the enclosing one.
public struct XMLElement: Sendable, Hashable {
    public var name: String
    public var namespace: String?
    public var attributes: [XMLAttribute]
    public var children: [XMLNode]

    public init(
        _ name: String,
        namespace: String? = nil,
        attributes: [XMLAttribute] = [],
        children: [XMLNode] = []
    ) {
        self.name = name
        self.namespace = namespace
        self.attributes = attributes
        self.children = children
    }

    /// Builds an element from a literal attribute list; `nil` values are left out so optional
    /// attributes can be passed straight through.
    public init(
        _ name: String,
        namespace: String? = nil,
        _ attributes: KeyValuePairs<String, String?>,
        children: [XMLNode] = []
    ) {
        self.init(name, namespace: namespace, children: children)
        self.attributes.reserveCapacity(attributes.count)
        for (key, value) in attributes {
            if let value { self.attributes.append(XMLAttribute(key, value)) }
        }
    }

    /// The value of the attribute with this qualified name, if present.
    public subscript(attribute name: String) -> String? {
        get { attributes.first { $0.name == name }?.value }
        set {
            if let index = attributes.firstIndex(where: { $0.name == name }) {
                if let newValue { attributes[index].value = newValue } else { attributes.remove(at: index) }
            } else if let newValue {
                attributes.append(XMLAttribute(name, newValue))
            }
        }
    }

    /// The element children, in order.
    public var elements: [XMLElement] {
        children.compactMap { if case .element(let element) = $0 { element } else { nil } }
    }

    /// The first child element with this name, and with this namespace when one is given.
    public func child(_ name: String, namespace: String? = nil) -> XMLElement? {
        for case .element(let element) in children
        where element.name == name && (namespace == nil || element.namespace == namespace) {
            return element
        }
        return nil
    }

    /// All child elements with this name (and namespace, when given).
    public func children(_ name: String, namespace: String? = nil) -> [XMLElement] {
        elements.filter { $0.name == name && (namespace == nil || $0.namespace == namespace) }
    }

    /// The first child element in this namespace, whatever its name: the payload of an IQ.
    public func firstChild(in namespace: String) -> XMLElement? {
        elements.first { $0.namespace == namespace }
    }

    /// The concatenated text children (not descendants).
    public var text: String {
        var result = ""
        for case .text(let text) in children { result += text }
        return result
    }

    /// The text of the first child with this name, if that child exists.
    public func childText(_ name: String, namespace: String? = nil) -> String? {
        child(name, namespace: namespace)?.text
    }

    public mutating func append(_ element: XMLElement) {
        children.append(.element(element))
    }

    public mutating func append(text: String) {
        children.append(.text(text))
    }

    /// Returns a copy with one more child element; for building trees in expressions.
    public func appending(_ element: XMLElement) -> XMLElement {
        var copy = self
        copy.append(element)
        return copy
    }

    /// Removes every child element with this name (and namespace, when given).
    public mutating func removeChildren(_ name: String, namespace: String? = nil) {
        children.removeAll {
            if case .element(let element) = $0 {
                return element.name == name && (namespace == nil || element.namespace == namespace)
            }
            return false
        }
    }
}

/// One attribute, by its qualified name as written on the wire.
public struct XMLAttribute: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// A child of an element: another element or a run of text.
public enum XMLNode: Sendable, Hashable {
    case element(XMLElement)
    case text(String)
}

extension XMLElement {
    /// An element holding only text: `<body>hi</body>`.
    public static func text(_ name: String, namespace: String? = nil, _ text: String) -> XMLElement {
        XMLElement(name, namespace: namespace, children: [.text(text)])
    }
}
