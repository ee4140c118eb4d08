"""What arrives over HTTP, checked before anything reads it (issue 13 §6: no 500 on bad input).

Every web adapter (``sms``, ``bot``, ``api``, ``console``) reads its raw request through these
few functions, so a body that is not what it claims, a header with bytes no client should
send, or a number no column can hold is refused at the boundary with ``MalformedInput`` (the
adapter answers 400, or 415 for ``UnsupportedContent``) and never reaches the database.

* Form bodies are ``application/x-www-form-urlencoded`` in UTF-8 (a ``charset`` other than
  UTF-8 or US-ASCII is refused, never guessed); percent-escapes must decode to UTF-8 too,
  and no field holds NUL (no browser or carrier sends one, and PostgreSQL keeps none).
* JSON bodies are UTF-8 (RFC 8259 §8.1), nested at most ``MAX_JSON_DEPTH`` deep.
* Header values are ASCII (aiohttp hands other bytes over as lone surrogates, which no
  ``str.encode`` or ``hmac.compare_digest`` accepts).
* Whole numbers in text are ASCII digits within a stated range (``str.isdigit`` also takes
  ``²`` and ``١``, and ``int`` takes 4,300 digits).

These are plain exceptions, not ``DomainError``: malformed input is refused by the adapter
before any rule of the domain is asked.
"""

from __future__ import annotations

import codecs
import json
import re
from typing import Any
from urllib.parse import parse_qsl

FORM_TYPE = "application/x-www-form-urlencoded"
FORM_CHARSETS = frozenset({"utf_8", "ascii"})
"""What a form body may declare, as ``charset`` names it (``UTF-8``, ``utf8``, ``US-ASCII``…)."""
MAX_FORM_FIELDS = 100
MAX_JSON_DEPTH = 32
MAX_DIGITS = 18
"""Every whole number we take fits in a signed 64-bit column with room to spare."""
_DIGITS = re.compile(r"[0-9]{1,18}")
_CHARSET = re.compile(
    r"(utf_(8|16|32)(_[bl]e)?|ascii|latin_1|iso8859_\d+|cp\d+|gb2312|gbk|gb18030"
    r"|big5(hkscs)?|shift_jis|euc_(jp|kr)|koi8_[ru])"
)
"""Codec names of real character sets: Python's registry also holds ``base64``, ``rot13``,
``idna``, ``unicode_escape``, ``utf_7``…, which are no charset anyone may name to us."""


class MalformedInput(ValueError):
    """``part`` of a request (a header, ``body``, a field) is not what the surface takes.

    ``reason`` is a short English sentence for the 4xx answer; the adapters answer 400.
    """

    def __init__(self, part: str, reason: str) -> None:
        super().__init__(f"{part}: {reason}")
        self.part = part
        self.reason = reason


class UnsupportedContent(MalformedInput):
    """The body's ``Content-Type`` (or its charset) is not one the surface reads (415)."""


def charset(name: str) -> str | None:
    """Python's codec name for the character set ``name``, or None when it names none.

    Used where a sender names the charset of a text (Kannel's ``charset`` parameter).
    """
    try:
        codec = codecs.lookup(name).name.replace("-", "_")
    except (LookupError, ValueError):
        return None
    return codec if _CHARSET.fullmatch(codec) else None


def _form_charset(declared: str | None) -> None:
    if declared is not None and charset(declared) not in FORM_CHARSETS:
        raise UnsupportedContent("Content-Type", "a form must be UTF-8")


def form_pairs(
    body: bytes, content_type: str, declared_charset: str | None
) -> list[tuple[str, str]]:
    """The (name, value) pairs of an urlencoded form ``body``, in order, blanks kept.

    Raises ``UnsupportedContent`` for another content type (multipart included) or a charset
    other than UTF-8, and ``MalformedInput`` when the body or an escape is not UTF-8 or it
    holds more than ``MAX_FORM_FIELDS`` fields. An empty body is an empty form, whatever
    its declared type (there is nothing to misread).
    """
    if not body:
        return []
    if content_type not in ("", FORM_TYPE):
        raise UnsupportedContent("Content-Type", f"must be {FORM_TYPE}")
    _form_charset(declared_charset)
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FORM_FIELDS,
        )
    except UnicodeDecodeError:
        raise MalformedInput("body", "the form is not UTF-8") from None
    except ValueError:
        raise MalformedInput("body", f"more than {MAX_FORM_FIELDS} fields") from None
    for name, value in pairs:
        if "\x00" in name or "\x00" in value:
            raise MalformedInput(name if "\x00" not in name else "body", "holds NUL")
    return pairs


def _depth(value: Any, limit: int) -> None:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            raise MalformedInput("body", f"JSON nested deeper than {limit}")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


def json_body(body: bytes, *, empty: Any = None) -> Any:
    """The JSON value of a UTF-8 ``body`` (``empty`` for no bytes), or ``MalformedInput``.

    Deep nesting (past ``MAX_JSON_DEPTH``), numbers of thousands of digits and invalid
    UTF-8 are refused like any other malformed JSON.
    """
    if not body:
        return empty
    try:
        value = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise MalformedInput("body", "JSON must be UTF-8") from None
    except RecursionError:
        raise MalformedInput("body", f"JSON nested deeper than {MAX_JSON_DEPTH}") from None
    except ValueError:
        raise MalformedInput("body", "not JSON") from None
    _depth(value, MAX_JSON_DEPTH)
    return value


def header(value: str | None) -> str | None:
    """A header's value when it is printable ASCII, else None (absent or not sendable)."""
    if value is None or not value.isascii() or not value.isprintable():
        return None
    return value


def token(value: object, max_length: int) -> str | None:
    """``value`` when it is a string of 1 to ``max_length`` printable ASCII characters (an
    identifier another system gave us: a charge id, an order number), else None."""
    if not isinstance(value, str) or not 0 < len(value) <= max_length:
        return None
    return value if value.isascii() and value.isprintable() else None


def whole_number(text: object, low: int, high: int) -> int | None:
    """``text`` as an integer in ``[low, high]`` when it is a string of 1-18 ASCII digits,
    else None (a missing field, an uploaded file, ``²``, ``-1``, 4,300 digits)."""
    if not isinstance(text, str) or not _DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if low <= value <= high else None
