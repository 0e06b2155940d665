/// The image `orchestrate build` makes runs `pet-backend` as its ENTRYPOINT, and Fly passes a
/// release command (and a machine's `init.cmd`) to the entrypoint as arguments: the spec's
/// `pet-backend migrate` must reach Fly as `migrate`, or the machine would run
/// `pet-backend pet-backend migrate`.
public enum ImageEntrypoint {
    public static let program = "pet-backend"

    /// The arguments that make the image's entrypoint run `command`; nil when the command is
    /// another program, which then replaces the entrypoint.
    public static func arguments(for command: [String]) -> [String]? {
        guard let first = command.first, first == program || first.hasSuffix("/" + program) else { return nil }
        return Array(command.dropFirst())
    }
}
