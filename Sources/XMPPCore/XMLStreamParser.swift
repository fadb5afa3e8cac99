import CLibXML2

/// An incremental parser for an XMPP stream, on libxml2's SAX2 push API.
///
/// Feed it bytes as they arrive, in chunks of any size; it yields the same events whatever the
/// chunking, including a UTF-8 character split across chunks. It enforces RFC 6120's restricted
/// XML: a DTD, an entity declaration, a comment or a processing instruction ends the stream with
/// `restricted-xml`, and no entity is ever expanded or fetched (only the five predefined ones and
/// character references are understood). A stanza larger than ``Limits/maxStanzaBytes`` or nested
/// deeper than ``Limits/maxDepth`` ends it with `policy-violation`; broken XML with
/// `not-well-formed`.
///
/// Not thread-safe: one parser belongs to one connection.
public final class XMLStreamParser {
    /// Bounds on what a peer may send.
    public struct Limits: Sendable, Hashable {
        /// The largest stanza accepted, in bytes as received (the stanza's start tag to its end).
        public var maxStanzaBytes: Int
        /// The deepest element nesting accepted inside a stanza (the stanza itself is depth 1).
        public var maxDepth: Int

        public init(maxStanzaBytes: Int = 256 * 1024, maxDepth: Int = 64) {
            self.maxStanzaBytes = maxStanzaBytes
            self.maxDepth = maxDepth
        }
    }

    /// libxml2 is fed slices no larger than this, so a stanza growing past the size limit is
    /// refused after at most this many extra bytes, before libxml2 buffers the rest.
    private static let sliceSize = 16 * 1024

    private let state: ParserState
    private var context: xmlParserCtxtPtr?

    public init(limits: Limits = Limits()) {
        Self.initializeLibXML2
        state = ParserState(limits: limits)
        var handler = Self.makeSAXHandler()
        let userData = Unmanaged.passUnretained(state).toOpaque()
        context = xmlCreatePushParserCtxt(&handler, userData, nil, 0, nil)
        if let context {
            // No network access, and no entity substitution: with no DTD allowed there is nothing
            // to substitute, and we never want libxml2 to try.
            xmlCtxtUseOptions(context, Int32(XML_PARSE_NONET.rawValue))
            state.context = context
        } else {
            state.fail(StreamError(.internalServerError, text: "The XML parser could not be created"))
        }
    }

    deinit {
        if let context {
            xmlFreeParserCtxt(context)
        }
    }

    /// Whether the parser has failed or seen the end of the stream; it takes no more input then.
    public var isFinished: Bool { state.finished }

    /// Parses the next chunk of the stream and returns the events it completed.
    public func feed(_ bytes: UnsafeRawBufferPointer) -> [XMLStreamEvent] {
        guard !state.finished, let context, let base = bytes.baseAddress else { return [] }
        var offset = 0
        while offset < bytes.count && !state.finished {
            if let error = state.checkStanzaSize(bytesFedBeforeSlice: state.bytesFed) {
                state.fail(error)
                break
            }
            let length = min(Self.sliceSize, bytes.count - offset)
            let chunk = (base + offset).assumingMemoryBound(to: CChar.self)
            state.bytesFed += length
            let status = xmlParseChunk(context, chunk, Int32(length), 0)
            offset += length
            if status != 0 && !state.finished {
                state.fail(StreamError(.notWellFormed, text: "The XML is not well-formed"))
            }
        }
        if !state.finished, let error = state.checkStanzaSize(bytesFedBeforeSlice: state.bytesFed) {
            state.fail(error)
        }
        return state.takeEvents()
    }

    /// Parses the next chunk of the stream and returns the events it completed.
    public func feed<Bytes: Sequence>(_ bytes: Bytes) -> [XMLStreamEvent] where Bytes.Element == UInt8 {
        let array = Array(bytes)
        return array.withUnsafeBytes { feed($0) }
    }

    /// Parses the next chunk of the stream and returns the events it completed.
    public func feed(_ string: String) -> [XMLStreamEvent] {
        var string = string
        return string.withUTF8 { feed(UnsafeRawBufferPointer($0)) }
    }

    private static let initializeLibXML2: Void = {
        xmlInitParser()
    }()

    private static func makeSAXHandler() -> xmlSAXHandler {
        var handler = xmlSAXHandler()
        handler.initialized = UInt32(XML_SAX2_MAGIC)
        handler.startElementNs = { userData, localName, prefix, uri, namespaceCount, namespaces, attributeCount, _, attributes in
            ParserState.from(userData).startElement(
                localName: localName, prefix: prefix, uri: uri,
                namespaceCount: Int(namespaceCount), namespaces: namespaces,
                attributeCount: Int(attributeCount), attributes: attributes
            )
        }
        handler.endElementNs = { userData, _, _, _ in
            ParserState.from(userData).endElement()
        }
        handler.characters = { userData, characters, length in
            ParserState.from(userData).appendText(characters, Int(length))
        }
        handler.cdataBlock = { userData, characters, length in
            ParserState.from(userData).appendText(characters, Int(length))
        }
        handler.internalSubset = { userData, _, _, _ in
            ParserState.from(userData).refuse("A DTD is not allowed in an XMPP stream")
        }
        handler.externalSubset = { userData, _, _, _ in
            ParserState.from(userData).refuse("A DTD is not allowed in an XMPP stream")
        }
        handler.entityDecl = { userData, _, _, _, _, _ in
            ParserState.from(userData).refuse("Entity declarations are not allowed in an XMPP stream")
        }
        handler.reference = { userData, _ in
            ParserState.from(userData).refuse("Entity references are not allowed in an XMPP stream")
        }
        handler.comment = { userData, _ in
            ParserState.from(userData).refuse("Comments are not allowed in an XMPP stream")
        }
        handler.processingInstruction = { userData, _, _ in
            ParserState.from(userData).refuse("Processing instructions are not allowed in an XMPP stream")
        }
        handler.serror = { userData, error in
            guard let userData, let error else { return }
            ParserState.from(userData).libxmlError(error.pointee)
        }
        return handler
    }
}

/// The parser's mutable state, reached from libxml2's C callbacks through their user-data pointer.
private final class ParserState {
    let limits: XMLStreamParser.Limits
    var context: xmlParserCtxtPtr?
    @exclusivity(unchecked) var events: [XMLStreamEvent] = []
    @exclusivity(unchecked) var finished = false
    @exclusivity(unchecked) var bytesFed = 0

    /// Open elements below the stream root; the first is the stanza being built.
    @exclusivity(unchecked) private var stack: [XMLElement] = []
    @exclusivity(unchecked) private var streamOpen = false
    @exclusivity(unchecked) private var pendingText: [UInt8] = []
    /// Where the stanza being built started, in bytes from the start of the stream.
    @exclusivity(unchecked) private var stanzaStart = 0

    init(limits: XMLStreamParser.Limits) {
        self.limits = limits
    }

    static func from(_ userData: UnsafeMutableRawPointer?) -> ParserState {
        Unmanaged<ParserState>.fromOpaque(userData!).takeUnretainedValue()
    }

    func takeEvents() -> [XMLStreamEvent] {
        defer { events.removeAll(keepingCapacity: true) }
        return events
    }

    func fail(_ error: StreamError) {
        guard !finished else { return }
        finished = true
        stack.removeAll()
        pendingText.removeAll()
        events.append(.failed(error))
        if let context { xmlStopParser(context) }
    }

    func refuse(_ text: String) {
        fail(StreamError(.restrictedXML, text: text))
    }

    func checkStanzaSize(bytesFedBeforeSlice: Int) -> StreamError? {
        guard !stack.isEmpty, bytesFedBeforeSlice - stanzaStart > limits.maxStanzaBytes else { return nil }
        return StreamError(.policyViolation, text: "A stanza is larger than \(limits.maxStanzaBytes) bytes")
    }

    func libxmlError(_ error: xmlError) {
        // Warnings (an unusual but legal declaration, say) are not the peer's fault.
        guard error.level.rawValue >= XML_ERR_ERROR.rawValue else { return }
        if error.domain == Int32(XML_FROM_NAMESPACE.rawValue) {
            fail(StreamError(.badNamespacePrefix, text: "An XML namespace prefix is not declared"))
        } else {
            fail(StreamError(.notWellFormed, text: "The XML is not well-formed (line \(error.line))"))
        }
    }

    func startElement(
        localName: UnsafePointer<xmlChar>?, prefix: UnsafePointer<xmlChar>?, uri: UnsafePointer<xmlChar>?,
        namespaceCount: Int, namespaces: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?,
        attributeCount: Int, attributes: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?
    ) {
        guard !finished, let localName else { return }
        var element = XMLElement(string(localName), namespace: uri.map(string))

        // Prefixed namespace declarations are kept as attributes so prefixed attributes inside
        // the stanza stay meaningful when it is written out again. The stream's own prefix is not.
        if let namespaces, namespaceCount > 0 {
            for index in 0..<namespaceCount {
                guard let declaredPrefix = namespaces[2 * index], let declaredURI = namespaces[2 * index + 1] else { continue }
                let name = string(declaredPrefix)
                if name != "stream" {
                    element.attributes.append(XMLAttribute("xmlns:" + name, string(declaredURI)))
                }
            }
        }
        if let attributes, attributeCount > 0 {
            element.attributes.reserveCapacity(attributeCount)
            for index in 0..<attributeCount {
                let base = 5 * index
                guard let name = attributes[base], let valueStart = attributes[base + 3], let valueEnd = attributes[base + 4] else { continue }
                var qualifiedName = string(name)
                if let attributePrefix = attributes[base + 1] {
                    qualifiedName = string(attributePrefix) + ":" + qualifiedName
                }
                let value = attributeValue(valueStart, count: valueEnd - valueStart)
                element.attributes.append(XMLAttribute(qualifiedName, value))
            }
        }

        guard streamOpen else {
            guard element.name == "stream", element.namespace == Namespace.streams else {
                fail(StreamError(.invalidNamespace, text: "The stream must open with <stream:stream> in \(Namespace.streams)"))
                return
            }
            streamOpen = true
            events.append(.streamOpened(element))
            return
        }
        if stack.isEmpty {
            stanzaStart = context.map { Int(xmlByteConsumed($0)) } ?? bytesFed
        } else {
            flushText()
        }
        if stack.count >= limits.maxDepth {
            fail(StreamError(.policyViolation, text: "A stanza is nested deeper than \(limits.maxDepth) elements"))
            return
        }
        stack.append(element)
    }

    func endElement() {
        guard !finished else { return }
        guard var element = stack.popLast() else {
            // The stream root itself closed.
            finished = true
            events.append(.streamClosed)
            return
        }
        if !pendingText.isEmpty {
            element.children.append(.text(String(decoding: pendingText, as: UTF8.self)))
            pendingText.removeAll(keepingCapacity: true)
        }
        if stack.isEmpty {
            events.append(.element(element))
        } else {
            stack[stack.count - 1].children.append(.element(element))
        }
    }

    func appendText(_ characters: UnsafePointer<xmlChar>?, _ length: Int) {
        // Text between stanzas is whitespace keepalive: nothing to keep.
        guard !finished, !stack.isEmpty, let characters, length > 0 else { return }
        pendingText.append(contentsOf: UnsafeBufferPointer(start: characters, count: length))
    }

    private func flushText() {
        guard !pendingText.isEmpty else { return }
        stack[stack.count - 1].children.append(.text(String(decoding: pendingText, as: UTF8.self)))
        pendingText.removeAll(keepingCapacity: true)
    }

    private func string(_ pointer: UnsafePointer<xmlChar>) -> String {
        String(cString: pointer)
    }

    /// Without entity substitution libxml2 hands attribute values over with `&` still written as
    /// `&#38;` (every other reference is already resolved); undo just that.
    private func attributeValue(_ start: UnsafePointer<xmlChar>, count: Int) -> String {
        let bytes = UnsafeBufferPointer(start: start, count: count)
        guard bytes.contains(UInt8(ascii: "&")) else {
            return String(decoding: bytes, as: UTF8.self)
        }
        var decoded: [UInt8] = []
        decoded.reserveCapacity(count)
        let reference = Array("&#38;".utf8)
        var index = 0
        while index < count {
            if bytes[index] == UInt8(ascii: "&"), index + reference.count <= count,
               bytes[index..<(index + reference.count)].elementsEqual(reference) {
                decoded.append(UInt8(ascii: "&"))
                index += reference.count
            } else {
                decoded.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: decoded, as: UTF8.self)
    }
}
