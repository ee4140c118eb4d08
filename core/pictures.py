"""Pictures uploaded by staff for banners and ads, kept in the database (issue 8).

Only PNG, JPEG, GIF and WebP are accepted, recognised by their first bytes (the
declared type is not trusted), up to ``MAX_BYTES``. A banner or ad refers to its
picture as ``picture:{id}``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import Connection, select

from core.admin_errors import Invalid, NotFound
from core.schema import picture

MAX_BYTES = 512 * 1024
REF_PREFIX = "picture:"


@dataclass(frozen=True)
class Picture:
    id: int
    content_type: str
    size: int
    sha256: str
    data: bytes


def sniff(data: bytes) -> str | None:
    """The image type of ``data`` from its magic bytes, or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(data) >= 12 and data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def store(conn: Connection, data: bytes, *, by: str, now: int) -> Picture:
    if not data or len(data) > MAX_BYTES:
        raise Invalid("picture", f"must be 1 to {MAX_BYTES} bytes")
    kind = sniff(data)
    if kind is None:
        raise Invalid("picture", "must be a PNG, JPEG, GIF or WebP image")
    digest = hashlib.sha256(data).hexdigest()
    new_id = conn.execute(
        picture.insert()
        .values(
            content_type=kind,
            sha256=digest,
            size=len(data),
            data=data,
            created_by=by[:64],
            created_at=now,
        )
        .returning(picture.c.id)
    ).scalar_one()
    return Picture(int(new_id), kind, len(data), digest, data)


def load(conn: Connection, picture_id: int) -> Picture:
    row = conn.execute(
        select(
            picture.c.id, picture.c.content_type, picture.c.size, picture.c.sha256, picture.c.data
        ).where(picture.c.id == picture_id)
    ).first()
    if row is None:
        raise NotFound("picture", str(picture_id))
    return Picture(int(row[0]), row[1], int(row[2]), row[3], bytes(row[4]))


def ref(picture_id: int) -> str:
    return f"{REF_PREFIX}{picture_id}"
