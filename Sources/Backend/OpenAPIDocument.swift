/// The API's OpenAPI 3.1 document, served at `/openapi.yaml`; tests check it against the routes.
enum OpenAPIDocument {
    static let yaml = """
        openapi: 3.1.0
        info:
          title: pet-backend
          version: 1.0.0
          description: Saved harness designs, Shopify webhooks and analytics for the pet-harness shop.
        components:
          securitySchemes:
            bearer:
              type: http
              scheme: bearer
              bearerFormat: JWT
          schemas:
            Error:
              type: object
              required: [error]
              properties:
                error:
                  type: object
                  required: [code, message, requestId]
                  properties:
                    code: { type: string }
                    message: { type: string }
                    requestId: { type: string }
            DesignInput:
              type: object
              additionalProperties: false
              required: [name, document]
              properties:
                name: { type: string, minLength: 1, maxLength: 200 }
                document: { type: object }
                privateNotes: { type: [string, "null"], maxLength: 4000 }
            Design:
              type: object
              required: [id, name, document, createdAt, updatedAt]
              properties:
                id: { type: string, format: uuid }
                name: { type: string }
                document: { type: object }
                privateNotes: { type: [string, "null"] }
                createdAt: { type: string, format: date-time }
                updatedAt: { type: string, format: date-time }
            DesignPage:
              type: object
              required: [items]
              properties:
                items: { type: array, items: { $ref: "#/components/schemas/Design" } }
                nextCursor: { type: [string, "null"] }
            AnalyticsBatch:
              type: object
              additionalProperties: false
              required: [events]
              properties:
                events:
                  type: array
                  minItems: 1
                  maxItems: 100
                  items:
                    type: object
                    required: [name]
                    properties:
                      name: { type: string, pattern: "^[A-Za-z0-9_.:-]{1,100}$" }
                      occurredAt: { type: string, format: date-time }
                      properties: { type: object }
            RefreshRequest:
              type: object
              additionalProperties: false
              required: [refreshToken]
              properties:
                refreshToken: { type: string }
            TokenPair:
              type: object
              required: [accessToken, refreshToken, tokenType, expiresIn]
              properties:
                accessToken: { type: string }
                refreshToken: { type: string }
                tokenType: { type: string }
                expiresIn: { type: integer }
          responses:
            Error:
              description: An error with a code, a message and the request id.
              content:
                application/json:
                  schema: { $ref: "#/components/schemas/Error" }
        paths:
          /healthz:
            get:
              operationId: liveness
              responses:
                "200": { description: The process is alive. }
          /healthz/detailed:
            get:
              operationId: readiness
              responses:
                "200": { description: Every required dependency is up. }
                "503": { description: A required dependency is down; `failing` names it. }
          /metrics:
            get:
              operationId: metrics
              responses:
                "200": { description: Prometheus text format. }
          /openapi.yaml:
            get:
              operationId: openapi
              responses:
                "200": { description: This document. }
          /api/designs:
            get:
              operationId: listDesigns
              security: [{ bearer: [] }]
              parameters:
                - { name: limit, in: query, schema: { type: integer, minimum: 1, maximum: 100 } }
                - { name: cursor, in: query, schema: { type: string } }
              responses:
                "200":
                  description: A page of the signed-in user's designs, newest first.
                  content: { application/json: { schema: { $ref: "#/components/schemas/DesignPage" } } }
                "400": { $ref: "#/components/responses/Error" }
                "401": { $ref: "#/components/responses/Error" }
                "429": { $ref: "#/components/responses/Error" }
            post:
              operationId: createDesign
              security: [{ bearer: [] }]
              requestBody:
                required: true
                content: { application/json: { schema: { $ref: "#/components/schemas/DesignInput" } } }
              responses:
                "201":
                  description: Created.
                  content: { application/json: { schema: { $ref: "#/components/schemas/Design" } } }
                "400": { $ref: "#/components/responses/Error" }
                "401": { $ref: "#/components/responses/Error" }
                "413": { $ref: "#/components/responses/Error" }
                "429": { $ref: "#/components/responses/Error" }
          /api/designs/{id}:
            parameters:
              - { name: id, in: path, required: true, schema: { type: string, format: uuid } }
            get:
              operationId: getDesign
              security: [{ bearer: [] }]
              responses:
                "200":
                  description: The design.
                  content: { application/json: { schema: { $ref: "#/components/schemas/Design" } } }
                "400": { $ref: "#/components/responses/Error" }
                "401": { $ref: "#/components/responses/Error" }
                "404": { $ref: "#/components/responses/Error" }
            put:
              operationId: replaceDesign
              security: [{ bearer: [] }]
              requestBody:
                required: true
                content: { application/json: { schema: { $ref: "#/components/schemas/DesignInput" } } }
              responses:
                "200":
                  description: Replaced.
                  content: { application/json: { schema: { $ref: "#/components/schemas/Design" } } }
                "400": { $ref: "#/components/responses/Error" }
                "401": { $ref: "#/components/responses/Error" }
                "404": { $ref: "#/components/responses/Error" }
            delete:
              operationId: deleteDesign
              security: [{ bearer: [] }]
              responses:
                "204": { description: Deleted. }
                "400": { $ref: "#/components/responses/Error" }
                "401": { $ref: "#/components/responses/Error" }
                "404": { $ref: "#/components/responses/Error" }
          /api/analytics/events:
            post:
              operationId: ingestAnalytics
              requestBody:
                required: true
                content: { application/json: { schema: { $ref: "#/components/schemas/AnalyticsBatch" } } }
              responses:
                "202": { description: Accepted for storage. }
                "400": { $ref: "#/components/responses/Error" }
                "413": { $ref: "#/components/responses/Error" }
          /api/auth/session:
            post:
              operationId: createSession
              security: [{ bearer: [] }]
              responses:
                "200":
                  description: Tokens for a Clerk session token.
                  content: { application/json: { schema: { $ref: "#/components/schemas/TokenPair" } } }
                "401": { $ref: "#/components/responses/Error" }
          /api/auth/refresh:
            post:
              operationId: refreshSession
              requestBody:
                required: true
                content: { application/json: { schema: { $ref: "#/components/schemas/RefreshRequest" } } }
              responses:
                "200":
                  description: A new token pair; the refresh token used is spent.
                  content: { application/json: { schema: { $ref: "#/components/schemas/TokenPair" } } }
                "400": { $ref: "#/components/responses/Error" }
                "401": { $ref: "#/components/responses/Error" }
          /api/auth/logout:
            post:
              operationId: logout
              requestBody:
                required: true
                content: { application/json: { schema: { $ref: "#/components/schemas/RefreshRequest" } } }
              responses:
                "204": { description: The session's refresh tokens are revoked. }
                "400": { $ref: "#/components/responses/Error" }
          /webhooks/shopify/{topic}:
            post:
              operationId: shopifyWebhook
              parameters:
                - { name: topic, in: path, required: true, schema: { type: string } }
                - { name: X-Shopify-Hmac-Sha256, in: header, required: true, schema: { type: string } }
                - { name: X-Shopify-Webhook-Id, in: header, required: true, schema: { type: string } }
              requestBody:
                required: true
                content: { application/json: { schema: { type: object } } }
              responses:
                "200": { description: Accepted, or a duplicate acknowledged again. }
                "400": { $ref: "#/components/responses/Error" }
                "401": { $ref: "#/components/responses/Error" }
                "503": { $ref: "#/components/responses/Error" }
        """
}
