"""Every button of the demo mall, pressed from a text message and from a photo message, gets
a visible answer that Telegram accepts (issue 14 items 7 and 8; §2.2.1–2.2.20).

The walk starts at the home screen of a logged-in demo subscriber and presses every button
of every screen it reaches, breadth first, each payload once: on the message that showed
it and on a photo message carrying the same keyboard (as an item's detail is). The fake
Bot API refuses what Telegram refuses (editing the text of a photo, texts and captions over
their limits in UTF-16 units), so any refusal fails the walk, as does a press that shows
nothing: no new message, no change to the pressed one, no answer text.
"""

from __future__ import annotations

import dataclasses
from collections import deque

import pytest
from sqlalchemy import Connection

from core.catalogue import catalogue, photos
from core.catalogue.editing import ItemSpec, upsert_item
from core.platform.clock import ManualClock, epoch
from pointshall import demo
from pointshall.demo_pictures import card
from tests.support.telegram_fake import Shown, callback_update, utf16_units
from tests.support.tg import Chat, open_chat, payloads

MAX_PRESSES = 400
"""A bound on the walk (a safety net; the demo mall has far fewer distinct buttons)."""
ONE_WAY = ("co s", "o x", "z d", "r s", "m n", "S", "q ")
"""Payloads that start a flow the walk cannot finish (submitting, cancelling, prompting):
pressed once from a text message only, where their answer is still checked."""


def _as_photo(chat: Chat, shown: Shown) -> Shown:
    """A photo message in the chat carrying ``shown``'s text as caption and its keyboard."""
    return chat.fake.photo_message(chat.chat_id, shown.text[:900], shown.reply_markup)


async def _press(chat: Chat, on: Shown, data: str) -> tuple[list[Shown], bool]:
    """Press ``data`` on ``on``: what was newly sent, and whether anything was visible."""
    before = dataclasses.replace(chat.fake.messages[on.message_id])
    answers = len(chat.fake.called("answerCallbackQuery"))
    sent = await chat.send(callback_update(chat.uid(), chat.chat_id, on, data))
    after = chat.fake.messages[on.message_id]
    changed = (after.text, after.reply_markup) != (before.text, before.reply_markup)
    told = any(p.get("text") for p in chat.fake.called("answerCallbackQuery")[answers:])
    return sent, bool(sent) or changed or told


@pytest.mark.slow
async def test_every_button_of_the_demo_mall_answers_from_text_and_photo_messages(
    database_url: str, clock: ManualClock
) -> None:
    async with open_chat(database_url, clock, drain=False) as chat:
        await demo.seed(chat.services)
        await chat.log_in()
        home = (await chat.say("/start"))[-1]
        queue: deque[Shown] = deque([home])
        seen: set[str] = set()
        presses = 0
        while queue and presses < MAX_PRESSES:
            screen = queue.popleft()
            for data in payloads(screen):
                payload = chat.codec.decode(data)
                assert payload is not None, data
                if payload in seen:
                    continue
                seen.add(payload)
                ways = (
                    [screen] if payload.startswith(ONE_WAY) else [screen, _as_photo(chat, screen)]
                )
                for on in ways:
                    current = chat.fake.messages[on.message_id]
                    sent, visible = await _press(chat, current, data)
                    presses += 1
                    assert visible, f"{payload!r} from a {'photo' if on.photo else 'text'}"
                    assert chat.fake.refused == [], (payload, chat.fake.refused)
                    queue.extend(s for s in sent if s.reply_markup)
                    edited = chat.fake.messages[on.message_id]
                    if edited.reply_markup and not on.photo:
                        queue.append(edited)
        assert presses > 40, f"the walk pressed only {presses} buttons"
        kinds = {p.split(" ", 1)[0] for p in seen}
        assert {"g", "x", "F", "Q", "a", "k", "o", "f", "h"} <= kinds, kinds


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_detail_caption_of_500_emoji_fits_telegram(
    database_url: str, clock: ManualClock, lang: str
) -> None:
    """Issue 14 item 7: 500 emoji are 1,000 UTF-16 units, not 500 (the English caption came
    to 1,046 units): the caption is cut to 1,024 units on a code-point boundary and Telegram
    (the strict fake) takes it. 520 emoji: over the limit in either language."""
    async with open_chat(database_url, clock, drain=False) as chat:
        await demo.seed(chat.services)
        now = epoch(clock.now())
        emoji = "🧤" * 520

        def item_with_photo(conn: Connection) -> None:
            spec = ItemSpec("7001", "暖手宝", "Hand warmer", "2", "physical", 600)
            spec = dataclasses.replace(spec, description_zh=emoji, description_en=emoji)
            upsert_item(conn, spec, now)
            found = catalogue.find_item(conn, "7001")
            assert found is not None
            photos.put(conn, photos.item_subject(found.id), card("Gloves", "7001"), now)

        await chat.services.db.write(item_with_photo)
        await chat.log_in()
        if lang == "en":
            await chat.say("EN")
        start = (await chat.say("/start"))[-1]
        shown = await chat.tap("x 7001", on=start)
        assert shown.photo
        assert utf16_units(shown.text) <= 1024 < utf16_units(shown.text.rstrip("…") + emoji)
        assert shown.text.endswith("…") and "\ufffd" not in shown.text
        assert chat.fake.refused == []
