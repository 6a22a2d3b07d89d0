"""OpenAPI description of our bearer auth, so Swagger UI's Authorize works (token or login form)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class DeviceJWTScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.DeviceJWTAuthentication"
    name = ["bearerAuth", "passwordLogin"]

    def get_security_definition(self, auto_schema):
        return [
            {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            {
                "type": "oauth2",
                "description": "Sign in with email (as username) and password in Swagger's Authorize dialog.",
                "flows": {"password": {"tokenUrl": "/api/v1/auth/login", "scopes": {}}},
            },
        ]


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """Personal API keys, for the views that take them (the OpenAI-compatible API)."""

    target_class = "accounts.authentication.ApiKeyAuthentication"
    name = "apiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "sk-...",
            "description": "A personal API key (`Authorization: Bearer sk-...`), made at `POST /api/v1/api-keys`.",
        }
