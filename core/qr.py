"""The voucher's QR code (§3.6.1): a PNG carrying the opaque token, made with ``qrcode``."""

from __future__ import annotations

import io

import qrcode
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
