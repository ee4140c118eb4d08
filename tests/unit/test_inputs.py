"""The checks every HTTP adapter reads its request through (issue 13 §6, core.platform.inputs)."""

from __future__ import annotations

import pytest

from core.platform import inputs
from core.platform.inputs import MalformedInput, UnsupportedContent

FORM = inputs.FORM_TYPE


def test_a_form_is_urlencoded_utf8_and_nothing_else() -> None:
    body = b"Body=JF%20%E7%A7%AF%E5%88%86&From=%2B8613800138000&x="
    assert inputs.form_pairs(body, FORM, None) == [
        ("Body", "JF 积分"),
        ("From", "+8613800138000"),
        ("x", ""),
    ]
    assert inputs.form_pairs(body, FORM, "UTF-8") == inputs.form_pairs(body, FORM, "us-ascii")
    assert inputs.form_pairs(b"", "application/octet-stream", None) == []
    for kind, charset in (
        ("multipart/form-data", None),
        ("application/json", None),
        (FORM, "latin-1"),
        (FORM, "x-no-such"),
        (FORM, "base64"),
        (FORM, "utf-7"),
    ):
        with pytest.raises(UnsupportedContent):
            inputs.form_pairs(b"a=1", kind, charset)
    for body in (b"a=%FF", b"a=\xff", b"a=%C3"):
        with pytest.raises(MalformedInput, match="not UTF-8"):
            inputs.form_pairs(body, FORM, None)
    for body in (b"a=%00", b"%00=1", b"a=x\x00y"):
        with pytest.raises(MalformedInput, match="NUL"):
            inputs.form_pairs(body, FORM, None)
    with pytest.raises(MalformedInput, match="fields"):
        inputs.form_pairs(b"&".join([b"a=1"] * (inputs.MAX_FORM_FIELDS + 1)), FORM, None)


def test_json_is_utf8_and_shallow() -> None:
    assert inputs.json_body(b'{"a": [1, {"b": 2}]}') == {"a": [1, {"b": 2}]}
    assert inputs.json_body(b"", empty={}) == {}
    assert inputs.json_body(b"[" * 32 + b"]" * 32) is not None
    for body in (
        b"[" * 33 + b"]" * 33,
        b"[" * 100_000 + b"]" * 100_000,
        b'"\xff"',
        b"{",
        b"9" * 5000,
        "[1]".encode("utf-16"),
    ):
        with pytest.raises(MalformedInput):
            inputs.json_body(body)


def test_headers_whole_numbers_and_charsets() -> None:
    assert inputs.header("t=1,v1=ab") == "t=1,v1=ab"
    for value in (None, "\udce9", "é", "a\x00b", "a\tb"):
        assert inputs.header(value) is None
    assert inputs.token("ch_123", 64) == "ch_123"
    for value in (None, 7, "", "x" * 65, "ch\x00", "é", "a b\n"):
        assert inputs.token(value, 64) is None, value
    assert inputs.whole_number("0042", 1, 100) == 42
    for text in (None, "", "²", "١٢", "９", "-1", "+1", " 1", "1e3", "0x1", "9" * 19, "101"):
        assert inputs.whole_number(text, 1, 100) is None, text
    assert inputs.charset("UTF-16BE") == "utf_16_be"
    assert inputs.charset("ISO-8859-1") == "iso8859_1"
    assert inputs.charset("GB18030") == "gb18030"
    for name in (
        "base64",
        "rot13",
        "idna",
        "punycode",
        "unicode_escape",
        "utf-7",
        "undefined",
        "x",
    ):
        assert inputs.charset(name) is None, name
