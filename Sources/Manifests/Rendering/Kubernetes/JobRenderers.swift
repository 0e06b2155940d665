/// The migration Job (the release command) and the database backup CronJob.
enum JobRenderers {
    static func migrationJob(_ parts: PodParts, template: ManifestValue) -> ManifestValue? {
        guard let command = parts.spec.deploy.releaseCommand else { return nil }
        return template.merging([
            "metadata": parts.names.metadata(parts.names.migrationJob(image: parts.image), component: "migration").merging([
                "annotations": [KubernetesNames.specHashAnnotation: .string(parts.spec.specHash)]
            ]),
            "spec": [
                "backoffLimit": 0,
                "activeDeadlineSeconds": .integer(Int(parts.spec.deploy.releaseCommandTimeout.seconds)),
                "template": [
                    "metadata": ["labels": parts.names.podLabels(component: "migration")],
                    "spec": [
                        "restartPolicy": "Never",
                        "securityContext": parts.podSecurityContext,
                        "containers": [
                            [
                                "name": "migrate",
                                "image": .string(parts.image),
                                "command": .strings(command),
                                "envFrom": parts.envFrom,
                                "env": parts.secretEnv,
                                "resources": parts.resources,
                                "securityContext": parts.containerSecurityContext,
                            ]
                        ],
                    ],
                ],
            ],
        ])
    }

    /// `pet-backend backup` in the service's own image (which carries pg_dump): a dump in one
    /// snapshot to the spec's bucket, then retention. Its settings are plain variables; the
    /// database URL and the store's keys come from the Secret, checked before apply like the
    /// service's.
    static func backupCronJob(_ parts: PodParts, template: ManifestValue) -> ManifestValue? {
        guard let backups = parts.spec.backups else { return nil }
        let settings = BackupJobEnvironment.settings(parts.spec, backups: backups).map { variable -> ManifestValue in
            ["name": .string(variable.name), "value": .string(variable.value)]
        }
        let secrets = BackupJobEnvironment.secrets(backups).map { variable -> ManifestValue in
            [
                "name": .string(variable.name),
                "valueFrom": ["secretKeyRef": ["name": .string(parts.names.target.secretName), "key": .string(variable.secret)]],
            ]
        }
        return template.merging([
            "metadata": parts.names.metadata(parts.names.backupCronJob, component: "backup"),
            "spec": [
                "schedule": .string(backups.schedule),
                "timeZone": "Etc/UTC",
                "jobTemplate": [
                    "spec": [
                        "template": [
                            "metadata": ["labels": parts.names.podLabels(component: "backup")],
                            "spec": [
                                "securityContext": parts.podSecurityContext,
                                "containers": [
                                    [
                                        "name": "backup",
                                        "image": .string(parts.image),
                                        "command": ["pet-backend", "backup"],
                                        // The release's settings too: BUILD_VERSION names the release a backup holds.
                                        "envFrom": parts.envFrom,
                                        "env": .list(settings + secrets),
                                        "resources": parts.resources,
                                        "securityContext": parts.containerSecurityContext,
                                    ]
                                ],
                            ],
                        ]
                    ]
                ],
            ],
        ])
    }
}
