/// An ordered document tree: what templates parse into, what renderers merge, and what the YAML
/// and TOML writers print. Key order is kept, so output is byte-for-byte deterministic.
public indirect enum ManifestValue: Sendable, Equatable {
    case string(String)
    case integer(Int)
    case number(Double)
    case boolean(Bool)
    /// In an overlay, removes the key from the template (as a JSON merge patch does); never printed.
    case null
    case list([ManifestValue])
    case map([ManifestField])

    public subscript(key: String) -> ManifestValue? {
        guard case .map(let fields) = self else { return nil }
        return fields.first { $0.key == key }?.value
    }

    /// Follows a path of map keys: `value[path: "spec", "template"]`.
    public subscript(path keys: String...) -> ManifestValue? {
        var current: ManifestValue? = self
        for key in keys { current = current?[key] }
        return current
    }
}

public struct ManifestField: Sendable, Equatable {
    public var key: String
    public var value: ManifestValue

    public init(_ key: String, _ value: ManifestValue) {
        self.key = key
        self.value = value
    }
}

extension ManifestValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByFloatLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .integer(value) }
    public init(booleanLiteral value: Bool) { self = .boolean(value) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(arrayLiteral elements: ManifestValue...) { self = .list(elements) }
    public init(dictionaryLiteral elements: (String, ManifestValue)...) {
        self = .map(elements.map { ManifestField($0.0, $0.1) })
    }
}

extension ManifestValue {
    /// `.null` when absent, so an optional setting can sit in a literal and vanish on merge.
    public static func optional(_ value: ManifestValue?) -> ManifestValue { value ?? .null }

    public static func strings(_ values: [String]) -> ManifestValue { .list(values.map { .string($0) }) }

    /// Merges `overlay` into `self`: maps merge key by key, `.null` removes, lists of maps that
    /// carry a `name` merge element by element on it (as Kubernetes' strategic merge does for
    /// containers, ports and env), and any other value replaces.
    public func merging(_ overlay: ManifestValue) -> ManifestValue {
        switch (self, overlay) {
        case (.map(let base), .map(let changes)):
            // Keys the template lacks are placed where the overlay puts them relative to keys both
            // share, so `apiVersion, kind, metadata, spec` stays in that order after a merge.
            var result: [ManifestField] = []
            var pendingNew = changes.filter { change in change.value != .null && !base.contains { $0.key == change.key } }
            func emitNew(before key: String?) {
                guard let key, let position = changes.firstIndex(where: { $0.key == key }) else {
                    result += pendingNew.map { ManifestField($0.key, $0.value.removingNulls()) }
                    pendingNew = []
                    return
                }
                let earlier = Set(changes[..<position].map(\.key))
                result += pendingNew.filter { earlier.contains($0.key) }.map { ManifestField($0.key, $0.value.removingNulls()) }
                pendingNew.removeAll { earlier.contains($0.key) }
            }
            for field in base {
                guard let change = changes.first(where: { $0.key == field.key }) else {
                    result.append(field)
                    continue
                }
                emitNew(before: field.key)
                if change.value == .null { continue }
                result.append(ManifestField(field.key, field.value.merging(change.value)))
            }
            emitNew(before: nil)
            return .map(result)
        case (.list(let base), .list(let changes)) where Self.allNamed(base) && Self.allNamed(changes):
            var result = base.compactMap { element -> ManifestValue? in
                guard let change = changes.first(where: { $0["name"] == element["name"] }) else { return element }
                return element.merging(change)
            }
            result += changes.filter { change in !base.contains { $0["name"] == change["name"] } }.map { $0.removingNulls() }
            return .list(result)
        default:
            return overlay.removingNulls()
        }
    }

    func removingNulls() -> ManifestValue {
        switch self {
        case .map(let fields):
            return .map(fields.filter { $0.value != .null }.map { ManifestField($0.key, $0.value.removingNulls()) })
        case .list(let items):
            return .list(items.filter { $0 != .null }.map { $0.removingNulls() })
        default:
            return self
        }
    }

    private static func allNamed(_ items: [ManifestValue]) -> Bool {
        !items.isEmpty && items.allSatisfy { if case .string = $0["name"] { return true } else { return false } }
    }
}
