"""JSON answers built once: what a route assembled is serialized, not validated again."""

from __future__ import annotations

from collections.abc import Mapping, Set
from typing import Any

import orjson
from fastapi.responses import JSONResponse
from pydantic import BaseModel


class ModelResponse(JSONResponse):
    """JSON answered in one pass: a model serialized by pydantic-core straight to bytes (no
    intermediate dicts, no re-validation of what the server built), other bodies by orjson."""

    def __init__(self, content: BaseModel | Mapping[str, Any], *,
                 exclude: Set[str] = frozenset(), **kwargs: Any) -> None:
        self._exclude = exclude
        super().__init__(content, **kwargs)

    def render(self, content: Any) -> bytes:
        if isinstance(content, BaseModel):
            return content.model_dump_json(by_alias=True, exclude=set(self._exclude)).encode()
        return orjson.dumps(content)
