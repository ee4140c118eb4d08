"""POS API (issue 4, §3.6.3, DESIGN §7): signed requests, voucher verification, points payment."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import Connection, func, select

from core.platform.clock import ManualClock, epoch
from core.platform.schema import entry, pos_nonce, voucher
from core.points import doctor
from core.subscribers import password_locks, passwords, subscribers
from pointshall import pos_client
from pointshall.app import build_app
from pointshall.bootstrap import Services
from pointshall.pos_client import PosClient, new_nonce, signed_headers, string_to_sign
from tests.support.merchant_helpers import ALICE, buy, merchant_mall, texts_to

VERIFY = "/pos/v1/vouchers/verify"
PAY = "/pos/v1/payments"


@pytest.fixture
async def pos(
    services: Services, tmp_path: Path
) -> AsyncIterator[tuple[TestClient, dict[str, str]]]:
    keys = await merchant_mall(services, tmp_path)
    async with TestClient(TestServer(build_app(services))) as client:
        yield client, keys


async def call(
    client: TestClient,
    services: Services,
    path: str,
    payload: dict[str, Any],
    *,
    terminal: str,
    key: str,
    skew: int = 0,
    nonce: str | None = None,
    tamper: bool = False,
) -> tuple[int, dict[str, Any]]:
    """One request through the reference client (``pointshall.pos_client``); ``tamper``
    changes the body after it was signed."""
    ts = epoch(services.clock.now()) + skew
    if tamper:
        body = json.dumps(payload).encode()
        headers = signed_headers(terminal, key, "POST", path, body, ts, nonce or new_nonce())
        resp = await client.post(path, data=body.replace(b"}", b', "x": 1}'), headers=headers)
        return resp.status, await resp.json()
    terminal_client = PosClient(str(client.make_url("")), terminal, key, session=client.session)
    answer = await terminal_client.post(path, payload, nonce=nonce, timestamp=ts)
    return answer.status, answer.body


async def voucher_status(services: Services, no: str) -> str:
    def q(conn: Connection) -> str:
        from core.platform.schema import orders

        return str(
            conn.execute(
                select(voucher.c.status)
                .join(orders, orders.c.id == voucher.c.order_id)
                .where(orders.c.no == no)
            ).scalar_one()
        )

    return await services.db.read(q)


async def counts(services: Services) -> tuple[int, int]:
    def q(conn: Connection) -> tuple[int, int]:
        nonces = conn.execute(select(func.count()).select_from(pos_nonce)).scalar_one()
        entries = conn.execute(select(func.count()).select_from(entry)).scalar_one()
        return int(nonces), int(entries)

    return await services.db.read(q)


async def test_terminal_verifies_by_password_and_by_qr(
    pos: tuple[TestClient, dict[str, str]], services: Services
) -> None:
    client, keys = pos
    first, second = await buy(services), await buy(services)
    status, body = await call(
        client,
        services,
        VERIFY,
        {"order_no": first.no, "password": first.password},
        terminal="T-A",
        key=keys["T-A"],
    )
    assert (status, body["ok"], body["order_no"]) == (200, True, first.no)
    status, body = await call(
        client, services, VERIFY, {"qr_token": second.token}, terminal="T-A", key=keys["T-A"]
    )
    assert (status, body["ok"], body["order_no"]) == (200, True, second.no)
    status, body = await call(
        client, services, VERIFY, {"qr_token": second.token}, terminal="T-A", key=keys["T-A"]
    )
    assert (status, body) == (409, {"ok": False, "reason": "already_used", "order_no": second.no})


async def test_other_merchants_terminal_gets_nothing(
    pos: tuple[TestClient, dict[str, str]], services: Services
) -> None:
    client, keys = pos
    bought = await buy(services)  # M1's voucher; T-B belongs to M2
    for payload in (
        {"order_no": bought.no, "password": bought.password},
        {"qr_token": bought.token},
    ):
        status, body = await call(
            client, services, VERIFY, payload, terminal="T-B", key=keys["T-B"]
        )
        assert (status, body["reason"]) == (403, "not_your_voucher")
    # Signing as T-A with T-B's key is a bad signature.
    status, body = await call(
        client, services, VERIFY, {"qr_token": bought.token}, terminal="T-A", key=keys["T-B"]
    )
    assert (status, body["reason"]) == (401, "bad_signature")
    assert await voucher_status(services, bought.no) == "issued"


async def test_bad_signature_old_timestamp_and_replay_are_refused_without_effect(
    pos: tuple[TestClient, dict[str, str]], services: Services
) -> None:
    client, keys = pos
    bought = await buy(services)
    payload = {"qr_token": bought.token}
    before = await counts(services)
    for kwargs, reason in (
        ({"tamper": True}, "bad_signature"),
        ({"skew": -301}, "stale_timestamp"),
        ({"skew": 400}, "stale_timestamp"),
    ):
        status, body = await call(
            client, services, VERIFY, payload, terminal="T-A", key=keys["T-A"], **kwargs
        )
        assert (status, body) == (401, {"ok": False, "reason": reason})
    status, body = await call(client, services, VERIFY, payload, terminal="T-X", key=keys["T-A"])
    assert (status, body["reason"]) == (401, "bad_signature")
    resp = await client.post(VERIFY, json=payload)
    assert resp.status == 401
    assert await counts(services) == before
    assert await voucher_status(services, bought.no) == "issued"
    nonce = secrets.token_hex(16)
    status, _ = await call(
        client,
        services,
        VERIFY,
        {"order_no": bought.no, "password": "00000000"},
        terminal="T-A",
        key=keys["T-A"],
        nonce=nonce,
    )
    assert status == 422
    status, body = await call(
        client, services, VERIFY, payload, terminal="T-A", key=keys["T-A"], nonce=nonce
    )
    assert (status, body) == (401, {"ok": False, "reason": "replayed_nonce"})
    assert await voucher_status(services, bought.no) == "issued"


async def set_passwords(services: Services, msisdn: str, first: str, second: str) -> None:
    now = epoch(services.clock.now())

    def unit(conn: Connection) -> None:
        sub = subscribers.find(conn, msisdn)
        assert sub is not None
        passwords.set_passwords(
            conn,
            subscriber_id=sub.id,
            msisdn=msisdn,
            points_password=first,
            second_password=second,
            now=now,
            keyring=services.keyring,
        )

    await services.db.write(unit)


async def test_points_payment_with_both_passwords_is_idempotent(
    pos: tuple[TestClient, dict[str, str]], services: Services
) -> None:
    client, keys = pos
    await set_passwords(services, ALICE, "135790", "246801")
    payment = {
        "msisdn": "13800138000",
        "points_password": "135790",
        "second_password": "246801",
        "points": 1200,
        "idempotency_key": "receipt-1",
    }
    status, body = await call(client, services, PAY, payment, terminal="T-A", key=keys["T-A"])
    assert (status, body["ok"], body["points"], body["balance"]) == (200, True, 1200, 48_800)
    status, body = await call(client, services, PAY, payment, terminal="T-A", key=keys["T-A"])
    assert (status, body["balance"], body["repeated"]) == (200, 48_800, True)
    assert any("1,200" in t for t in await texts_to(services, ALICE))
    status, body = await call(
        client, services, PAY, {**payment, "points": 5}, terminal="T-A", key=keys["T-A"]
    )
    assert (status, body["reason"]) == (409, "idempotency_key_reused")
    status, body = await call(
        client,
        services,
        PAY,
        {**payment, "points": 10**6, "idempotency_key": "receipt-2"},
        terminal="T-A",
        key=keys["T-A"],
    )
    assert (status, body["reason"], body["available"]) == (409, "insufficient_points", 48_800)
    report = await services.db.read(doctor.examine)
    assert report.ok


async def test_wrong_passwords_refuse_payment_then_lock(
    pos: tuple[TestClient, dict[str, str]], services: Services
) -> None:
    client, keys = pos
    base = {"msisdn": ALICE, "points": 100}
    status, body = await call(
        client,
        services,
        PAY,
        {**base, "points_password": "111111", "second_password": "222222", "idempotency_key": "a"},
        terminal="T-A",
        key=keys["T-A"],
    )
    assert (status, body["reason"]) == (422, "no_password")
    await set_passwords(services, ALICE, "135790", "246801")
    reasons = []
    for i, (first, second) in enumerate(
        [("000000", "246801"), ("135790", "000000"), ("000000", "0"), ("1", "2"), ("3", "4")]
    ):
        status, body = await call(
            client,
            services,
            PAY,
            {
                **base,
                "points_password": first,
                "second_password": second,
                "idempotency_key": f"w{i}",
            },
            terminal="T-A",
            key=keys["T-A"],
        )
        reasons.append((status, body["reason"], body["tries_left"]))
    assert reasons == [
        (422, "wrong_points_password", 4),
        (422, "wrong_second_password", 3),
        (422, "wrong_points_password", 2),
        (422, "wrong_points_password", 1),
        (422, "wrong_points_password", 0),
    ]
    status, body = await call(
        client,
        services,
        PAY,
        {**base, "points_password": "135790", "second_password": "246801", "idempotency_key": "ok"},
        terminal="T-A",
        key=keys["T-A"],
    )
    assert (status, body["reason"]) == (422, "password_locked")
    assert body["retry_after"] == password_locks.BACKOFF_SECONDS
    assert (await counts(services))[1] == 1  # only the accrual entry


async def pay_at(
    client: TestClient,
    services: Services,
    keys: dict[str, str],
    terminal: str,
    first: str,
    key: str,
    second: str = "246801",
) -> tuple[int, dict[str, Any]]:
    payment = {
        "msisdn": ALICE,
        "points": 100,
        "points_password": first,
        "second_password": second,
        "idempotency_key": key,
    }
    return await call(client, services, PAY, payment, terminal=terminal, key=keys[terminal])


async def lock_out(
    client: TestClient, services: Services, keys: dict[str, str], terminal: str, tag: str
) -> tuple[int, dict[str, Any]]:
    """Five wrong points passwords at ``terminal``: the last answer."""
    answer: tuple[int, dict[str, Any]] = (0, {})
    for i in range(password_locks.MAX_WRONG):
        answer = await pay_at(client, services, keys, terminal, "000000", f"{tag}{i}")
    return answer


async def test_a_lock_out_pauses_one_terminal_not_the_subscriber(
    pos: tuple[TestClient, dict[str, str]], services: Services
) -> None:
    """Issue 13 §4: any merchant's terminal could lock any subscriber's POS payments with five
    wrong passwords. Now it pauses itself only, the subscriber is told and can lift it."""
    client, keys = pos
    await set_passwords(services, ALICE, "135790", "246801")
    status, body = await lock_out(client, services, keys, "T-B", "evil")
    assert (status, body["reason"], body["tries_left"]) == (422, "wrong_points_password", 0)
    assert body["retry_after"] == 15 * 60
    told = [t for t in await texts_to(services, ALICE) if "MM" in t and "T-B" in t]
    assert len(told) == 1 and "15分钟" in told[0] and "其他商户不受影响" in told[0]
    status, body = await pay_at(client, services, keys, "T-B", "135790", "b-ok")
    assert (status, body["reason"]) == (422, "password_locked")  # even the right one waits
    status, body = await pay_at(client, services, keys, "T-A", "135790", "a-ok")
    assert (status, body["ok"]) == (200, True)  # every other till still takes it

    clock = services.clock
    assert isinstance(clock, ManualClock)
    clock.advance(timedelta(minutes=15))
    status, body = await lock_out(client, services, keys, "T-B", "evil2")
    assert body["retry_after"] == 30 * 60  # the back-off doubles
    clock.advance(timedelta(minutes=29))
    assert (await pay_at(client, services, keys, "T-B", "135790", "b-2"))[1]["reason"] == (
        "password_locked"
    )
    await set_passwords(services, ALICE, "135790", "246801")  # what MM does: lifts it at once
    status, body = await pay_at(client, services, keys, "T-B", "135790", "b-3")
    assert (status, body["ok"]) == (200, True)
    status, body = await pay_at(client, services, keys, "T-B", "000000", "b-4")
    assert body["tries_left"] == password_locks.MAX_WRONG - 1  # counting starts again


async def test_a_right_password_starts_the_count_again(
    pos: tuple[TestClient, dict[str, str]], services: Services
) -> None:
    client, keys = pos
    await set_passwords(services, ALICE, "135790", "246801")
    for i in range(password_locks.MAX_WRONG - 1):
        await pay_at(client, services, keys, "T-A", "000000", f"w{i}")
    assert (await pay_at(client, services, keys, "T-A", "135790", "ok"))[0] == 200
    _, body = await pay_at(client, services, keys, "T-A", "135790", "x", second="000000")
    assert (body["reason"], body["tries_left"]) == ("wrong_second_password", 4)


async def test_a_replayed_payment_is_refused_and_pays_nothing(
    pos: tuple[TestClient, dict[str, str]], services: Services
) -> None:
    client, keys = pos
    await set_passwords(services, ALICE, "135790", "246801")
    payment = {
        "msisdn": ALICE,
        "points_password": "135790",
        "second_password": "246801",
        "points": 700,
        "idempotency_key": "receipt-9",
    }
    nonce = secrets.token_hex(16)
    status, body = await call(
        client, services, PAY, payment, terminal="T-A", key=keys["T-A"], nonce=nonce
    )
    assert (status, body["balance"]) == (200, 49_300)
    for changed in (payment, {**payment, "idempotency_key": "receipt-10"}):
        status, body = await call(
            client, services, PAY, changed, terminal="T-A", key=keys["T-A"], nonce=nonce
        )
        assert (status, body) == (401, {"ok": False, "reason": "replayed_nonce"})
    assert (await counts(services))[1] == 2  # the accrual and one payment


async def test_twenty_concurrent_terminal_verifications_succeed_once(
    pos: tuple[TestClient, dict[str, str]], services: Services
) -> None:
    client, keys = pos
    bought = await buy(services)
    results = await asyncio.gather(
        *(
            call(
                client,
                services,
                VERIFY,
                {"qr_token": bought.token},
                terminal="T-A",
                key=keys["T-A"],
            )
            for _ in range(20)
        )
    )
    assert sorted(status for status, _ in results) == [200] + [409] * 19
    assert await voucher_status(services, bought.no) == "verified"


async def test_the_key_is_used_as_hex_text_not_decoded_to_bytes(
    pos: tuple[TestClient, dict[str, str]], services: Services
) -> None:
    """Issue 16 §5: a client that decodes the printed key to its 32 bytes signs with another
    key and gets ``bad_signature`` on every call; the key's hex text works."""
    client, keys = pos
    bought = await buy(services)
    body = json.dumps({"qr_token": bought.token}).encode()
    ts, nonce = epoch(services.clock.now()), new_nonce()
    headers = signed_headers("T-A", keys["T-A"], "POST", VERIFY, body, ts, nonce)
    decoded = bytes.fromhex(keys["T-A"])
    message = string_to_sign("POST", VERIFY, ts, nonce, body).encode()
    headers["X-Signature"] = hmac.new(decoded, message, hashlib.sha256).hexdigest()
    resp = await client.post(VERIFY, data=body, headers=headers)
    assert (resp.status, await resp.json()) == (401, {"ok": False, "reason": "bad_signature"})
    status, answer = await call(
        client, services, VERIFY, {"qr_token": bought.token}, terminal="T-A", key=keys["T-A"]
    )
    assert status == 200 and answer["ok"] is True


async def test_the_reference_client_from_a_shell(
    pos: tuple[TestClient, dict[str, str]], services: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    """``python -m pointshall.pos_client … verify`` as the README shows it."""
    client, keys = pos
    assert isinstance(services.clock, ManualClock)
    services.clock.set(datetime.now(UTC))  # the shell client signs with the real clock
    bought = await buy(services)
    url = str(client.make_url("")).rstrip("/")
    base = ["--url", url, "--terminal", "T-A", "--key", keys["T-A"], "verify"]
    assert await asyncio.to_thread(pos_client.main, [*base, "--qr", bought.token]) == 0
    status, answer = capsys.readouterr().out.split(" ", 1)
    assert status == "200" and json.loads(answer)["order_no"] == bought.no
    assert await asyncio.to_thread(pos_client.main, [*base, "--qr", bought.token]) == 1
    assert json.loads(capsys.readouterr().out.split(" ", 1)[1])["reason"] == "already_used"
