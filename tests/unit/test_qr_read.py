"""Reading a voucher's QR code back from a photo (§3.6.1), and what counts as a picture."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from core.catalogue import photos
from core.vouchers import qr
from pointshall.demo_pictures import card

TOKEN = "k3J9x-Qw_2mZ8rT5vB7nL4pY6sD1fG0h"


def jpeg(png: bytes, angle: float = 0, scale: float = 1.0) -> bytes:
    picture = Image.open(io.BytesIO(png)).convert("RGB")
    size = (int(picture.width * scale), int(picture.height * scale))
    picture = picture.resize(size).rotate(angle, expand=True, fillcolor=(255, 255, 255))
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=80)
    return out.getvalue()


@pytest.mark.parametrize(("angle", "scale"), [(0, 1.0), (90, 0.7), (12, 1.5)])
def test_the_token_is_read_from_a_camera_like_photo(angle: float, scale: float) -> None:
    assert qr.read(jpeg(qr.png(TOKEN), angle, scale)) == [TOKEN]


@pytest.mark.parametrize("data", [b"", b"not an image", card("Flask", "2001")])
def test_no_code_reads_as_nothing(data: bytes) -> None:
    assert qr.read(data) == []


def test_only_png_and_jpeg_are_pictures() -> None:
    assert photos.content_type(qr.png(TOKEN)) == "image/png"
    assert photos.content_type(jpeg(qr.png(TOKEN))) == "image/jpeg"
    with pytest.raises(photos.NotAPicture):
        photos.content_type(b"GIF89a....")
    with pytest.raises(photos.NotAPicture):
        photos.content_type(photos.PNG + b"0" * photos.MAX_BYTES)
