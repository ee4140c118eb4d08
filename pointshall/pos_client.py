"""A small reference client of the POS API (issue 16 §5, §3.6.3): how a terminal signs.

It is written from the README's recipe, not from the server's code, and the POS tests
talk to the server through it. The recipe:

1. ``body_hash = sha256(body).hexdigest()`` over the exact bytes sent (``""`` hashes too).
2. ``string_to_sign = METHOD + "\\n" + PATH + "\\n" + TIMESTAMP + "\\n" + NONCE + "\\n" +
   body_hash`` — the method upper case, the path without host or query, the timestamp in
   Unix seconds as decimal text, the nonce as sent.
3. ``X-Signature = HMAC-SHA256(key, string_to_sign).hexdigest()`` where **key is the
   64-character hex text printed by** ``pointshall merchant terminal add``, **as its ASCII
   bytes** (``key.encode("ascii")``) — not ``bytes.fromhex(key)``: decoding it gives a
   different HMAC key and every call gets ``401 bad_signature``.

Headers: ``X-Terminal-Id``, ``X-Timestamp``, ``X-Nonce`` (16–64 of ``[A-Za-z0-9_-]``, new
for every request), ``X-Signature``, ``Content-Type: application/json``.

From a shell, against ``serve``::

    python -m pointshall.pos_client --url http://127.0.0.1:8080 --terminal T-0001 \\
        --key <hex key> verify --order 261130116288 --password 12345678
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import secrets
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

VERIFY_PATH = "/pos/v1/vouchers/verify"
PAY_PATH = "/pos/v1/payments"


def body_hash(body: bytes) -> str:
    """Step 1: the hex SHA-256 of the exact request body."""
    return hashlib.sha256(body).hexdigest()


def string_to_sign(method: str, path: str, timestamp: int, nonce: str, body: bytes) -> str:
    """Step 2: the five lines joined by ``\\n`` (no trailing newline)."""
    return "\n".join((method.upper(), path, str(timestamp), nonce, body_hash(body)))


def signature(key: str, method: str, path: str, timestamp: int, nonce: str, body: bytes) -> str:
    """Step 3: hex HMAC-SHA256 keyed by the terminal key's hex *text*."""
    message = string_to_sign(method, path, timestamp, nonce, body).encode("utf-8")
    return hmac.new(key.encode("ascii"), message, hashlib.sha256).hexdigest()


def signed_headers(
    terminal_id: str, key: str, method: str, path: str, body: bytes, timestamp: int, nonce: str
) -> dict[str, str]:
    """Every header of one signed request."""
    return {
        "X-Terminal-Id": terminal_id,
        "X-Timestamp": str(timestamp),
        "X-Nonce": nonce,
        "X-Signature": signature(key, method, path, timestamp, nonce, body),
        "Content-Type": "application/json",
    }


def new_nonce() -> str:
    """32 random hex characters: never the same twice."""
    return secrets.token_hex(16)


@dataclass(frozen=True)
class Answer:
    """The HTTP status and the JSON body (``{"ok": true, …}`` or ``{"ok": false, "reason"}``)."""

    status: int
    body: dict[str, Any]


class PosClient:
    """One terminal talking to ``base_url``. ``clock`` gives Unix seconds (the terminal's
    clock must be within 5 minutes of the hall's); ``session`` may be shared."""

    def __init__(
        self,
        base_url: str,
        terminal_id: str,
        key: str,
        *,
        session: aiohttp.ClientSession,
        clock: Callable[[], int] = lambda: int(time.time()),
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.terminal_id = terminal_id
        self._key = key
        self._session = session
        self._clock = clock

    async def post(
        self,
        path: str,
        payload: dict[str, Any],
        *,
        nonce: str | None = None,
        timestamp: int | None = None,
    ) -> Answer:
        """Sign and send ``payload`` as JSON to ``path``."""
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        headers = signed_headers(
            self.terminal_id,
            self._key,
            "POST",
            path,
            body,
            self._clock() if timestamp is None else timestamp,
            nonce or new_nonce(),
        )
        async with self._session.post(self.base_url + path, data=body, headers=headers) as resp:
            return Answer(resp.status, await resp.json(content_type=None))

    async def verify_password(self, order_no: str, password: str, **kw: Any) -> Answer:
        """Verify a voucher by its order number and 8-digit password."""
        return await self.post(VERIFY_PATH, {"order_no": order_no, "password": password}, **kw)

    async def verify_qr(self, token: str, **kw: Any) -> Answer:
        """Verify a voucher by the token its QR code carries."""
        return await self.post(VERIFY_PATH, {"qr_token": token}, **kw)

    async def pay(
        self,
        msisdn: str,
        points_password: str,
        second_password: str,
        points: int,
        idempotency_key: str,
        **kw: Any,
    ) -> Answer:
        """Take ``points`` from the customer's account (§3.6.3); the same key pays once."""
        payload = {
            "msisdn": msisdn,
            "points_password": points_password,
            "second_password": second_password,
            "points": points,
            "idempotency_key": idempotency_key,
        }
        return await self.post(PAY_PATH, payload, **kw)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pointshall.pos_client", description=__doc__)
    parser.add_argument("--url", required=True, help="the hall, e.g. http://127.0.0.1:8080")
    parser.add_argument("--terminal", required=True, help="the terminal id, e.g. T-0001")
    parser.add_argument("--key", required=True, help="the hex key `terminal add` printed")
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser("verify", help="verify a voucher")
    verify.add_argument("--order")
    verify.add_argument("--password")
    verify.add_argument("--qr", help="the QR token instead of order and password")
    pay = commands.add_parser("pay", help="pay with points")
    for name in ("--msisdn", "--points-password", "--second-password", "--key-id"):
        pay.add_argument(name, required=True)
    pay.add_argument("--points", type=int, required=True)
    return parser


async def _main(args: argparse.Namespace) -> Answer:
    async with aiohttp.ClientSession() as session:
        client = PosClient(args.url, args.terminal, args.key, session=session)
        if args.command == "pay":
            return await client.pay(
                args.msisdn, args.points_password, args.second_password, args.points, args.key_id
            )
        if args.qr:
            return await client.verify_qr(args.qr)
        return await client.verify_password(args.order or "", args.password or "")


def main(argv: list[str] | None = None) -> int:
    """Send one request and print the answer; exit 0 on ``ok``, 1 otherwise."""
    args = _parser().parse_args(argv)
    try:
        answer = asyncio.run(_main(args))
    except aiohttp.ClientError as exc:
        print(f"cannot reach {args.url}: {exc}", file=sys.stderr)
        return 1
    print(answer.status, json.dumps(answer.body, ensure_ascii=False))
    return 0 if answer.body.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
