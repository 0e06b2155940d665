/// The schema, as ordered migrations. Each runs in its own transaction, once.
struct Migration: Sendable {
    var version: Int
    var name: String
    var statements: [String]
}

enum Migrations {
    static let all: [Migration] = [
        Migration(
            version: 1, name: "saved designs and audit log",
            statements: [
                """
                CREATE TABLE saved_designs (
                    id uuid PRIMARY KEY,
                    user_id text NOT NULL,
                    name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
                    document jsonb NOT NULL,
                    private_notes text,
                    created_at timestamptz NOT NULL DEFAULT now(),
                    updated_at timestamptz NOT NULL DEFAULT now()
                )
                """,
                "COMMENT ON COLUMN saved_designs.private_notes IS 'AES-256-GCM ciphertext with its key id: v1.KEYID.BASE64'",
                "CREATE INDEX saved_designs_user_recent ON saved_designs (user_id, created_at DESC, id DESC)",
                """
                CREATE TABLE audit_log (
                    id bigserial PRIMARY KEY,
                    occurred_at timestamptz NOT NULL DEFAULT now(),
                    actor text NOT NULL,
                    action text NOT NULL,
                    subject text,
                    request_id text,
                    details jsonb NOT NULL DEFAULT '{}'
                )
                """,
                "CREATE INDEX audit_log_actor ON audit_log (actor, occurred_at DESC)",
            ]),
        Migration(
            version: 2, name: "webhooks, analytics and orders, partitioned by month",
            statements: [
                """
                CREATE TABLE webhook_logs (
                    id bigserial,
                    received_at timestamptz NOT NULL DEFAULT now(),
                    webhook_id text NOT NULL,
                    topic text NOT NULL,
                    shop_domain text,
                    outcome text NOT NULL,
                    PRIMARY KEY (id, received_at)
                ) PARTITION BY RANGE (received_at)
                """,
                """
                CREATE TABLE processed_webhooks (
                    webhook_id text PRIMARY KEY,
                    topic text NOT NULL,
                    payload jsonb NOT NULL,
                    received_at timestamptz NOT NULL DEFAULT now(),
                    processed_at timestamptz
                )
                """,
                """
                CREATE TABLE analytics_events (
                    id bigserial,
                    received_at timestamptz NOT NULL DEFAULT now(),
                    occurred_at timestamptz NOT NULL,
                    user_id text,
                    name text NOT NULL,
                    properties jsonb NOT NULL DEFAULT '{}',
                    PRIMARY KEY (id, received_at)
                ) PARTITION BY RANGE (received_at)
                """,
                """
                CREATE TABLE shopify_orders (
                    order_id bigint PRIMARY KEY,
                    shop_domain text,
                    total_price numeric(12, 2),
                    currency text,
                    payload jsonb NOT NULL,
                    received_at timestamptz NOT NULL DEFAULT now()
                )
                """,
            ]),
        Migration(
            version: 3, name: "refresh tokens with rotation",
            statements: [
                """
                CREATE TABLE refresh_tokens (
                    id uuid PRIMARY KEY,
                    family_id uuid NOT NULL,
                    user_id text NOT NULL,
                    issued_at timestamptz NOT NULL DEFAULT now(),
                    expires_at timestamptz NOT NULL,
                    used_at timestamptz,
                    revoked_at timestamptz
                )
                """,
                "CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id)",
            ]),
    ]

    static var latestVersion: Int { all.last?.version ?? 0 }
}
