"""The command line's error boundary words each failure by what it is (issue 14 item 6)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy.exc import ProgrammingError

from pointshall.cli_errors import describe
from pointshall.config import Settings, problems


def db_error(message: str) -> ProgrammingError:
    return ProgrammingError("SELECT 1", {}, Exception(message))


def test_a_missing_relation_means_not_migrated_but_an_existing_one_does_not() -> None:
    line, code = describe(db_error('relation "orders" does not exist'))
    assert (line, code) == (
        "the database is not at this version's schema: run `pointshall db upgrade`",
        1,
    )
    line, code = describe(db_error('relation "orders" already exists'))
    assert "db upgrade" not in line and code == 1
    assert 'relation "orders" already exists' in line


def test_settings_errors_are_one_line_naming_the_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POINTSHALL_PORT", "70000")
    monkeypatch.setenv("POINTSHALL_TIMEZONE", "Mars/Base")
    with pytest.raises(ValidationError) as caught:
        Settings()
    line = problems(caught.value)
    assert "\n" not in line
    assert line == (
        "POINTSHALL_PORT: Input should be less than or equal to 65535; "
        "POINTSHALL_TIMEZONE: unknown time zone 'Mars/Base'"
    )
