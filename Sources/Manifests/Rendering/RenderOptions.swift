/// What to render and with which image.
public struct RenderOptions: Sendable {
    public enum Target: String, Sendable, CaseIterable {
        case fly, kubernetes
    }

    public var targets: Set<Target>
    /// The image to deploy; a digest reference (`repo@sha256:…`) for a real deploy.
    public var image: String?

    public init(targets: Set<Target> = Set(Target.allCases), image: String? = nil) {
        self.targets = targets
        self.image = image
    }

    /// The spec's repository with the `unreleased` tag until a build supplies a digest.
    public func imageReference(for spec: EnvironmentSpec) -> String {
        image ?? "\(spec.app.image):unreleased"
    }
}

/// One rendered file, by its path inside the output folder.
public struct RenderedFile: Sendable, Equatable {
    public var path: String
    public var contents: String

    public init(path: String, contents: String) {
        self.path = path
        self.contents = contents
    }
}
