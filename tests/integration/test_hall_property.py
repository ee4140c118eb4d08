"""Property (DESIGN.md §6, §11): any text through the whole hall never fails and always fits.

10,000 arbitrary texts (any Unicode, empty, up to 2,000 characters, and texts made
of real keywords with junk arguments) go through ``Hall.receive`` on a real
database; no reply is an internal error and every reply fits the segment budget.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.messaging import segments
from core.platform.clock import ManualClock
from handlers.grammar import KEYWORDS
from handlers.hall import InboundMessage
from pointshall.bootstrap import Services, bootstrap
from tests.support.helpers import accrue, write_feed
from tests.support.settings import make_settings

SENDERS = ("+8613800138000", "+8613900139999", "+14155550100")
EXAMPLES = 10_000

keyword_texts = st.builds(
    lambda kw, sep, args: kw + sep + " ".join(args),
    st.sampled_from(sorted(KEYWORDS)),
    st.sampled_from(["", " ", "#", "\u3000"]),
    st.lists(st.one_of(st.text(max_size=12), st.integers(-(10**30), 10**30).map(str)), max_size=4),
)
texts = st.one_of(st.text(max_size=2000), keyword_texts, st.just(""))


@pytest.fixture
def hall_loop(
    database_url: str, clock: ManualClock, tmp_path: Path
) -> Iterator[tuple[asyncio.AbstractEventLoop, Services]]:
    loop = asyncio.new_event_loop()
    services = loop.run_until_complete(
        bootstrap(
            make_settings(database_url, rate_limit_per_minute=10**9), clock=clock, upgrade=False
        )
    )
    for sender in SENDERS[:1] + SENDERS[2:]:
        feed = write_feed(tmp_path / "f.csv", [(sender, "2026-10", 123456, 40, 9, "mobile", "")])
        loop.run_until_complete(accrue(services, feed, "2026-10"))
    try:
        yield loop, services
    finally:
        loop.run_until_complete(services.close())
        loop.close()


def test_any_text_is_answered_within_the_budget(
    hall_loop: tuple[asyncio.AbstractEventLoop, Services],
) -> None:
    loop, services = hall_loop
    budget = services.settings.segment_budget

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    @given(text=texts, sender=st.sampled_from(SENDERS))
    def check(text: str, sender: str) -> None:
        msg = InboundMessage(channel="prop", external_id=uuid.uuid4().hex, sender=sender, text=text)
        outcome = loop.run_until_complete(
            services.db.write(partial(services.hall.receive, msg=msg))
        )
        assert outcome.status != "error", (text, outcome)
        assert outcome.reply, "every text gets an answer"
        assert segments.fits(outcome.reply, budget), (text, outcome.reply)

    check()
