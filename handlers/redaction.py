"""What is kept of an inbound text that carries a secret (issue 13 §1).

Every text and press is recorded (``inbound.text``) and so is the answer
(``inbound.reply``). A code typed to confirm an order or log in a chat, the points
password and second password of ``MM``, and a voucher password sent to verify it (``YZ``
or a bare ``order password``) are kept masked: read by the grammar, not guessed by a
pattern, so ``DH 1024 2`` stays as it was. A malformed ``MM``, ``YZ`` or ``QR`` keeps
none of its digits (a mistyped password is still a password).
"""

from __future__ import annotations

import re
import unicodedata

from handlers import grammar
from handlers.commands import BadArguments, Command, Confirm, SetPasswords, Verify

SECRET_KEYWORDS = frozenset({"MM", "YZ", "QR"})
"""Keywords (as ``BadArguments`` names them) whose arguments are secrets."""
_DIGITS = re.compile(r"[0-9]+")


def secrets_of(command: Command) -> list[str]:
    """The secrets a well-formed ``command`` carries (none for most commands)."""
    if isinstance(command, Confirm):
        return [command.code]
    if isinstance(command, Verify):
        return [command.password]
    if isinstance(command, SetPasswords) and command.code is not None:
        return [command.code, command.points_password, command.second_password]
    return []


def redact(text: str) -> str:
    """``text`` as it may be stored and logged: its secrets masked, the rest as it came."""
    if not any(c.isdigit() for c in text):  # every secret has digits; most texts have none
        return text
    command = grammar.parse(text)
    if isinstance(command, BadArguments) and command.keyword in SECRET_KEYWORDS:
        return _DIGITS.sub(lambda m: "*" * len(m.group(0)), _folded(text))
    found = secrets_of(command)
    if not found:
        return text
    folded = _folded(text)
    for secret in sorted(set(found), key=len, reverse=True):  # digits, glued to a keyword too
        folded = re.sub(rf"(?<![0-9]){re.escape(secret)}(?![0-9])", "*" * len(secret), folded)
    return folded


def _folded(text: str) -> str:
    """Full-width digits read as ASCII (what the grammar read)."""
    return unicodedata.normalize("NFKC", text)
