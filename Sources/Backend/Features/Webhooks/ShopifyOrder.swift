import Foundation

/// What `shopify_orders` can hold of an order's total: `total_price numeric(12, 2)`, so a plain
/// decimal with at most 10 digits before the point. `1e30`, `inf` or `0x1p3` are refused.
enum ShopifyOrder {
    /// Why the order cannot be stored, or nil when it can (or names no total).
    static func problem(in order: [String: Any]) -> String? {
        guard let value = order["total_price"], !(value is NSNull) else { return nil }
        guard storableTotal(value) != nil else {
            return
                "`total_price` must be a decimal string with at most 10 digits before the point, such as \"59.90\"; got \(String(describing: value).prefix(40))"
        }
        return nil
    }

    /// The total as PostgreSQL's numeric reads it, or nil.
    static func storableTotal(_ value: Any?) -> String? {
        guard let text = value as? String, !text.isEmpty else { return nil }
        let unsigned = text.hasPrefix("-") ? text.dropFirst() : Substring(text)
        let parts = unsigned.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
            parts[0].drop(while: { $0 == "0" }).count <= 10
        else { return nil }
        return text
    }
}
