"""The one picture store (§2.2.1, §2.2.3, §2.2.4, §2.2.9; issue 8): item, banner and ad pictures.

The bytes live in the database (one row per subject, ``item:<id>``, ``banner:<id>`` or
``ad:<id>``), so every replica and backup has them. Whoever stores a picture (the command
line, the admin API, the demo) stores it here, and the chat shows exactly that picture. A
chat channel that uploads a picture remembers the id its platform gave the copy
(``telegram_file_id``), so the bytes travel once; replacing the picture forgets it.

Only PNG and JPEG are kept (what the chat sends as a photo), recognised by their first
bytes (a declared type is not trusted), up to ``MAX_BYTES``; one admin API upload carries
at most ``UPLOAD_BYTES`` (its JSON body is capped at 1 MB).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import Connection, select, update

from core.platform import audit
from core.platform.errors import Invalid
from core.platform.schema import photo
from core.platform.sql import insert_ignoring

MAX_BYTES = 5 * 1024 * 1024
"""Telegram's limit for a photo sent as a file is 10 MB; ours is smaller on purpose."""
UPLOAD_BYTES = 512 * 1024
PNG = b"\x89PNG\r\n\x1a\n"
JPEG = b"\xff\xd8\xff"
KINDS = ("item", "banner", "ad")
SUBJECT = r"^(item|banner|ad):[0-9]{1,16}$"
"""The pattern of a subject, for the admin API's ``GET /photos/{subject}``."""


@dataclass(frozen=True)
class Photo:
    subject: str
    content_type: str
    data: bytes
    telegram_file_id: str | None


@dataclass(frozen=True)
class PhotoInfo:
    """What the admin API answers after an upload."""

    subject: str
    content_type: str
    size: int
    sha256: str


class NotAPicture(Invalid, ValueError):
    """Only PNG and JPEG pictures up to ``MAX_BYTES`` are kept (a ``ValueError`` for the
    command line, ``Invalid`` — 422 — for the admin API)."""

    reason_code = "not_a_picture"

    def __init__(self, problem: str) -> None:
        super().__init__("picture", problem)


def item_subject(item_id: int) -> str:
    return f"item:{item_id}"


def banner_subject(banner_id: int) -> str:
    return f"banner:{banner_id}"


def ad_subject(ad_id: int) -> str:
    return f"ad:{ad_id}"


def sniff(data: bytes) -> str | None:
    """The image type of ``data`` from its magic bytes, or None when it is not one we keep."""
    if data.startswith(PNG):
        return "image/png"
    if data.startswith(JPEG):
        return "image/jpeg"
    return None


def content_type(data: bytes, max_bytes: int = MAX_BYTES) -> str:
    if not data or len(data) > max_bytes:
        raise NotAPicture(f"must be 1 to {max_bytes} bytes")
    kind = sniff(data)
    if kind is None:
        raise NotAPicture("not a PNG or JPEG picture")
    return kind


def put(conn: Connection, subject: str, data: bytes, now: int) -> None:
    """Store (or replace) the picture of ``subject``; the same bytes again change nothing."""
    kind = content_type(data)
    conn.execute(
        insert_ignoring(conn, photo, "subject").values(
            subject=subject, content_type=kind, data=data, updated_at=now
        )
    )
    conn.execute(
        update(photo)
        .where((photo.c.subject == subject) & (photo.c.data != data))
        .values(content_type=kind, data=data, telegram_file_id=None, updated_at=now)
    )


def upload(conn: Connection, subject: str, data: bytes, *, by: str, now: int) -> PhotoInfo:
    """A staff upload (admin API): at most ``UPLOAD_BYTES``, stored by ``put``, audited."""
    kind = content_type(data, UPLOAD_BYTES)
    put(conn, subject, data, now)
    digest = hashlib.sha256(data).hexdigest()
    audit.record(
        conn,
        actor_kind="operator",
        actor=by,
        action="photo_put",
        subject=subject,
        result="ok",
        now=now,
        details={"content_type": kind, "size": len(data), "sha256": digest},
    )
    return PhotoInfo(subject, kind, len(data), digest)


def get(conn: Connection, subject: str) -> Photo | None:
    row = conn.execute(
        select(photo.c.subject, photo.c.content_type, photo.c.data, photo.c.telegram_file_id).where(
            photo.c.subject == subject
        )
    ).first()
    return None if row is None else Photo(row[0], row[1], bytes(row[2]), row[3])


def has(conn: Connection, subject: str) -> bool:
    return conn.execute(select(photo.c.id).where(photo.c.subject == subject)).first() is not None


def remember_file_id(conn: Connection, subject: str, file_id: str) -> None:
    conn.execute(update(photo).where(photo.c.subject == subject).values(telegram_file_id=file_id))


def forget_file_id(conn: Connection, subject: str) -> None:
    """The platform no longer knows the copy: upload the bytes again next time."""
    conn.execute(update(photo).where(photo.c.subject == subject).values(telegram_file_id=None))
