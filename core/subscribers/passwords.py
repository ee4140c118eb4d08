"""Subscribers' points password and second password (§3.6.3), stored with a slow hash.

Each is 6 digits (a feature phone types them), so the hash is scrypt over a keyed
digest of the password (the ``points-password`` subkey of a root key, whose id the
stored hash names): slow against guessing, and useless without the root key. Wrong
passwords are counted per terminal (``core.subscribers.password_locks``); setting new
ones (SMS ``MM``) lifts every pause.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, select, update

from core.platform.codes import Keyring, key_id
from core.platform.schema import subscriber_secret
from core.platform.sql import insert_ignoring
from core.subscribers import password_locks

PASSWORD = re.compile(r"[0-9]{6}")
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16


def _derive(
    keyring: Keyring, kid: str, kind: str, msisdn: str, password: str, salt: bytes, n: int
) -> bytes:
    peppered = keyring.mac("points-password", kind, msisdn, password, kid=kid).encode()
    return hashlib.scrypt(peppered, salt=salt, n=n, r=SCRYPT_R, p=SCRYPT_P, dklen=32)


def hash_password(keyring: Keyring, kind: str, msisdn: str, password: str) -> str:
    """``k2$scrypt$n$salt$hash``: scrypt over the keyed digest under the current root key."""
    salt = secrets.token_bytes(SALT_BYTES)
    kid = keyring.current_id
    digest = _derive(keyring, kid, kind, msisdn, password, salt, SCRYPT_N)
    return f"{kid}$scrypt${SCRYPT_N}${salt.hex()}${digest.hex()}"


def check_password(keyring: Keyring, stored: str, kind: str, msisdn: str, password: str) -> bool:
    """Constant-time comparison against a stored ``[kN$]scrypt$n$salt$hash`` (no key id:
    made under ``k0``, before key ids); False under a root key no longer held."""
    kid = key_id(stored)
    body = stored[len(kid) + 1 :] if stored.startswith(f"{kid}$") else stored
    scheme, n, salt, digest = body.split("$")
    if scheme != "scrypt" or kid not in keyring.key_ids:
        return False
    computed = _derive(keyring, kid, kind, msisdn, password, bytes.fromhex(salt), int(n))
    return hmac.compare_digest(computed.hex(), digest)


@dataclass(frozen=True)
class Stored:
    points_password_hash: str
    second_password_hash: str
    failed_attempts: int


def stored(conn: Connection, subscriber_id: int) -> Stored | None:
    row = conn.execute(
        select(
            subscriber_secret.c.points_password_hash,
            subscriber_secret.c.second_password_hash,
            subscriber_secret.c.failed_attempts,
        ).where(subscriber_secret.c.subscriber_id == subscriber_id)
    ).first()
    return Stored(row[0], row[1], int(row[2])) if row else None


def set_passwords(
    conn: Connection,
    *,
    subscriber_id: int,
    msisdn: str,
    points_password: str,
    second_password: str,
    now: int,
    keyring: Keyring,
) -> None:
    """Set (or reset) both passwords; every terminal's wrong-password count and pause end."""
    for value in (points_password, second_password):
        if not PASSWORD.fullmatch(value):
            raise ValueError("a points password is 6 digits")
    values = {
        "points_password_hash": hash_password(keyring, "points", msisdn, points_password),
        "second_password_hash": hash_password(keyring, "second", msisdn, second_password),
        "failed_attempts": 0,
        "updated_at": now,
    }
    conn.execute(
        insert_ignoring(conn, subscriber_secret, "subscriber_id").values(
            subscriber_id=subscriber_id, **values
        )
    )
    conn.execute(
        update(subscriber_secret)
        .where(subscriber_secret.c.subscriber_id == subscriber_id)
        .values(**values)
    )
    password_locks.clear_all(conn, subscriber_id)
