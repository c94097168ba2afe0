"""Shared pieces of the request and response models."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty or whitespace only")
    return value


NonBlankStr = Annotated[str, AfterValidator(_not_blank)]
"""A string with at least one non-whitespace character."""

ShortStr = Annotated[str, Field(max_length=300)]


class RequestModel(BaseModel):
    """Request bodies: unknown fields are refused, types are not coerced."""

    model_config = ConfigDict(extra="forbid", strict=True)


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
