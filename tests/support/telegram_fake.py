"""A fake Telegram Bot API: a small aiohttp app answering python-telegram-bot in the real JSON.

It records every call and keeps what each chat was shown, so tests read the
conversation the way the user would. Only the methods the bot uses exist; any
other answers 404 like the real server.

It is as strict as Telegram where the bot could go wrong (core.telegram.org/bots/api):
texts (1–4096), captions (0–1024) and callback answers (0–200) are measured in UTF-16
code units, as Telegram measures them; a photo message has no text to edit and a text
message no caption; a button needs a label and at most 64 bytes of callback data.
Every refusal is also kept in ``refused`` so a test can assert there was none.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_ID = 7_000_000_001
BOT_USER = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "Points Hall",
    "username": "pointshall_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


@dataclass
class Shown:
    """One message as the chat sees it now (edits replace text and keyboard)."""

    message_id: int
    chat_id: int
    text: str
    reply_markup: dict[str, Any] | None = None
    photo: bool = False
    photo_file: str | None = None
    """The file id of the picture shown, when ``photo``."""


MESSAGE_TEXT = 4096
CAPTION = 1024
CALLBACK_ANSWER = 200
CALLBACK_DATA_BYTES = 64


def utf16_units(text: str) -> int:
    """A text's length as Telegram counts it."""
    return len(text.encode("utf-16-le")) // 2


class ApiError(Exception):
    """Answered as ``{"ok": false, ...}`` with this code and description, like the real server."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


@dataclass
class FakeTelegram:
    token: str
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    messages: dict[int, Shown] = field(default_factory=dict)
    webhook: dict[str, Any] | None = None
    updates: list[dict[str, Any]] = field(default_factory=list)
    """What ``getUpdates`` hands out (polling mode)."""
    shown: asyncio.Event = field(default_factory=asyncio.Event)
    """Set whenever a message is shown to a chat."""
    files: dict[str, bytes] = field(default_factory=dict)
    """Every file the server holds by file id: photos the bot uploaded or users sent."""
    uploads: list[bytes] = field(default_factory=list)
    """The bytes of every photo the bot uploaded (not those it sent by file id)."""
    photos: dict[int, bytes] = field(default_factory=dict)
    """The uploaded picture of each photo message, by message id."""
    refused: list[tuple[str, str]] = field(default_factory=list)
    """``(method, description)`` of every call answered with an error (as the bot saw it)."""
    failures: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    """Answers to give to the next sendMessage/sendPhoto calls instead of sending:
    ``(429, {"retry_after": 3})``, ``(409, {})``, ``(502, {})``…, one per call, in order."""
    _next_id: int = 1
    _next_file: int = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self.handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self.download)
        return app

    def upload(self, data: bytes) -> str:
        """Keep ``data`` as a file (what a user's photo becomes); its file id."""
        self._next_file += 1
        file_id = f"AgAC{self._next_file:04d}"
        self.files[file_id] = data
        return file_id

    async def download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        file_id = request.match_info["path"].removeprefix("photos/").rsplit(".", 1)[0]
        if file_id not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[file_id], content_type="image/jpeg")

    async def handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        params = await _params(request)
        self.calls.append((method, params))
        if method == "getUpdates":
            return web.json_response({"ok": True, "result": await self._poll(params)})
        if method in ("sendMessage", "sendPhoto") and self.failures:
            code, parameters = self.failures.pop(0)
            body: dict[str, Any] = {"ok": False, "error_code": code, "description": f"E{code}"}
            if parameters:
                body["parameters"] = parameters
            return web.json_response(body, status=code)
        answer: Callable[[dict[str, Any]], Any] | None = getattr(self, f"_{method}", None)
        if answer is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        try:
            _check_markup(params.get("reply_markup"))
            result = answer(params)
        except ApiError as exc:
            self.refused.append((method, exc.description))
            return web.json_response(
                {"ok": False, "error_code": exc.code, "description": exc.description},
                status=exc.code,
            )
        return web.json_response({"ok": True, "result": result})

    # ------------------------------------------------------------------ methods

    async def _poll(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(p.get("offset") or 0)
        pending = [u for u in self.updates if u["update_id"] >= offset]
        if not pending:
            await asyncio.sleep(0.1)  # a short long-poll
        return pending

    def _getMe(self, _p: dict[str, Any]) -> dict[str, Any]:
        return BOT_USER

    def _setWebhook(self, p: dict[str, Any]) -> bool:
        self.webhook = p
        return True

    def _deleteWebhook(self, _p: dict[str, Any]) -> bool:
        self.webhook = None
        return True

    def _answerCallbackQuery(self, p: dict[str, Any]) -> bool:
        if utf16_units(str(p.get("text") or "")) > CALLBACK_ANSWER:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    def _sendMessage(self, p: dict[str, Any]) -> dict[str, Any]:
        return self._show(int(p["chat_id"]), _text(p), p.get("reply_markup"))

    def _sendPhoto(self, p: dict[str, Any]) -> dict[str, Any]:
        photo = p.get("photo")
        if isinstance(photo, str) and photo.startswith("attach://"):
            photo = p.get(photo.removeprefix("attach://"))
        if isinstance(photo, web.FileField):
            file_id = self.upload(photo.file.read())
            self.uploads.append(self.files[file_id])
        elif isinstance(photo, str) and photo in self.files:
            file_id = photo
        else:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        caption = _caption(p)
        shown = self._show(int(p["chat_id"]), caption, p.get("reply_markup"), True)
        self.messages[shown["message_id"]].photo_file = file_id
        self.photos[int(shown["message_id"])] = self.files[file_id]
        return self.message_json(self.messages[shown["message_id"]])

    def _getFile(self, p: dict[str, Any]) -> dict[str, Any]:
        file_id = str(p["file_id"])
        if file_id not in self.files:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": len(self.files[file_id]),
            "file_path": f"photos/{file_id}.jpg",
        }

    def _editMessageText(self, p: dict[str, Any]) -> dict[str, Any]:
        shown = self._message(p)
        if shown.photo:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        text = _text(p)
        if shown.text == text and shown.reply_markup == p.get("reply_markup"):
            raise ApiError(400, "Bad Request: message is not modified")
        shown.text, shown.reply_markup = text, p.get("reply_markup")
        return self.message_json(shown)

    def _editMessageCaption(self, p: dict[str, Any]) -> dict[str, Any]:
        shown = self._message(p)
        if not shown.photo:
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        caption = _caption(p)
        if shown.text == caption and shown.reply_markup == p.get("reply_markup"):
            raise ApiError(400, "Bad Request: message is not modified")
        shown.text, shown.reply_markup = caption, p.get("reply_markup")
        return self.message_json(shown)

    def _message(self, p: dict[str, Any]) -> Shown:
        found = self.messages.get(int(p["message_id"]))
        if found is None or found.chat_id != int(p["chat_id"]):
            raise ApiError(400, "Bad Request: message to edit not found")
        return found

    def _editMessageReplyMarkup(self, p: dict[str, Any]) -> dict[str, Any]:
        shown = self._message(p)
        shown.reply_markup = p.get("reply_markup")
        return self.message_json(shown)

    # ------------------------------------------------------------------ helpers

    def _show(
        self, chat_id: int, text: str, markup: dict[str, Any] | None, photo: bool = False
    ) -> dict[str, Any]:
        shown = Shown(self._next_id, chat_id, text, markup, photo)
        self._next_id += 1
        self.messages[shown.message_id] = shown
        self.shown.set()
        return self.message_json(shown)

    @staticmethod
    def message_json(shown: Shown) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": shown.message_id,
            "date": int(time.time()),
            "chat": {"id": shown.chat_id, "type": "private"},
            "from": BOT_USER,
        }
        if shown.photo:
            message["photo"] = [
                {
                    "file_id": shown.photo_file or f"p{shown.message_id}",
                    "file_unique_id": "u",
                    "width": 1,
                    "height": 1,
                }
            ]
            message["caption"] = shown.text
        else:
            message["text"] = shown.text
        if shown.reply_markup and "inline_keyboard" in shown.reply_markup:
            message["reply_markup"] = shown.reply_markup
        return message

    def photo_message(self, chat_id: int, caption: str, markup: dict[str, Any] | None) -> Shown:
        """A photo message the bot showed ``chat_id`` earlier, with this caption and keyboard
        (to press its buttons as a user would on an item's picture)."""
        file_id = self.upload(b"\xff\xd8 a picture")
        shown = self.messages[int(self._show(chat_id, caption, markup, True)["message_id"])]
        shown.photo_file = file_id
        return shown

    def shown_to(self, chat_id: int) -> list[Shown]:
        return [m for m in self.messages.values() if m.chat_id == chat_id]

    def called(self, method: str) -> list[dict[str, Any]]:
        return [p for m, p in self.calls if m == method]


def _text(p: dict[str, Any]) -> str:
    text = str(p.get("text") or "")
    if not text.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if utf16_units(text) > MESSAGE_TEXT:
        raise ApiError(400, "Bad Request: message is too long")
    return text


def _caption(p: dict[str, Any]) -> str:
    caption = str(p.get("caption") or "")
    if utf16_units(caption) > CAPTION:
        raise ApiError(400, "Bad Request: message caption is too long")
    return caption


def _check_markup(markup: Any) -> None:
    """Inline buttons need a label and at most 64 bytes of callback data."""
    if not isinstance(markup, dict):
        return
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if not str(button.get("text") or "").strip():
                raise ApiError(
                    400, "Bad Request: text buttons are unallowed in the inline keyboard"
                )
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= CALLBACK_DATA_BYTES:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")


async def _params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        body: dict[str, Any] = await request.json()
        return body
    form = await request.post()
    params: dict[str, Any] = {}
    for key, value in form.items():
        if isinstance(value, str) and value[:1] in ("{", "["):
            params[key] = json.loads(value)
        else:
            params[key] = value
    return params


# ---------------------------------------------------------------- updates, as Telegram sends


def user(chat_id: int, lang: str = "zh-hans") -> dict[str, Any]:
    return {"id": chat_id, "is_bot": False, "first_name": "Wei", "language_code": lang}


def text_update(update_id: int, chat_id: int, text: str, lang: str = "zh-hans") -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": update_id,
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private"},
        "from": user(chat_id, lang),
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": update_id, "message": message}


def contact_update(update_id: int, chat_id: int, phone: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": user(chat_id),
            "contact": {"phone_number": phone, "first_name": "Wei", "user_id": chat_id},
        },
    }


def photo_update(update_id: int, chat_id: int, file_id: str) -> dict[str, Any]:
    """A user sends a photo (already ``FakeTelegram.upload``-ed as ``file_id``)."""
    sizes = [{"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 640, "height": 640}]
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": user(chat_id),
            "photo": sizes,
        },
    }


def callback_update(update_id: int, chat_id: int, shown: Shown, data: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"cb{update_id}",
            "from": user(chat_id),
            "chat_instance": f"ci{chat_id}",
            "data": data,
            "message": FakeTelegram.message_json(shown),
        },
    }
