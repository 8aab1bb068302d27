"""Shared field types and checks for request and response schemas."""

from __future__ import annotations

import json
import math
import unicodedata
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

MAX_BATCH = 1000
MAX_PAGE_LIMIT = 500
DEFAULT_PAGE_LIMIT = 50
MAX_OFFSET = 2**63 - 1

JSON_OBJECT_MAX_BYTES = 64 * 1024
JSON_OBJECT_MAX_DEPTH = 32


class RequestModel(BaseModel):
    """Base of request bodies: an unknown field is a 422 naming it (a typo such as `is_actve`
    is never a silent no-op); strings are kept as given. Booleans and ids are declared
    `StrictBool` and `StrictInt`: `"yes"`, `1` or `"3"` are refused, not converted."""

    model_config = ConfigDict(extra="forbid")


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def no_nul(value: str) -> str:
    if "\x00" in value:
        raise PydanticCustomError("string_nul", "String must not contain NUL characters")
    return value


def no_lone_surrogates(value: str) -> str:
    """Refuse what JSON's `\\ud800` escapes can smuggle in: text no database can store."""
    try:
        value.encode()
    except UnicodeEncodeError:
        raise PydanticCustomError(
            "string_unicode", "String must not contain lone surrogate code points"
        ) from None
    return value


# Characters that show nothing on their own: controls, format characters (the zero-width
# space U+200B, joiners, direction marks), separators, unassigned and private-use code points,
# combining marks; and the few letters and symbols that render blank (Hangul fillers, the
# blank Braille pattern).
_INVISIBLE_CATEGORIES = frozenset(
    {"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp", "Mn", "Mc", "Me"}
)
_BLANK_CHARACTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def has_visible_character(value: str) -> bool:
    """Whether `value` shows at least one character when displayed."""
    return any(
        unicodedata.category(character) not in _INVISIBLE_CATEGORIES
        and character not in _BLANK_CHARACTERS
        for character in value
    )


def _normalise_name(value: str) -> str:
    value = unicodedata.normalize("NFC", no_lone_surrogates(value).strip())
    if not value:
        raise PydanticCustomError(
            "string_too_short", "Name must have at least 1 character besides whitespace"
        )
    if not has_visible_character(value):
        raise PydanticCustomError(
            "string_invisible", "Name must contain at least one visible character"
        )
    if len(value) > 100:
        raise PydanticCustomError("string_too_long", "Name must have at most 100 characters")
    return no_nul(value)


Name = Annotated[str, AfterValidator(_normalise_name)]
"""A context name: trimmed, then NFC-normalised, then 1 to 100 characters, one of them
visible."""

Text = Annotated[str, Field(max_length=10_000), AfterValidator(no_nul)]


def _check_json_object(value: dict[str, Any]) -> dict[str, Any]:
    _check_json_value(value, depth=1)
    size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
    if size > JSON_OBJECT_MAX_BYTES:
        raise PydanticCustomError(
            "json_too_large",
            "JSON object must be at most {limit} bytes when serialised, got {size}",
            {"limit": JSON_OBJECT_MAX_BYTES, "size": size},
        )
    return value


def _check_json_value(value: Any, *, depth: int) -> None:
    if depth > JSON_OBJECT_MAX_DEPTH:
        raise PydanticCustomError(
            "json_too_deep",
            "JSON object must nest at most {limit} levels deep",
            {"limit": JSON_OBJECT_MAX_DEPTH},
        )
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                raise PydanticCustomError("string_nul", "JSON keys must not contain NUL characters")
            no_lone_surrogates(key)
            _check_json_value(item, depth=depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_json_value(item, depth=depth + 1)
    elif isinstance(value, float) and not math.isfinite(value):
        raise PydanticCustomError("json_number", "JSON numbers must be finite")
    elif isinstance(value, str):
        if "\x00" in value:
            raise PydanticCustomError("string_nul", "JSON strings must not contain NUL characters")
        no_lone_surrogates(value)


JsonObject = Annotated[dict[str, Any], AfterValidator(_check_json_object)]
"""A JSON object of at most 64 KiB (serialised) and 32 levels, with finite numbers."""


def reject_null(value: Any) -> Any:
    """For PATCH fields that may be omitted but not set to null."""
    if value is None:
        raise PydanticCustomError("null_not_allowed", "Field may be omitted but not null")
    return value
