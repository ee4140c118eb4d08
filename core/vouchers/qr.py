"""The voucher's QR code (§3.6.1): a PNG carrying the opaque token, made with ``qrcode``;
read back from a merchant's photo with ``zxing-cpp``."""

from __future__ import annotations

import io

import qrcode
import zxingcpp
from PIL import Image, UnidentifiedImageError
from qrcode.constants import ERROR_CORRECT_M

BOX_SIZE = 8
BORDER = 4


def png(token: str) -> bytes:
    """Render ``token`` as a QR code PNG (error correction M, quiet zone of 4 modules)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=BOX_SIZE, border=BORDER)
    code.add_data(token)
    code.make(fit=True)
    out = io.BytesIO()
    code.make_image().save(out)
    return out.getvalue()


MAX_PIXELS = 40_000_000
"""A photo larger than this is refused before decoding (a decompression bomb)."""


def read(image: bytes) -> list[str]:
    """The texts of the QR codes found in a photo (PNG/JPEG bytes); empty when none is legible."""
    try:
        with Image.open(io.BytesIO(image)) as picture:
            if picture.width * picture.height > MAX_PIXELS:
                return []
            found = zxingcpp.read_barcodes(picture.convert("L"))
    except (UnidentifiedImageError, OSError, ValueError):
        return []
    return [r.text for r in found if r.format == zxingcpp.BarcodeFormat.QRCode and r.text]
