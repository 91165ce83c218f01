// The decoder half of the strict .rnw header JSON (the parser is StrictJSON.swift).

/// Decodes the header model types (Decodable) from a strictly parsed tree.
/// Errors are RNWErrors with the JSON path:
/// - an integer type takes only an integer literal within its range
///   (`headerNotInteger`, `headerNumberOutOfRange`);
/// - Double takes any number whose value is finite (`headerNumberOutOfRange`);
/// - String refuses U+0000 except in a bytes value's `utf8` text (`headerNUL`);
/// - a wrong JSON type or a missing key is `headerInvalid`.
struct StrictJSONDecoder: Decoder {
    let node: JSONNode
    let codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(_ node: JSONNode, codingPath: [CodingKey] = []) {
        self.node = node
        self.codingPath = codingPath
    }

    var path: String { JSONPath.of(codingPath) }

    func mismatch(_ expected: String) -> RNWError {
        .headerInvalid(path: path, reason: "expected \(expected), found \(node.value.kindName)")
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case let .object(o) = node.value else { throw mismatch("an object") }
        return KeyedDecodingContainer(Keyed<Key>(object: o, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case let .array(items) = node.value else { throw mismatch("an array") }
        return Unkeyed(items: items, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    struct IndexKey: CodingKey {
        let intValue: Int?
        var stringValue: String { "\(intValue ?? 0)" }
        init(_ i: Int) { intValue = i }
        init?(stringValue: String) { return nil }
        init?(intValue: Int) { self.intValue = intValue }
    }

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let object: JSONObject
        let codingPath: [CodingKey]

        var allKeys: [Key] { object.members.compactMap { Key(stringValue: $0.key) } }
        func contains(_ key: Key) -> Bool { object.member(key.stringValue) != nil }

        func child(_ key: Key) throws -> StrictJSONDecoder {
            guard let node = object.member(key.stringValue) else {
                throw RNWError.headerInvalid(path: JSONPath.of(codingPath + [key]), reason: "required key missing")
            }
            return StrictJSONDecoder(node, codingPath: codingPath + [key])
        }

        func decodeNil(forKey key: Key) throws -> Bool { try child(key).decodeNil() }
        func decode(_ t: Bool.Type, forKey key: Key) throws -> Bool { try child(key).decode(t) }
        func decode(_ t: String.Type, forKey key: Key) throws -> String { try child(key).decode(t) }
        func decode(_ t: Double.Type, forKey key: Key) throws -> Double { try child(key).decode(t) }
        func decode(_ t: Float.Type, forKey key: Key) throws -> Float { try child(key).decode(t) }
        func decode(_ t: Int.Type, forKey key: Key) throws -> Int { try child(key).decode(t) }
        func decode(_ t: Int8.Type, forKey key: Key) throws -> Int8 { try child(key).decode(t) }
        func decode(_ t: Int16.Type, forKey key: Key) throws -> Int16 { try child(key).decode(t) }
        func decode(_ t: Int32.Type, forKey key: Key) throws -> Int32 { try child(key).decode(t) }
        func decode(_ t: Int64.Type, forKey key: Key) throws -> Int64 { try child(key).decode(t) }
        func decode(_ t: UInt.Type, forKey key: Key) throws -> UInt { try child(key).decode(t) }
        func decode(_ t: UInt8.Type, forKey key: Key) throws -> UInt8 { try child(key).decode(t) }
        func decode(_ t: UInt16.Type, forKey key: Key) throws -> UInt16 { try child(key).decode(t) }
        func decode(_ t: UInt32.Type, forKey key: Key) throws -> UInt32 { try child(key).decode(t) }
        func decode(_ t: UInt64.Type, forKey key: Key) throws -> UInt64 { try child(key).decode(t) }
        func decode<T: Decodable>(_ t: T.Type, forKey key: Key) throws -> T { try child(key).decode(t) }

        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
            -> KeyedDecodingContainer<NestedKey> { try child(key).container(keyedBy: type) }
        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { try child(key).unkeyedContainer() }
        func superDecoder() throws -> any Decoder {
            guard let node = object.member("super") else { return StrictJSONDecoder(JSONNode(offset: 0, value: .null), codingPath: codingPath) }
            return StrictJSONDecoder(node, codingPath: codingPath)
        }
        func superDecoder(forKey key: Key) throws -> any Decoder { try child(key) }
    }

    struct Unkeyed: UnkeyedDecodingContainer {
        let items: [JSONNode]
        let codingPath: [CodingKey]
        var currentIndex = 0
        var count: Int? { items.count }
        var isAtEnd: Bool { currentIndex >= items.count }

        init(items: [JSONNode], codingPath: [CodingKey]) {
            self.items = items
            self.codingPath = codingPath
        }

        mutating func next() throws -> StrictJSONDecoder {
            guard !isAtEnd else {
                throw RNWError.headerInvalid(path: JSONPath.of(codingPath), reason: "expected more than \(items.count) elements")
            }
            defer { currentIndex += 1 }
            return StrictJSONDecoder(items[currentIndex], codingPath: codingPath + [IndexKey(currentIndex)])
        }

        mutating func decodeNil() throws -> Bool {
            guard !isAtEnd, case .null = items[currentIndex].value else { return false }
            currentIndex += 1
            return true
        }
        mutating func decode(_ t: Bool.Type) throws -> Bool { try next().decode(t) }
        mutating func decode(_ t: String.Type) throws -> String { try next().decode(t) }
        mutating func decode(_ t: Double.Type) throws -> Double { try next().decode(t) }
        mutating func decode(_ t: Float.Type) throws -> Float { try next().decode(t) }
        mutating func decode(_ t: Int.Type) throws -> Int { try next().decode(t) }
        mutating func decode(_ t: Int8.Type) throws -> Int8 { try next().decode(t) }
        mutating func decode(_ t: Int16.Type) throws -> Int16 { try next().decode(t) }
        mutating func decode(_ t: Int32.Type) throws -> Int32 { try next().decode(t) }
        mutating func decode(_ t: Int64.Type) throws -> Int64 { try next().decode(t) }
        mutating func decode(_ t: UInt.Type) throws -> UInt { try next().decode(t) }
        mutating func decode(_ t: UInt8.Type) throws -> UInt8 { try next().decode(t) }
        mutating func decode(_ t: UInt16.Type) throws -> UInt16 { try next().decode(t) }
        mutating func decode(_ t: UInt32.Type) throws -> UInt32 { try next().decode(t) }
        mutating func decode(_ t: UInt64.Type) throws -> UInt64 { try next().decode(t) }
        mutating func decode<T: Decodable>(_ t: T.Type) throws -> T { try next().decode(t) }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
            -> KeyedDecodingContainer<NestedKey> { try next().container(keyedBy: type) }
        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }
        mutating func superDecoder() throws -> any Decoder { try next() }
    }
}

extension StrictJSONDecoder: SingleValueDecodingContainer {
    func decodeNil() -> Bool {
        if case .null = node.value { return true }
        return false
    }

    func decode(_: Bool.Type) throws -> Bool {
        guard case let .bool(v) = node.value else { throw mismatch("true or false") }
        return v
    }

    func decode(_: String.Type) throws -> String {
        guard case let .string(s, hasNUL) = node.value else { throw mismatch("a string") }
        // A bytes value's text ({"utf8": ...}) is an ONNX `bytes` field and may
        // hold NUL; every other string becomes a C string in ONNX, where NUL ends it.
        if hasNUL && codingPath.last?.stringValue != "utf8" { throw RNWError.headerNUL(path: path, offset: node.offset) }
        return s
    }

    func decode(_: Double.Type) throws -> Double {
        guard case let .number(literal) = node.value else { throw mismatch("a number") }
        // The literal matches RFC 8259's grammar, which Double(String) reads
        // correctly rounded; only a magnitude past float64 fails.
        guard let d = Double(literal), d.isFinite else {
            throw RNWError.headerNumberOutOfRange(path: path, found: literal, expected: "a number within float64's range")
        }
        return d
    }

    func decode(_: Float.Type) throws -> Float {
        let d = try decode(Double.self)
        let f = Float(d)
        guard f.isFinite else {
            throw RNWError.headerNumberOutOfRange(path: path, found: RNWText.literal(node), expected: "a number within float32's range")
        }
        return f
    }

    func integer<T: FixedWidthInteger>(_: T.Type) throws -> T {
        guard case let .number(literal) = node.value else { throw mismatch("an integer") }
        switch StrictJSON.int64(literal) {
        case .notInteger:
            throw RNWError.headerNotInteger(path: path, found: literal)
        case .outOfRange:
            throw RNWError.headerNumberOutOfRange(path: path, found: literal, expected: "an integer in \(T.min)...\(T.max)")
        case let .value(v):
            guard let x = T(exactly: v) else {
                throw RNWError.headerNumberOutOfRange(path: path, found: literal, expected: "an integer in \(T.min)...\(T.max)")
            }
            return x
        }
    }

    func decode(_ t: Int.Type) throws -> Int { try integer(t) }
    func decode(_ t: Int8.Type) throws -> Int8 { try integer(t) }
    func decode(_ t: Int16.Type) throws -> Int16 { try integer(t) }
    func decode(_ t: Int32.Type) throws -> Int32 { try integer(t) }
    func decode(_ t: Int64.Type) throws -> Int64 { try integer(t) }
    func decode(_ t: UInt.Type) throws -> UInt { try integer(t) }
    func decode(_ t: UInt8.Type) throws -> UInt8 { try integer(t) }
    func decode(_ t: UInt16.Type) throws -> UInt16 { try integer(t) }
    func decode(_ t: UInt32.Type) throws -> UInt32 { try integer(t) }
    func decode(_ t: UInt64.Type) throws -> UInt64 { try integer(t) }

    func decode<T: Decodable>(_ t: T.Type) throws -> T {
        // Route primitives to the checks above (their init(from:) would too,
        // via singleValueContainer; this keeps the path exact and the work small).
        switch t {
        case is String.Type: return try decode(String.self) as! T  // SAFETY: T is String
        case is Int.Type: return try integer(Int.self) as! T  // SAFETY: T is Int
        case is Int64.Type: return try integer(Int64.self) as! T  // SAFETY: T is Int64
        case is Int32.Type: return try integer(Int32.self) as! T  // SAFETY: T is Int32
        case is Double.Type: return try decode(Double.self) as! T  // SAFETY: T is Double
        default: return try T(from: self)
        }
    }
}

// MARK: - Message text

/// Quoting for error messages: user bytes never reach a terminal raw.
enum RNWText {
    static func hexByte(_ c: UInt8) -> String {
        let s = String(c, radix: 16)
        return "0x" + (s.count < 2 ? "0" + s : s)
    }

    /// Two hex digits per byte, space-separated: "ef bb bf".
    static func hexBytes(_ bytes: [UInt8]) -> String {
        bytes.map { let s = String($0, radix: 16); return s.count < 2 ? "0" + s : s }.joined(separator: " ")
    }

    /// "at header byte N (file byte 64 + N)".
    static func at(_ offset: Int) -> String {
        "at header byte \(offset) (file byte \(RNWLayout.preambleSize &+ offset))"
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }

    /// `s` in double quotes, control characters and quotes escaped, at most `max` characters.
    static func quoted(_ s: String, max: Int = 64) -> String {
        var out = "\""
        for (k, u) in s.unicodeScalars.enumerated() {
            if k == max { out += "..."; break }
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where u.value < 0x20 || u.value == 0x7F || (u.value >= 0x80 && u.value < 0xA0):
                out += "\\u" + String(repeating: "0", count: 4 - String(u.value, radix: 16).count) + String(u.value, radix: 16)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    /// The byte at `at` for a message: a printable ASCII character quoted, else its hex value.
    static func describeByte(_ c: UInt8) -> String {
        if c >= 0x21 && c < 0x7F { return "'\(Character(Unicode.Scalar(c)))'" }
        if c == 0x20 { return "' '" }
        return "byte \(hexByte(c))"
    }

    /// The token starting at `from` (up to a delimiter), for a message: printable ASCII only.
    static func token(_ b: UnsafeRawBufferPointer, from: Int, max: Int = 24) -> String {
        var end = from
        while end < b.count, end - from < max {
            let c = b[end]
            if c <= 0x20 || c == 0x2C || c == 0x5D || c == 0x7D || c == 0x3A || c >= 0x7F { break }
            if end > from && c == 0x22 { break }
            end += 1
        }
        return String(decoding: UnsafeRawBufferPointer(rebasing: b[from..<end]), as: UTF8.self)
    }

    static func literal(_ node: JSONNode) -> String {
        if case let .number(n) = node.value { return n }
        return node.value.kindName
    }
}
