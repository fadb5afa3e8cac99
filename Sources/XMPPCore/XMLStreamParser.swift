internal import CLibXML2

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

    // libxml2's context lives in the state, not here: no stored property of this public class
    // may have a libxml2 type, or every client module would have to load libxml2's headers (and
    // with them ICU's, which clash with Foundation's).
    private let state: ParserState

    public init(limits: Limits = Limits()) {
        Self.initializeLibXML2
        state = ParserState(limits: limits)
        var handler = Self.makeSAXHandler()
        let userData = Unmanaged.passUnretained(state).toOpaque()
        let context = xmlCreatePushParserCtxt(&handler, userData, nil, 0, nil)
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
        if let context = state.context {
            xmlFreeParserCtxt(context)
        }
    }

    /// Whether the parser has failed or seen the end of the stream; it takes no more input then.
    public var isFinished: Bool { state.finished }

    /// Parses the next chunk of the stream and returns the events it completed.
    public func feed(_ bytes: UnsafeRawBufferPointer) -> [XMLStreamEvent] {
        guard !state.finished, let context = state.context, let base = bytes.baseAddress else { return [] }
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
            ParserState.with(userData) {
                $0.startElement(
                    localName: localName, prefix: prefix, uri: uri,
                    namespaceCount: Int(namespaceCount), namespaces: namespaces,
                    attributeCount: Int(attributeCount), attributes: attributes
                )
            }
        }
        handler.endElementNs = { userData, _, _, _ in
            ParserState.with(userData) { $0.endElement() }
        }
        handler.characters = { userData, characters, length in
            ParserState.with(userData) { $0.appendText(characters, Int(length)) }
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
///
/// Its properties are marked `@exclusivity(unchecked)`: the callbacks run on the one thread that
/// feeds the parser and never overlap, so Swift's run-time exclusivity checks on class properties
/// only cost time here (several per element; dropping them saved a tenth of the instructions).
private final class ParserState {
    let limits: XMLStreamParser.Limits
    var context: xmlParserCtxtPtr?
    @exclusivity(unchecked) var events: [XMLStreamEvent] = []
    @exclusivity(unchecked) var finished = false
    @exclusivity(unchecked) var bytesFed = 0

    /// Open elements below the stream root; the first is the stanza being built. Until its end
    /// tag an element's children are not in the element but in `children`, from its entry in
    /// `firstChildren` up to the next open element's.
    @exclusivity(unchecked) private var stack: [XMLElement] = []
    @exclusivity(unchecked) private var firstChildren: [Int] = []
    /// The children of all open elements, innermost last: each element's end moves its own
    /// into one array of the exact size, instead of growing an array a child at a time. Managed
    /// by hand so that moving children out leaves nothing behind to destroy.
    @exclusivity(unchecked) private var children: UnsafeMutablePointer<XMLNode>
    @exclusivity(unchecked) private var childCapacity = 16
    @exclusivity(unchecked) private var childCount = 0
    @exclusivity(unchecked) private var streamOpen = false
    @exclusivity(unchecked) private var pendingText: [UInt8] = []
    /// Where the stanza being built started, in bytes from the start of the stream.
    @exclusivity(unchecked) private var stanzaStart = 0
    /// Names and namespace URIs already converted, by their address in libxml2's dictionary.
    @exclusivity(unchecked) private var names = InternedNames()

    init(limits: XMLStreamParser.Limits) {
        self.limits = limits
        children = .allocate(capacity: childCapacity)
    }

    deinit {
        children.deinitialize(count: childCount)
        children.deallocate()
    }

    static func from(_ userData: UnsafeMutableRawPointer?) -> ParserState {
        Unmanaged<ParserState>.fromOpaque(userData!).takeUnretainedValue()
    }

    /// Calls `body` with the state, for the callbacks run for every element and text: the
    /// parser keeps the state alive while libxml2 runs, so there is no need to retain and
    /// release it around each call as `from(_:)` does.
    static func with(_ userData: UnsafeMutableRawPointer?, _ body: (ParserState) -> Void) {
        Unmanaged<ParserState>.fromOpaque(userData!)._withUnsafeGuaranteedRef(body)
    }

    func takeEvents() -> [XMLStreamEvent] {
        // Handing the buffer over costs nothing; keeping its capacity would allocate anew.
        defer { events = [] }
        return events
    }

    func fail(_ error: StreamError) {
        guard !finished else { return }
        finished = true
        stack.removeAll()
        firstChildren.removeAll()
        children.deinitialize(count: childCount)
        childCount = 0
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
        var element = XMLElement(name(localName), namespace: uri.map { name($0) })
        let declarationCount = namespaces == nil ? 0 : namespaceCount
        let attributeCount = attributes == nil ? 0 : attributeCount
        if declarationCount + attributeCount > 0 {
            element.attributes.reserveCapacity(declarationCount + attributeCount)
        }

        // Prefixed namespace declarations are kept as attributes so prefixed attributes inside
        // the stanza stay meaningful when it is written out again. The stream's own prefix is not.
        if let namespaces, declarationCount > 0 {
            for index in 0..<declarationCount {
                guard let declaredPrefix = namespaces[2 * index], let declaredURI = namespaces[2 * index + 1] else { continue }
                let name = string(declaredPrefix)
                if name != "stream" {
                    element.attributes.append(XMLAttribute("xmlns:" + name, self.name(declaredURI)))
                }
            }
        }
        if let attributes, attributeCount > 0 {
            for index in 0..<attributeCount {
                let base = 5 * index
                guard let name = attributes[base], let valueStart = attributes[base + 3], let valueEnd = attributes[base + 4] else { continue }
                let qualifiedName = self.name(name, prefix: attributes[base + 1])
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
        stack.append(consume element)
        firstChildren.append(childCount)
    }

    func endElement() {
        guard !finished else { return }
        guard !stack.isEmpty else {
            // The stream root itself closed.
            finished = true
            events.append(.streamClosed)
            return
        }
        let firstChild = firstChildren.removeLast()
        flushText()
        let ownChildren = childCount > firstChild ? takeChildren(from: firstChild) : []
        close(stack.removeLast(), children: ownChildren)
    }

    /// Completes the element just ended with its children and hands it on: to the events if it
    /// is a stanza, to its parent if not. Taking the element by value (`consuming`) lets it move
    /// into place instead of being copied, which would retain and release each of its parts.
    private func close(_ element: consuming XMLElement, children ownChildren: consuming [XMLNode]) {
        element.children = consume ownChildren
        if stack.isEmpty {
            events.append(.element(consume element))
        } else {
            appendChild(.element(consume element))
        }
    }

    func appendText(_ characters: UnsafePointer<xmlChar>?, _ length: Int) {
        // Text between stanzas is whitespace keepalive: nothing to keep.
        guard !finished, !stack.isEmpty, let characters, length > 0 else { return }
        pendingText.append(contentsOf: UnsafeBufferPointer(start: characters, count: length))
    }

    /// Ends the run of text in the innermost open element, making it that element's next child.
    private func flushText() {
        guard !pendingText.isEmpty else { return }
        appendChild(.text(String(decoding: pendingText, as: UTF8.self)))
        pendingText.removeAll(keepingCapacity: true)
    }

    /// Adds a child to the innermost open element.
    private func appendChild(_ node: consuming XMLNode) {
        if childCount == childCapacity {
            let grown = UnsafeMutablePointer<XMLNode>.allocate(capacity: 2 * childCapacity)
            grown.moveInitialize(from: children, count: childCount)
            children.deallocate()
            children = grown
            childCapacity *= 2
        }
        (children + childCount).initialize(to: consume node)
        childCount += 1
    }

    /// Moves the children from `start` on out into an array of their own, without copying (and
    /// so retaining and releasing) each one.
    private func takeChildren(from start: Int) -> [XMLNode] {
        var taken: [XMLNode] = []
        taken.reserveCapacity(childCount - start)
        for index in start..<childCount {
            taken.append((children + index).move())
        }
        childCount = start
        return taken
    }

    private func string(_ pointer: UnsafePointer<xmlChar>) -> String {
        String(cString: pointer)
    }

    /// A name or namespace URI libxml2 handed over, with its prefix if it has one
    /// (`prefix:name`). libxml2 interns names, prefixes and namespace URIs in the parser's
    /// dictionary, so each distinct one is converted to a `String` once and then found again by
    /// its address.
    private func name(_ pointer: UnsafePointer<xmlChar>, prefix: UnsafePointer<xmlChar>? = nil) -> String {
        if let cached = names.lookup(pointer, prefix: prefix) { return cached }
        let converted = prefix.map { string($0) + ":" + string(pointer) } ?? string(pointer)
        // Only addresses the dictionary owns are known to keep their text for the life of the
        // parser; a name from anywhere else is converted afresh every time.
        if let dictionary = context?.pointee.dict, xmlDictOwns(dictionary, pointer) == 1,
           prefix.map({ xmlDictOwns(dictionary, $0) == 1 }) ?? true {
            names.insert(pointer, prefix: prefix, converted)
        }
        return converted
    }

    /// Without entity substitution libxml2 hands attribute values over with `&` still written as
    /// `&#38;` (every other reference is already resolved); undo just that.
    private func attributeValue(_ start: UnsafePointer<xmlChar>, count: Int) -> String {
        let bytes = UnsafeBufferPointer(start: start, count: count)
        guard Self.contains(UInt8(ascii: "&"), in: bytes) else {
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

    /// Whether `byte` occurs in `bytes`, looking at eight bytes at a time: most attribute values
    /// have no `&` to undo, and this is the only pass over them before the `String` is made.
    private static func contains(_ byte: UInt8, in bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        let ones: UInt64 = 0x0101_0101_0101_0101
        let pattern = UInt64(byte) &* ones
        var offset = 0
        while offset + 8 <= bytes.count {
            // A word holds the byte exactly when `word ^ pattern` holds a zero byte.
            let word = UnsafeRawPointer(base).loadUnaligned(fromByteOffset: offset, as: UInt64.self) ^ pattern
            if (word &- ones) & ~word & (ones &<< 7) != 0 { return true }
            offset += 8
        }
        while offset < bytes.count {
            if base[offset] == byte { return true }
            offset += 1
        }
        return false
    }
}

/// A small open-addressing table from the addresses of strings interned in libxml2's
/// dictionary (a name, and its prefix if any) to the same text as a Swift `String`. It stops
/// taking entries when half full, so a peer inventing endless names costs one conversion per
/// name, as it would without the table, and no more memory.
private struct InternedNames {
    private struct Entry {
        var name: UnsafeRawPointer?
        var prefix: UnsafeRawPointer?
        var value = ""
    }

    private static let capacity = 512
    private var entries = [Entry](repeating: Entry(), count: capacity)
    private var count = 0

    private static func slot(_ name: UnsafeRawPointer, _ prefix: UnsafeRawPointer?) -> Int {
        // Multiplicative hashing: the top bits of the product depend on all the address bits.
        let bits = UInt(bitPattern: name) ^ (UInt(bitPattern: prefix) &<< 17)
        return Int(truncatingIfNeeded: (bits &* 0x9E37_79B9_7F4A_7C15) >> 55) & (capacity - 1)
    }

    func lookup(_ name: UnsafePointer<xmlChar>, prefix: UnsafePointer<xmlChar>?) -> String? {
        let name = UnsafeRawPointer(name), prefix = prefix.map(UnsafeRawPointer.init)
        var index = Self.slot(name, prefix)
        while let candidate = entries[index].name {
            if candidate == name, entries[index].prefix == prefix { return entries[index].value }
            index = (index + 1) & (Self.capacity - 1)
        }
        return nil
    }

    mutating func insert(_ name: UnsafePointer<xmlChar>, prefix: UnsafePointer<xmlChar>?, _ value: String) {
        guard count < Self.capacity / 2 else { return }
        let name = UnsafeRawPointer(name), prefix = prefix.map(UnsafeRawPointer.init)
        var index = Self.slot(name, prefix)
        while let candidate = entries[index].name {
            if candidate == name, entries[index].prefix == prefix { return }
            index = (index + 1) & (Self.capacity - 1)
        }
        entries[index] = Entry(name: name, prefix: prefix, value: value)
        count += 1
    }
}
