import HTTPTypes

/// Headers Fly uses that the document names only as operation parameters (or not at all).
extension HTTPField.Name {
    /// The nonce of a machine's lease: with a lease held, Fly refuses changes without it.
    package static let flyLeaseNonce = named("fly-machine-lease-nonce")
    /// Fly's id for a request, worth quoting in a report to Fly.
    package static let flyRequestID = named("fly-request-id")

    private static func named(_ name: String) -> HTTPField.Name {
        guard let field = HTTPField.Name(name) else { preconditionFailure("\(name) is not a header name") }
        return field
    }
}
