"""Where the root keys come from: the environment or a key file, never the database
(issue 13 §2).

``POINTSHALL_SECRET_KEY`` holds the keys' text (``core.platform.keys``), or
``POINTSHALL_SECRET_KEY_FILE`` names a file holding it that only its owner may read
(mode 0600 or 0400). Without either, nothing starts, except the demo: ``serve --demo`` and
``pointshall demo`` make (or reuse) ``var/demo.key``, and the commands typed against the
demo's database (the default ``var/pointshall.db``) use it too. A database that still
holds the key of an older installation (``app_secret``) must have it moved out first
(``pointshall key adopt``); once the configured keys hold it as ``k0`` the row is deleted.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from core.platform import keys, secret_key
from core.platform.codes import Keyring
from core.platform.db import Database
from core.platform.errors import ConfigurationError
from core.platform.keys import KeyFormatError, RootKey
from pointshall.config import DEFAULT_DATABASE_URL, Settings

DEMO_KEY_FILE = Path("var/demo.key")
OWNER_ONLY = 0o077
MAKE_ONE = (
    "make one with `pointshall key new --out /etc/pointshall/root.key` and set "
    "POINTSHALL_SECRET_KEY_FILE to it (or set POINTSHALL_SECRET_KEY to what `pointshall key "
    "new` prints)"
)
NO_KEY = f"no root key outside the database: {MAKE_ONE}"
ADOPT = (
    "this database still holds its old root key (app_secret): move it out with "
    "`pointshall key adopt --out /etc/pointshall/root.key`, then set "
    "POINTSHALL_SECRET_KEY_FILE to that file"
)


def read_key_file(path: Path) -> tuple[RootKey, ...]:
    """The keys in ``path``; refuses a file that anyone but its owner may read or write."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConfigurationError(f"no key file {path}: {MAKE_ONE}") from None
    if not stat.S_ISREG(mode):
        raise ConfigurationError(f"key file {path} is not a file")
    if mode & OWNER_ONLY:
        raise ConfigurationError(
            f"key file {path} may be read by others (mode {stat.S_IMODE(mode):04o}): "
            f"run `chmod 600 {path}`"
        )
    try:
        return keys.parse(path.read_text(encoding="utf-8"))
    except (KeyFormatError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"key file {path}: {exc}") from None


def configured(settings: Settings) -> tuple[RootKey, ...] | None:
    """The keys ``POINTSHALL_SECRET_KEY`` or ``POINTSHALL_SECRET_KEY_FILE`` give, or None."""
    text = settings.secret_key.get_secret_value().strip() if settings.secret_key else ""
    if text and settings.secret_key_file is not None:
        raise ConfigurationError(
            "set POINTSHALL_SECRET_KEY or POINTSHALL_SECRET_KEY_FILE, not both"
        )
    if settings.secret_key_file is not None:
        return read_key_file(settings.secret_key_file)
    if not text:
        return None
    try:
        return keys.parse(text)
    except KeyFormatError as exc:
        if ":" not in text:  # a raw key, as before key ids
            raise ConfigurationError(
                "POINTSHALL_SECRET_KEY holds a key from before key ids: move it into a key "
                "file with `pointshall key adopt --out /etc/pointshall/root.key`"
            ) from None
        raise ConfigurationError(f"POINTSHALL_SECRET_KEY: {exc}") from None


def write_key_file(path: Path, held: tuple[RootKey, ...], *, replace: bool = False) -> None:
    """Write ``held`` to ``path`` readable by its owner only (0600), durably; a new file is
    never written over an existing one unless ``replace`` (then atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    target = path.with_name(f".{path.name}.new") if replace else path
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    if replace:
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
    try:
        fd = os.open(target, flags, 0o600)
    except FileExistsError:
        raise ConfigurationError(f"{path} exists; not writing over a key file") from None
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(keys.render(held))
        out.flush()
        os.fsync(out.fileno())
    if replace:
        os.replace(target, path)


def demo_keys(path: Path) -> tuple[RootKey, ...]:
    """The demo's keys in ``path``, made on first use."""
    if not path.exists():
        write_key_file(path, (keys.new_key(1),))
    return read_key_file(path)


def demo_fallback(settings: Settings) -> Path | None:
    """The demo's key file for a command typed against the demo's database, if it exists."""
    if settings.database_url == DEFAULT_DATABASE_URL and DEMO_KEY_FILE.exists():
        return DEMO_KEY_FILE
    return None


def load(settings: Settings, demo_key: Path | None = None) -> tuple[RootKey, ...]:
    """The configured keys, else (``demo_key`` given) the demo's; refuses with how to make one."""
    found = configured(settings)
    if found is None and demo_key is not None:
        found = demo_keys(demo_key)
    if found is None:
        raise ConfigurationError(NO_KEY)
    if not any(not k.legacy for k in found):
        raise ConfigurationError(
            "the keys hold only k0 (the key from before key ids): add a current key with "
            "`pointshall key rotate`"
        )
    return found


async def keyring_for(
    settings: Settings, db: Database, held: tuple[RootKey, ...], demo_key: Path | None = None
) -> Keyring:
    """The keyring of ``held``, once the database's own old key (if any) is safely among them
    as ``k0`` (then deleted from the database); the demo adopts it into its key file."""
    old = await db.read(secret_key.legacy)
    if old is not None:
        k0 = next((k for k in held if k.legacy), None)
        if k0 is None and demo_key is not None and configured(settings) is None:
            held = (keys.legacy(old), *held)
            write_key_file(demo_key, held, replace=True)
        elif k0 is None:
            raise ConfigurationError(ADOPT)
        elif k0.secret != old:
            raise ConfigurationError(
                "key k0 is not the key this database held (app_secret): is it the right key?"
            )
        await db.write(secret_key.forget)
    return Keyring(held)
