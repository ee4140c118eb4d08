"""The POS signing recipe in the README is true (issue 16 §5): its worked example is what the
reference client (``pointshall.pos_client``) and the server (``api.pos``) compute, and the
key decoded to bytes gives the other signature it warns about."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from api.pos import sign as server_sign
from pointshall.pos_client import VERIFY_PATH, body_hash, signature, signed_headers, string_to_sign

README = (Path(__file__).parents[2] / "README.md").read_text()
KEY = "650cb459f95efd8c4c65800175f814b118dd87fdccde8cbe386f594da99a2a80"
BODY = b'{"order_no": "261130116288", "password": "12345678"}'
TS, NONCE = 1764460800, "a1b2c3d4e5f60718293a4b5c6d7e8f90"
HASH = "743e39fa26f44fb9359af22d0f01f77f46ca3a88e5a02c7a94af1447f7cfa6d9"
SIGNATURE = "abe99e6cee0ec3d20842720d1d265231d1a2e0a784db16f77faf2e9d879f8f03"
DECODED = "dcd12fdf918cf1326826321a3bcf88c95c8c4f2eb8e0d286a9141e3530045a5b"


def test_the_worked_example_is_in_the_readme() -> None:
    for value in (KEY, BODY.decode(), str(TS), NONCE, HASH, SIGNATURE, DECODED):
        assert value in README, value


def test_the_reference_client_computes_the_worked_example() -> None:
    assert body_hash(BODY) == HASH
    assert string_to_sign("post", VERIFY_PATH, TS, NONCE, BODY) == (
        f"POST\n/pos/v1/vouchers/verify\n{TS}\n{NONCE}\n{HASH}"
    )
    assert signature(KEY, "POST", VERIFY_PATH, TS, NONCE, BODY) == SIGNATURE
    headers = signed_headers("T-0001", KEY, "POST", VERIFY_PATH, BODY, TS, NONCE)
    assert headers == {
        "X-Terminal-Id": "T-0001",
        "X-Timestamp": str(TS),
        "X-Nonce": NONCE,
        "X-Signature": SIGNATURE,
        "Content-Type": "application/json",
    }


def test_the_server_agrees_and_a_decoded_key_does_not() -> None:
    assert server_sign(KEY, "POST", VERIFY_PATH, str(TS), NONCE, BODY) == SIGNATURE
    message = string_to_sign("POST", VERIFY_PATH, TS, NONCE, BODY).encode()
    assert hmac.new(bytes.fromhex(KEY), message, hashlib.sha256).hexdigest() == DECODED
