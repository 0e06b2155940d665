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

    /// pg_dump in custom format (compressed, restorable with pg_restore) to a volume, then prunes
    /// dumps older than the retention. The official postgres image runs it as its `postgres` user.
    static func backupCronJob(_ parts: PodParts, template: ManifestValue) -> ManifestValue? {
        guard let backups = parts.spec.backups else { return nil }
        let script = """
            set -eu
            file="/backups/\(parts.spec.app.name)-$(date -u +%Y%m%dT%H%M%SZ).dump"
            pg_dump --format=custom --no-owner --file="$file.partial" "$DATABASE_URL"
            mv "$file.partial" "$file"
            find /backups -name '*.dump' -mtime +"$RETENTION_DAYS" -delete
            """
        let postgresUser = 999
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
                                "securityContext": parts.podSecurityContext.merging([
                                    "runAsUser": .integer(postgresUser), "runAsGroup": .integer(postgresUser),
                                    "fsGroup": .integer(postgresUser),
                                ]),
                                "containers": [
                                    [
                                        "name": "backup",
                                        "image": .string(backups.image),
                                        "command": ["/bin/sh", "-c", .string(script)],
                                        "env": [
                                            [
                                                "name": "DATABASE_URL",
                                                "valueFrom": [
                                                    "secretKeyRef": ["name": .string(parts.names.target.secretName), "key": "DATABASE_URL"]
                                                ],
                                            ],
                                            ["name": "RETENTION_DAYS", "value": .string(String(backups.retentionDays))],
                                        ],
                                        "volumeMounts": [["name": "backups", "mountPath": "/backups"]],
                                        "securityContext": parts.containerSecurityContext,
                                    ]
                                ],
                                "volumes": [["name": "backups", "persistentVolumeClaim": ["claimName": .string(backups.volumeClaim)]]],
                            ],
                        ]
                    ]
                ],
            ],
        ])
    }
}
