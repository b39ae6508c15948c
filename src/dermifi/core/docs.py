"""Interactive API docs that work air-gapped: Swagger UI's assets are served by this server."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from dermifi.core.schemas import NO_CONTROL_CHARACTERS

ASSETS_PATH = "/docs/assets"


def install_docs(app: FastAPI) -> None:
    assets = files("fastapi_offline") / "static"
    app.mount(ASSETS_PATH, StaticFiles(directory=str(assets)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/v1/openapi.json",
            title=f"{app.title} — docs",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon.png",
            # No calls to the public validator service: clinics run air-gapped.
            swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": False},
        )

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, routes=app.routes,
                             description=app.description)
        # Validation failures answer 400 with the error envelope, never FastAPI's 422 shape.
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                if isinstance(operation, dict):
                    operation.get("responses", {}).pop("422", None)
        _state_the_control_character_rule(schema)
        for name in ("HTTPValidationError", "ValidationError"):
            schema.get("components", {}).get("schemas", {}).pop(name, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


# What ControlCharacterMiddleware refuses, stated on every path and query string that has
# no pattern of its own (those that do already admit no control character).


def _state_the_control_character_rule(schema: dict[str, Any]) -> None:
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") not in ("path", "query"):
                    continue
                for variant in _string_schemas(parameter.get("schema", {})):
                    variant.setdefault("pattern", NO_CONTROL_CHARACTERS)


def _string_schemas(schema: dict[str, Any]) -> list[dict[str, Any]]:
    if schema.get("type") == "string" and "enum" not in schema and "format" not in schema:
        return [schema]
    return [s for variant in schema.get("anyOf", []) for s in _string_schemas(variant)]
