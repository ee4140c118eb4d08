"""Console sessions: an encrypted, signed cookie (aiohttp-session + Fernet), CSRF tokens,
idle and absolute expiry, and who the logged-in staff member is.

The cookie key is derived (HKDF) from the installation's current root key, so it survives
restarts and differs per installation; a key rotation logs everyone out. A cookie that
does not decrypt (tampered, another key, too old) is simply an empty session. The staff
member's role is read from the database on every request, so removing a phone ends its
sessions at once.

A cookie alone cannot be taken back, so every login is also a server-side session
(``core.platform.web_sessions``): the cookie holds its random id (``SERVER_ID``) and a
page is served only while that row is live. Logout, removal from a merchant's staff
and disabling an operator end the row, so a cookie copied before still opens nothing
(issue 13 §4).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from aiohttp import web
from aiohttp_session import Session, get_session, new_session
from aiohttp_session.cookie_storage import EncryptedCookieStorage

from core.platform.codes import Keyring

COOKIE = "pointshall_console"
IDLE_SECONDS = 30 * 60
ABSOLUTE_SECONDS = 12 * 3600
CSRF_FIELD = "csrf"
SERVER_ID = "sid"
LOGIN_NONCE = "login_nonce"


def storage(keyring: Keyring, *, secure: bool, path: str) -> EncryptedCookieStorage:
    key = keyring.subkey("console-session-cookie")
    return EncryptedCookieStorage(
        key,
        cookie_name=COOKIE,
        max_age=ABSOLUTE_SECONDS,
        httponly=True,
        samesite="Lax",
        secure=secure,
        path=path,
    )


@dataclass(frozen=True)
class Login:
    """The logged-in staff phone and the merchant it acts for."""

    msisdn: str
    merchant_id: int


def csrf_token(session: Session) -> str:
    token = session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[CSRF_FIELD] = token
    return token


def csrf_ok(session: Session, sent: object) -> bool:
    token = session.get(CSRF_FIELD)
    if not isinstance(token, str) or not isinstance(sent, str):
        return False
    return hmac.compare_digest(token.encode(), sent.encode())


def login_nonce(session: Session) -> str:
    """A random id of this browser's login attempt: the SMS code is bound to it."""
    nonce = session.get(LOGIN_NONCE)
    if not isinstance(nonce, str):
        nonce = secrets.token_urlsafe(24)
        session[LOGIN_NONCE] = nonce
    return nonce


def server_id(session: Session) -> str:
    """The id of the server-side session this cookie belongs to ("" when none)."""
    sid = session.get(SERVER_ID)
    return sid if isinstance(sid, str) else ""


async def start(
    request: web.Request, login: Login, now: int, lang: str | None, sid: str
) -> Session:
    """A fresh session (new id, new CSRF token) for a successful login: no fixation. ``sid``
    is the server-side session (``core.platform.web_sessions.start``)."""
    session = await new_session(request)
    session[SERVER_ID] = sid
    session["msisdn"] = login.msisdn
    session["merchant_id"] = login.merchant_id
    session["at"] = now
    session["seen"] = now
    if lang:
        session["lang"] = lang
    csrf_token(session)
    return session


def current(session: Session, now: int) -> Login | None:
    """The session's login if it has not expired (touching it); None otherwise."""
    msisdn, merchant_id = session.get("msisdn"), session.get("merchant_id")
    at, seen = session.get("at"), session.get("seen")
    if not (
        isinstance(msisdn, str)
        and isinstance(merchant_id, int)
        and isinstance(at, int)
        and isinstance(seen, int)
    ):
        return None
    if now - seen > IDLE_SECONDS or now - at > ABSOLUTE_SECONDS or now < at:
        return None
    session["seen"] = now
    return Login(msisdn, merchant_id)


def end(session: Session) -> None:
    lang = session.get("lang")
    session.invalidate()
    if isinstance(lang, str):
        session["lang"] = lang


__all__ = ["Session", "get_session"]
