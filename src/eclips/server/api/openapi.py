"""The OpenAPI schema as the server really behaves, checked by the contract tests.

FastAPI's own schema promises a 422 ``HTTPValidationError`` on every route with
parameters; EClips answers validation failures with 400 ``{"error": ...}`` (declared per
route with ``api.responses.errors``), so those 422s are removed. An optional query or
header parameter is rendered ``anyOf: [..., null]``, yet HTTP has no null to send: it is
simply not required. Fields marked with ``AGENT_TYPE_ENUM_MARK`` get the agent types this
server has registered as their ``enum``, and webhook URLs may be http:// where the operator
allows private delivery (``ECLIPS_WEBHOOKS_ALLOW_PRIVATE``).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from eclips.server.agents.registry import AgentRegistry
from eclips.server.api.fields import (
    AGENT_TYPE_ENUM_MARK,
    OPTIONAL_WEBHOOK_URL_PATTERN,
    WEBHOOK_URL_PATTERN,
)
from eclips.server.settings import Settings
from eclips.server.state import ServerState

_FASTAPI_VALIDATION_ERROR = "#/components/schemas/HTTPValidationError"
_FASTAPI_ERROR_SCHEMAS = ("HTTPValidationError", "ValidationError")


def install_openapi(app: FastAPI, settings: Settings) -> None:
    """Replace ``app.openapi`` with one that corrects FastAPI's schema once, then caches it."""
    generate = app.openapi

    def agent_types() -> list[str]:
        # The running server's registry; the same discovery when asked before start-up.
        state: ServerState | None = getattr(app.state, "eclips", None)
        registry = state.registry if state else AgentRegistry.discover(extra=settings.agent_classes)
        return sorted(agent.agent_type for agent in registry)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            _drop_validation_422(schema)
            _no_null_parameters(schema)
            _fill_agent_types(schema, agent_types())
            if settings.webhooks_allow_private:
                _allow_http_webhooks(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _drop_validation_422(schema: dict[str, Any]) -> None:
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.get("responses", {})
            content = responses.get("422", {}).get("content", {})
            ref = content.get("application/json", {}).get("schema", {}).get("$ref")
            if ref == _FASTAPI_VALIDATION_ERROR:
                del responses["422"]
    components = schema.get("components", {}).get("schemas", {})
    for name in _FASTAPI_ERROR_SCHEMAS:
        components.pop(name, None)


def _no_null_parameters(schema: dict[str, Any]) -> None:
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            for parameter in operation.get("parameters", []):
                param_schema = parameter.get("schema", {})
                variants = param_schema.get("anyOf", [])
                not_null = [v for v in variants if v != {"type": "null"}]
                if len(variants) == 2 and len(not_null) == 1:
                    del param_schema["anyOf"]
                    param_schema.update(not_null[0])


def _fill_agent_types(node: Any, names: list[str]) -> None:
    if isinstance(node, dict):
        if node.pop(AGENT_TYPE_ENUM_MARK, False):
            node["enum"] = names
        for value in node.values():
            _fill_agent_types(value, names)
    elif isinstance(node, list):
        for value in node:
            _fill_agent_types(value, names)


def _allow_http_webhooks(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("pattern") in (WEBHOOK_URL_PATTERN, OPTIONAL_WEBHOOK_URL_PATTERN):
            node["pattern"] = node["pattern"].replace("^https://", "^https?://")
        for value in node.values():
            _allow_http_webhooks(value)
    elif isinstance(node, list):
        for value in node:
            _allow_http_webhooks(value)
