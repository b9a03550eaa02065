"""The HTTP API: FastAPI, versioned under /v1, one router per area. Handlers translate HTTP to
service calls; the rules live in the services the CLI uses too."""

from socialcredit.api.app import create_app

__all__ = ["create_app"]
