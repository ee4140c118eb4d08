"""Typed fields of request bodies and parameters: one declaration gives both the JSON
Schema in the OpenAPI document and the check of what arrives (400 when it fails)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["string", "integer", "boolean"]
MAX_INT = 2**53 - 1
CODE = r"^[A-Za-z0-9_-]{1,16}$"


class BadInput(Exception):
    """What arrived does not match the declared fields; answered 400."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind = "string"
    required: bool = True
    nullable: bool = False
    minimum: int | None = None
    maximum: int | None = None
    min_length: int | None = None
    max_length: int | None = None
    enum: tuple[str, ...] | None = None
    pattern: str | None = None
    description: str = ""

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": [self.kind, "null"] if self.nullable else self.kind}
        if self.kind == "integer":
            out["minimum"] = -MAX_INT if self.minimum is None else self.minimum
            out["maximum"] = MAX_INT if self.maximum is None else self.maximum
        for key, value in (
            ("minLength", self.min_length),
            ("maxLength", self.max_length),
            ("pattern", self.pattern),
            ("description", self.description or None),
        ):
            if value is not None:
                out[key] = value
        if self.enum is not None:
            out["enum"] = list(self.enum)
        return out

    def check(self, value: Any) -> Any:
        """``value`` as the declared type, or ``BadInput``."""
        if value is None:
            if self.nullable:
                return None
            raise BadInput(self.name, "must not be null")
        if self.kind == "boolean":
            if not isinstance(value, bool):
                raise BadInput(self.name, "must be a boolean")
            return value
        if self.kind == "integer":
            if not isinstance(value, int) or isinstance(value, bool):
                raise BadInput(self.name, "must be an integer")
            low = -MAX_INT if self.minimum is None else self.minimum
            high = MAX_INT if self.maximum is None else self.maximum
            if not low <= value <= high:
                raise BadInput(self.name, f"must be between {low} and {high}")
            return value
        return self._string(value)

    def _string(self, value: Any) -> str:
        if not isinstance(value, str):
            raise BadInput(self.name, "must be a string")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise BadInput(self.name, "must be valid Unicode") from None
        if "\x00" in value:
            raise BadInput(self.name, "must not contain NUL")
        if self.min_length is not None and len(value) < self.min_length:
            raise BadInput(self.name, f"must be at least {self.min_length} characters")
        if self.max_length is not None and len(value) > self.max_length:
            raise BadInput(self.name, f"must be at most {self.max_length} characters")
        if self.enum is not None and value not in self.enum:
            raise BadInput(self.name, f"must be one of {', '.join(self.enum)}")
        if self.pattern is not None and re.search(self.pattern, value) is None:
            raise BadInput(self.name, f"must match {self.pattern}")
        return value

    def from_text(self, raw: str) -> Any:
        """A path or query parameter (text) as the declared type."""
        if self.kind == "integer":
            if not re.fullmatch(r"-?[0-9]{1,16}", raw):
                raise BadInput(self.name, "must be an integer")
            return self.check(int(raw))
        if self.kind == "boolean":
            if raw not in ("true", "false"):
                raise BadInput(self.name, "must be true or false")
            return raw == "true"
        return self.check(raw)


def text(name: str, max_length: int, *, min_length: int = 1, **kw: Any) -> Field:
    return Field(name, "string", min_length=min_length, max_length=max_length, **kw)


def code(name: str = "code", **kw: Any) -> Field:
    return Field(name, "string", pattern=CODE, max_length=16, **kw)


def integer(name: str, minimum: int, maximum: int, **kw: Any) -> Field:
    return Field(name, "integer", minimum=minimum, maximum=maximum, **kw)


def flag(name: str, **kw: Any) -> Field:
    return Field(name, "boolean", **kw)


@dataclass(frozen=True)
class Body:
    """A JSON object body with exactly these fields (unknown ones are refused)."""

    fields: tuple[Field, ...]

    def schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {f.name: f.schema() for f in self.fields},
            "required": [f.name for f in self.fields if f.required],
            "additionalProperties": False,
        }

    def parse(self, payload: Any) -> dict[str, Any]:
        if not isinstance(payload, dict):
            raise BadInput("body", "must be a JSON object")
        known = {f.name for f in self.fields}
        extra = sorted(set(payload) - known)
        if extra:
            raise BadInput(extra[0], "is not a known field")
        out: dict[str, Any] = {}
        for f in self.fields:
            if f.name in payload:
                out[f.name] = f.check(payload[f.name])
            elif f.required:
                raise BadInput(f.name, "is required")
        return out


def body(*fields: Field) -> Body:
    return Body(tuple(fields))
