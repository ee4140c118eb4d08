"""One picture store: the admin API's ``picture`` and ``ad_image`` folded into ``photo``

Banner pictures referred to as ``picture:{id}`` become the photo of ``banner:<id>`` (the
picture the chat shows) and ads' pictures the photo of ``ad:<id>``; only PNG and JPEG are
moved (what ``core.catalogue.photos`` keeps). A banner that already had a photo keeps it.

Revision ID: 0013m
Revises: 0009c
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013m"
down_revision: str | None = "0009c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
KEPT = ("image/png", "image/jpeg")

picture = sa.table(
    "picture",
    sa.column("id", ID),
    sa.column("content_type", sa.String),
    sa.column("data", sa.LargeBinary),
    sa.column("created_at", sa.BigInteger),
)
ad_image = sa.table("ad_image", sa.column("ad_id", ID), sa.column("image", sa.String))
banner = sa.table("banner", sa.column("id", ID), sa.column("image", sa.String))
photo = sa.table(
    "photo",
    sa.column("subject", sa.String),
    sa.column("content_type", sa.String),
    sa.column("data", sa.LargeBinary),
    sa.column("updated_at", sa.BigInteger),
)


def _move(conn: sa.Connection, subject: str, ref: str) -> None:
    if not ref.startswith("picture:") or not ref[8:].isdigit():
        return
    row = conn.execute(
        sa.select(picture.c.content_type, picture.c.data, picture.c.created_at).where(
            picture.c.id == int(ref[8:])
        )
    ).first()
    if row is None or row[0] not in KEPT:
        return
    if conn.execute(sa.select(photo.c.subject).where(photo.c.subject == subject)).first():
        return
    conn.execute(
        photo.insert().values(subject=subject, content_type=row[0], data=row[1], updated_at=row[2])
    )


def upgrade() -> None:
    conn = op.get_bind()
    for banner_id, ref in conn.execute(
        sa.select(banner.c.id, banner.c.image).where(banner.c.image.like("picture:%"))
    ).all():
        _move(conn, f"banner:{banner_id}", ref)
        conn.execute(banner.update().where(banner.c.id == banner_id).values(image=None))
    for ad_id, ref in conn.execute(sa.select(ad_image.c.ad_id, ad_image.c.image)).all():
        _move(conn, f"ad:{ad_id}", ref)
    op.drop_table("ad_image")
    op.drop_table("picture")


def downgrade() -> None:
    # The pictures stay in ``photo``; the two tables come back empty.
    op.create_table(
        "picture",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_picture")),
    )
    op.create_table(
        "ad_image",
        sa.Column("ad_id", ID, nullable=False),
        sa.Column("image", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(["ad_id"], ["ad.id"], name=op.f("fk_ad_image_ad_id_ad")),
        sa.PrimaryKeyConstraint("ad_id", name=op.f("pk_ad_image")),
    )
