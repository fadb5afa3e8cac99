/// How the carrier cuts a text into SMS segments, so the bridge can tell a user before sending
/// that a text is too long instead of having it refused or, worse, silently truncated.
///
/// The rules (3GPP TS 23.038 and 23.040, as carriers apply them):
/// - If every character is in the GSM 03.38 default alphabet or its extension table, the text is
///   sent as GSM-7: 160 septets in a single segment. Extension characters (`^ { } \ [ ~ ] | €`
///   and form feed) take two septets, an escape and the character.
/// - Otherwise it is sent as UCS-2 (really UTF-16): 70 code units in a single segment. A
///   character outside the Basic Multilingual Plane (most emoji) takes two.
/// - A text that does not fit one segment is concatenated: each segment loses room to the
///   user data header, leaving 153 septets or 67 code units.
/// - Segments are cut greedily, but never inside an escape sequence or a surrogate pair; that is
///   why a count can exceed the plain division (e.g. `€` straddling a boundary).
///
/// Characters are counted as Unicode scalars, exactly as sent; no normalization is applied
/// (a decomposed `é` is `e` plus a combining accent, which is not GSM-7).
public enum SMSSegmenter {
    /// The character encoding the carrier picks for a text.
    public enum Encoding: String, Sendable, Hashable, CustomStringConvertible {
        /// The GSM 03.38 7-bit default alphabet.
        case gsm7
        /// UCS-2/UTF-16.
        case ucs2

        public var description: String { rawValue }

        /// Room in a text that fits a single segment (septets or UTF-16 code units).
        public var singleSegmentCapacity: Int { self == .gsm7 ? 160 : 70 }
        /// Room in each segment of a concatenated text.
        public var concatenatedSegmentCapacity: Int { self == .gsm7 ? 153 : 67 }
    }

    /// The encoding the carrier uses for `text` and the number of segments it takes.
    /// The empty text takes 0 segments (the carrier refuses it).
    public static func segments(for text: String) -> (encoding: Encoding, count: Int) {
        let layout = layout(of: text)
        return (layout.encoding, layout.cuts.count)
    }

    /// The encoding alone.
    public static func encoding(for text: String) -> Encoding {
        text.unicodeScalars.allSatisfy { gsm7Cost($0) != nil } ? .gsm7 : .ucs2
    }

    /// `text` cut into the segments the carrier would send, or `nil` if it takes more than
    /// `maxSegments`. Joined, the parts give back `text` exactly. The empty text gives `[]`.
    public static func split(_ text: String, maxSegments: Int) -> [String]? {
        let layout = layout(of: text)
        guard layout.cuts.count <= maxSegments else { return nil }
        let scalars = text.unicodeScalars
        return layout.cuts.map { range in
            var part = String.UnicodeScalarView()
            part.append(contentsOf: scalars[range])
            return String(part)
        }
    }

    private typealias ScalarRange = Range<String.UnicodeScalarView.Index>

    private static func layout(of text: String) -> (encoding: Encoding, cuts: [ScalarRange]) {
        let encoding = encoding(for: text)
        let scalars = text.unicodeScalars
        func cost(_ scalar: Unicode.Scalar) -> Int {
            // GSM-7 was chosen because every scalar has a GSM-7 cost, so the `?? 2` never applies.
            encoding == .gsm7 ? (gsm7Cost(scalar) ?? 2) : scalar.utf16.count
        }
        let total = scalars.reduce(0) { $0 + cost($1) }
        if total == 0 { return (encoding, []) }
        if total <= encoding.singleSegmentCapacity {
            return (encoding, [scalars.startIndex..<scalars.endIndex])
        }
        // Greedy: a scalar's units never straddle two segments.
        let capacity = encoding.concatenatedSegmentCapacity
        var cuts: [ScalarRange] = []
        var start = scalars.startIndex
        var used = 0
        var index = scalars.startIndex
        while index < scalars.endIndex {
            let units = cost(scalars[index])
            if used + units > capacity {
                cuts.append(start..<index)
                start = index
                used = 0
            }
            used += units
            index = scalars.index(after: index)
        }
        cuts.append(start..<scalars.endIndex)
        return (encoding, cuts)
    }

    /// Septets `scalar` takes in GSM-7, or `nil` if it has none.
    static func gsm7Cost(_ scalar: Unicode.Scalar) -> Int? {
        if gsm7Basic.contains(scalar) { return 1 }
        if gsm7Extension.contains(scalar) { return 2 }
        return nil
    }

    /// The GSM 03.38 default alphabet, in table order (0x00–0x7F) less the escape at 0x1B.
    private static let gsm7Basic: Set<Unicode.Scalar> = Set(
        ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
            + "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà").unicodeScalars
    )

    /// The extension table: each is sent as escape + character.
    private static let gsm7Extension: Set<Unicode.Scalar> = Set("\u{0C}^{}\\[~]|€".unicodeScalars)
}
