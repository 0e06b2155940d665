import Foundation

/// Where apply, rollback and down report what they are doing. Always stderr: stdout is for results.
protocol ProgressReporter: Sendable {
    func step(_ message: String)
    /// One instance moved on: `starting`, `healthy`, `stopping`, `crash-looping`…
    func instance(_ name: String, _ state: String)
}

enum Progress {
    /// A live view on a terminal, timestamped lines otherwise (CI logs, pipes).
    static func reporter() -> any ProgressReporter {
        let style = TextStyle(colors: Terminal.colorsOnStandardError)
        return isatty(STDERR_FILENO) == 1 ? LiveProgress(style: style) : PlainProgress()
    }
}

/// `2026-11-29T04:31:02Z dev-1: healthy` — one line per event, for logs.
struct PlainProgress: ProgressReporter {
    func step(_ message: String) {
        Terminal.error("\(Timestamps.iso8601(Date())) \(message)")
    }

    func instance(_ name: String, _ state: String) {
        Terminal.error("\(Timestamps.iso8601(Date()))   \(name): \(state)")
    }
}

/// Steps scroll; below them a block with one line per instance is redrawn in place.
final class LiveProgress: ProgressReporter, @unchecked Sendable {
    private let lock = NSLock()
    private let style: TextStyle
    private var states: [(name: String, state: String)] = []
    private var drawnLines = 0

    init(style: TextStyle) {
        self.style = style
    }

    func step(_ message: String) {
        lock.withLock {
            erase()
            Terminal.error(style.paint("==>", .bold) + " " + message)
            draw()
        }
    }

    func instance(_ name: String, _ state: String) {
        lock.withLock {
            if let index = states.firstIndex(where: { $0.name == name }) {
                states[index].state = state
            } else {
                states.append((name, state))
            }
            erase()
            draw()
        }
    }

    private func erase() {
        guard drawnLines > 0 else { return }
        Terminal.error(String(repeating: "\u{1B}[1A\u{1B}[2K", count: drawnLines), newline: false)
        drawnLines = 0
    }

    private func draw() {
        for entry in states {
            let color: TextStyle.Color =
                entry.state == "healthy" ? .green : entry.state.hasPrefix("fail") || entry.state.hasPrefix("crash") ? .red : .yellow
            Terminal.error("    \(entry.name.padding(toLength: 14, withPad: " ", startingAt: 0)) " + style.paint(entry.state, color))
        }
        drawnLines = states.count
    }
}
