/// Renders everything a deploy of one environment needs. Pure: same spec, templates and image,
/// same bytes. No secret value can appear, because the spec holds none.
public enum Renderer {
    /// Kubernetes objects in the order they are applied; the file name prefix keeps that order.
    static let kubernetesFiles: [(file: String, template: String)] = [
        ("00-namespace.yaml", "namespace.yaml"),
        ("01-configmap.yaml", "configmap.yaml"),
        ("02-migration-job.yaml", "migration-job.yaml"),
        ("03-deployment.yaml", "deployment.yaml"),
        ("04-service.yaml", "service.yaml"),
        ("05-hpa.yaml", "hpa.yaml"),
        ("06-pdb.yaml", "pdb.yaml"),
        ("07-backup-cronjob.yaml", "backup-cronjob.yaml"),
    ]

    public static func render(_ spec: EnvironmentSpec, options: RenderOptions, templates: TemplateSet) throws(SpecErrors) -> [RenderedFile]
    {
        var files: [RenderedFile] = []
        let image = options.imageReference(for: spec)
        if options.targets.contains(.fly), let fly = spec.targets.fly {
            let config = FlyConfigRenderer.render(spec, fly: fly, image: image, template: try templates.toml("fly.toml"))
            files.append(RenderedFile(path: "fly.toml", contents: header(spec, comment: "#") + TOMLWriter.write(config)))
        }
        if options.targets.contains(.kubernetes), let kubernetes = spec.targets.kubernetes {
            for object in try kubernetesObjects(spec, target: kubernetes, image: image, templates: templates) {
                files.append(object)
            }
        }
        let redisTemplate: String
        do {
            redisTemplate = try templates.text(Paths.join(templates.directory, "redis.conf"))
        } catch {
            throw SpecErrors(diagnostics: [error])
        }
        files.append(
            RenderedFile(
                path: "redis.conf", contents: header(spec, comment: "#") + RedisConfigRenderer.render(spec, template: redisTemplate)))
        files.append(
            RenderedFile(path: "postgres/primary.sql", contents: PostgresTuning.sql(for: spec.database.server, role: "primary", spec: spec))
        )
        if let replica = spec.database.readReplica {
            files.append(
                RenderedFile(
                    path: "postgres/replica.sql", contents: PostgresTuning.sql(for: replica.server, role: "read replica", spec: spec)))
        }
        return files
    }

    /// The Kubernetes objects alone, as values, in apply order (the engine applies these).
    public static func kubernetesObjects(
        _ spec: EnvironmentSpec, target: KubernetesTarget, image: String, templates: TemplateSet
    ) throws(SpecErrors) -> [RenderedFile] {
        let names = KubernetesNames(spec: spec, target: target)
        let configData = SupportingObjects.configMapData(
            spec, target: target, template: try templates.yaml(Paths.join("kubernetes", "configmap.yaml")))
        let parts = PodParts(spec: spec, names: names, image: image, configMapName: names.configMap(data: configData))
        var files: [RenderedFile] = []
        for (file, templateName) in kubernetesFiles {
            let template = try templates.yaml(Paths.join("kubernetes", templateName))
            let object: ManifestValue?
            switch templateName {
            case "namespace.yaml": object = SupportingObjects.namespace(names, template: template)
            case "configmap.yaml": object = SupportingObjects.configMap(parts, template: template)
            case "migration-job.yaml": object = JobRenderers.migrationJob(parts, template: template)
            case "deployment.yaml": object = DeploymentRenderer.render(parts, template: template)
            case "service.yaml": object = SupportingObjects.service(parts, template: template)
            case "hpa.yaml": object = SupportingObjects.horizontalPodAutoscaler(parts, template: template)
            case "pdb.yaml": object = SupportingObjects.podDisruptionBudget(parts, template: template)
            default: object = JobRenderers.backupCronJob(parts, template: template)
            }
            guard let object else { continue }
            do {
                files.append(
                    RenderedFile(path: "kubernetes/\(file)", contents: header(spec, comment: "#") + (try YAMLDocument.write(object))))
            } catch {
                throw SpecErrors(diagnostics: [Diagnostic(location: nil, path: "", message: "cannot write \(file) as YAML: \(error)")])
            }
        }
        return files
    }

    /// Every path under the output folder `render` may write for some spec.
    public static var possiblePaths: Set<String> {
        Set(kubernetesFiles.map { "kubernetes/\($0.file)" } + ["fly.toml", "redis.conf", "postgres/primary.sql", "postgres/replica.sql"])
    }

    /// Whether a file's text is one `render` wrote (by the header it starts with), so that a
    /// later render may remove it when no longer rendered, and never a file of the user's.
    public static func wroteFile(_ contents: String) -> Bool {
        let opening = contents.prefix(400)
        return opening.contains("Rendered by orchestrate from ") || opening.contains("Generated by `orchestrate render`")
    }

    static func header(_ spec: EnvironmentSpec, comment: String) -> String {
        "\(comment) Rendered by orchestrate from \(spec.files.joined(separator: " + ")); do not edit.\n"
            + "\(comment) \(KubernetesNames.specHashAnnotation): \(spec.specHash)\n"
    }
}
