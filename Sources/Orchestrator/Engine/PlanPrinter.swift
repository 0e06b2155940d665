/// The human form of a plan, as `plan` prints it.
enum PlanPrinter {
    static func text(_ plan: Plan, style: TextStyle) -> String {
        var lines: [String] = []
        lines.append("\(plan.environment) on \(plan.target):")
        if plan.changes.isEmpty {
            lines.append("  No changes. The live state matches the spec.")
            return lines.joined(separator: "\n")
        }
        for change in plan.changes {
            let (sign, color): (String, TextStyle.Color) =
                switch change.action {
                case .add: ("+", .green)
                case .change: ("~", .yellow)
                case .remove: ("-", .red)
                }
            let detail = change.detail.map { "  (\($0))" } ?? ""
            lines.append(style.paint("  \(sign) \(change.resource)", color) + detail)
            for field in change.fields {
                lines.append("      " + describe(field))
            }
        }
        lines.append("")
        lines.append(summary(plan))
        return lines.joined(separator: "\n")
    }

    static func summary(_ plan: Plan) -> String {
        "Plan: \(plan.count(.add)) to add, \(plan.count(.change)) to change, \(plan.count(.remove)) to remove."
    }

    static func describe(_ field: FieldChange) -> String {
        switch (field.before, field.after) {
        case (nil, let after?): return "\(field.field): \(after)"
        case (let before?, nil): return "\(field.field): \(before) → (removed)"
        case (let before?, let after?): return "\(field.field): \(before) → \(after)"
        case (nil, nil): return field.field
        }
    }
}

/// ANSI colours on a terminal unless NO_COLOR is set (https://no-color.org).
struct TextStyle: Sendable {
    enum Color: String, Sendable {
        case green = "32", yellow = "33", red = "31", dim = "2", bold = "1"
    }

    var colors: Bool

    func paint(_ text: String, _ color: Color) -> String {
        colors ? "\u{1B}[\(color.rawValue)m\(text)\u{1B}[0m" : text
    }
}
