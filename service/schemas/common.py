"""Shared pieces of the request and response models."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty or whitespace only")
    return value


NonBlankStr = Annotated[str, AfterValidator(_not_blank)]
"""A string with at least one non-whitespace character."""

ShortStr = Annotated[str, Field(max_length=300)]


MAX_DEPTH = 64


def clean_strings(value: Any, depth: int = 0) -> Any:
    """Drop NUL characters and replace lone surrogates (valid JSON escapes that no database,
    log or UTF-8 response can hold) in every string of a request. Bounded: deeper than
    ``MAX_DEPTH`` levels is a validation error (the body parser stops far earlier)."""
    if isinstance(value, str):
        if "\x00" in value:
            value = value.replace("\x00", "")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = value.encode("utf-8", "replace").decode("utf-8")
        return value
    if isinstance(value, list | dict) and depth >= MAX_DEPTH:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, list):
        return [clean_strings(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {clean_strings(k, depth + 1): clean_strings(v, depth + 1) for k, v in value.items()}
    return value


def _int_as_str(value: Any) -> Any:
    """An integer id (as the CLI examples write them) is taken as its decimal string."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


IdStr = Annotated[NonBlankStr, BeforeValidator(_int_as_str), Field(max_length=200)]
"""A required id: a non-blank string or an integer (converted to its string)."""

OptionalIdStr = Annotated[
    Annotated[str, Field(max_length=200)] | None, BeforeValidator(_int_as_str)
]
"""An optional id: a string, an integer (converted to its string) or null."""


class RequestModel(BaseModel):
    """Request bodies: unknown fields are refused, types are not coerced."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @model_validator(mode="before")
    @classmethod
    def _clean_strings(cls, data: Any) -> Any:
        return clean_strings(data)


class ResponseModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldError(BaseModel):
    field: str = Field(description="where the problem is, e.g. `reports[0].isi`")
    message: str = Field(description="what is wrong with it")


class ValidationErrorResponse(BaseModel):
    detail: list[FieldError]


class ErrorResponse(BaseModel):
    detail: str


ERROR_RESPONSES: dict[int | str, dict] = {
    401: {"model": ErrorResponse, "description": "missing or invalid API key"},
    403: {"model": ErrorResponse, "description": "the key's role or agency does not allow this"},
    422: {"model": ValidationErrorResponse, "description": "invalid input (field and reason)"},
}
