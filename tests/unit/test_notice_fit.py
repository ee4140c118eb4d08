"""Names in the hall's own SMS are cut only as far as the segment budget needs (issue 14).

They were cut at 20 characters whatever the room: "Lumiere popcorn combo" reached an
English subscriber as "Lumiere popcorn c..." in a message with room to spare.
"""

from __future__ import annotations

from core.messaging import segments
from core.orders.texts import notice

ARGS = {"no": "261130123456", "password": "12345678", "date": "2027-01-31"}


def test_a_name_that_fits_is_sent_whole() -> None:
    text = notice.fitted(
        "en", "voucher", cut=("item", "merchant"), item="Lumiere popcorn combo",
        merchant="Lumiere Cinemas Grand Plaza", **ARGS,
    )  # fmt: skip
    assert "(Lumiere popcorn combo)" in text and "at Lumiere Cinemas Grand Plaza." in text


def test_long_names_are_cut_alike_to_fit_the_budget_keeping_the_password() -> None:
    for lang, mark in (("en", "..."), ("zh", "…")):
        text = notice.fitted(
            lang, "voucher", cut=("item", "merchant"), item="Popcorn " * 40,
            merchant="Cinema " * 40, **ARGS,
        )  # fmt: skip
        assert segments.fits(text, 2), (lang, segments.count(text))
        assert not segments.fits(text + "x" * 20, 2)  # no room wasted
        assert "12345678" in text and "261130123456" in text and text.count(mark) == 2
