extension XMLElement {
    /// Parses one serialized element, as written by ``XMLSerializer`` for a component stream
    /// (default namespace `enclosingNamespace`). Nil if it is not exactly one well-formed element.
    public static func parse(_ text: String, enclosingNamespace: String = Namespace.component) -> XMLElement? {
        let parser = XMLStreamParser(limits: .init(maxStanzaBytes: max(text.utf8.count + 1024, 256 * 1024), maxDepth: 256))
        let header = "<stream:stream xmlns='\(XMLSerializer.escape(enclosingNamespace, inAttribute: true))' xmlns:stream='\(Namespace.streams)'>"
        let events = parser.feed(header + text)
        guard events.count == 2, case .element(let element) = events[1] else { return nil }
        return element
    }
}
