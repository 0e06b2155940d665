import Configuration
import Foundation
import HTTPTypes

/// Reads variables through swift-configuration and collects what is wrong with them. Secrets
/// are read with `isSecret: true`, and no message ever contains a value.
struct ConfigurationCheck {
    let reader: ConfigReader
    private(set) var problems: [String] = []

    init(reader: ConfigReader) {
        self.reader = reader
    }

    enum SecretRule {
        case any
        case minimumLength(Int)
        case exactLength(Int)
        case prefix(String)
        case redisURL
        case sentryDSN

        func problem(with value: String) -> String? {
            switch self {
            case .any: return nil
            case .minimumLength(let length):
                return value.count >= length ? nil : "must be at least \(length) characters (it has \(value.count))"
            case .exactLength(let length):
                return value.count == length ? nil : "must be exactly \(length) characters (it has \(value.count))"
            case .prefix(let prefix):
                return value.hasPrefix(prefix) ? nil : "must start with `\(prefix)`"
            case .redisURL:
                return value.hasPrefix("redis://") ? nil : "must be a redis:// URL"
            case .sentryDSN:
                return SentryDSN(value) == nil ? "must be a Sentry DSN such as https://KEY@HOST/PROJECT" : nil
            }
        }
    }

    mutating func problem(_ variable: String, _ rule: String) {
        problems.append("\(variable) \(rule)")
    }

    mutating func string(_ variable: String, key: String, default value: String) -> String {
        let text = reader.string(forKey: ConfigKey(key), default: value)
        if text.isEmpty { problem(variable, "must not be empty") }
        return text
    }

    func optionalString(_ variable: String, key: String) -> String? {
        reader.string(forKey: ConfigKey(key)).flatMap { $0.isEmpty ? nil : $0 }
    }

    mutating func list(_ variable: String, key: String) -> [String] {
        let text = reader.string(forKey: ConfigKey(key), default: "")
        return text.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    mutating func optionalInt(_ variable: String, key: String, in range: ClosedRange<Int>) -> Int? {
        guard reader.string(forKey: ConfigKey(key)).map({ !$0.isEmpty }) == true else { return nil }
        return int(variable, key: key, default: range.lowerBound, in: range)
    }

    mutating func int(_ variable: String, key: String, default value: Int, in range: ClosedRange<Int>) -> Int {
        guard let text = reader.string(forKey: ConfigKey(key)) else { return value }
        guard let number = Int(text.trimmingCharacters(in: .whitespaces)) else {
            problem(variable, "must be a whole number")
            return value
        }
        guard range.contains(number) else {
            problem(variable, "must be between \(range.lowerBound) and \(range.upperBound) (it is \(number))")
            return value
        }
        return number
    }

    mutating func bool(_ variable: String, key: String, default value: Bool) -> Bool {
        guard let text = reader.string(forKey: ConfigKey(key)) else { return value }
        switch text.lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default:
            problem(variable, "must be true or false")
            return value
        }
    }

    mutating func choice<T: RawRepresentable & CaseIterable>(_ variable: String, key: String, default value: T) -> T
    where T.RawValue == String {
        guard let text = reader.string(forKey: ConfigKey(key)) else { return value }
        guard let choice = T(rawValue: text.lowercased()) else {
            problem(variable, "must be one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
            return value
        }
        return choice
    }

    mutating func secret(_ variable: String, key: String, required: Bool = true, rule: SecretRule) -> Sensitive? {
        guard let value = reader.string(forKey: ConfigKey(key), isSecret: true), !value.isEmpty else {
            if required { problem(variable, "is required") }
            return nil
        }
        if let issue = rule.problem(with: value) {
            problem(variable, issue)
            return nil
        }
        return Sensitive(value)
    }

    mutating func secretList(_ variable: String, key: String, rule: SecretRule) -> [Sensitive] {
        guard let value = reader.string(forKey: ConfigKey(key), isSecret: true), !value.isEmpty else { return [] }
        let items = value.split(separator: ",").map(String.init)
        for (index, item) in items.enumerated() {
            if let issue = rule.problem(with: item) { problem(variable, "entry \(index + 1) \(issue)") }
        }
        return items.map(Sensitive.init)
    }

    mutating func headerName(_ variable: String, key: String) -> HTTPField.Name? {
        guard let text = optionalString(variable, key: key) else { return nil }
        guard let name = HTTPField.Name(text) else {
            problem(variable, "must be an HTTP header name")
            return nil
        }
        return name
    }

    mutating func databaseURL(_ variable: String, key: String, required: Bool) -> DatabaseURL? {
        guard let value = reader.string(forKey: ConfigKey(key), isSecret: true), !value.isEmpty else {
            if required { problem(variable, "is required") }
            return nil
        }
        switch DatabaseURL.parse(value) {
        case .success(let url): return url
        case .failure(let error):
            problem(variable, error.rule)
            return nil
        }
    }
}
