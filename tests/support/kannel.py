"""A real Kannel for the e2e tests: bearerbox with a fake SMSC, smsbox, generated config.

The fake SMSC is Kannel's ``smsc = fake``: bearerbox listens on a port and the
"operator" connects to it and speaks its line protocol, one message per line:
``sender receiver text TEXT`` or ``sender receiver ucs2 URL-ENCODED-UTF-16BE`` in
(MO), and the same with ``text`` / ``ucs-2`` / ``data`` out (MT). The binaries come
from Debian's ``kannel`` package (``/usr/sbin``); the ``fakesmsc`` client from
``kannel-extras`` is found with ``dpkg -L`` and is not needed here because the
test plays that part itself.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote_to_bytes

BEARERBOX = shutil.which("bearerbox") or "/usr/sbin/bearerbox"
SMSBOX = shutil.which("smsbox") or "/usr/sbin/smsbox"
START_TIMEOUT = 20.0
MT_TIMEOUT = 15.0
SENDSMS_USER, SENDSMS_PASS = "hall", "hall-pass"


def installed() -> bool:
    return os.access(BEARERBOX, os.X_OK) and os.access(SMSBOX, os.X_OK)


def fakesmsc_binary() -> str | None:
    """Where kannel-extras put ``fakesmsc`` (it is not on PATH), if installed."""
    try:
        listing = subprocess.run(
            ["dpkg", "-L", "kannel-extras"], capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return next((line for line in listing.splitlines() if line.endswith("/fakesmsc")), None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited: {log.read_text(errors='replace')[-2000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"port {port} never opened; {log.read_text(errors='replace')[-2000:]}")


def config(
    *,
    admin: int,
    smsbox: int,
    smsc: int,
    sendsms: int,
    app_url: str,
    secret: str,
    logs: Path,
    mo_recode: bool,
) -> str:
    get_url = (
        f"{app_url}/sms/kannel?secret={secret}&from=%p&to=%P&text=%a&id=%I&coding=%c&charset=%C"
    )
    groups = [
        f"""group = core
admin-port = {admin}
admin-password = admin-pass
admin-allow-ip = "127.0.0.1"
smsbox-port = {smsbox}
box-allow-ip = "127.0.0.1"
log-file = "{logs / "bearerbox.log"}"
log-level = 0
dlr-storage = internal
""",
        f"""group = smsc
smsc = fake
smsc-id = operator
port = {smsc}
connect-allow-ip = "127.0.0.1"
""",
        f"""group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {smsbox}
sendsms-port = {sendsms}
log-file = "{logs / "smsbox.log"}"
log-level = 0
mo-recode = {"true" if mo_recode else "false"}
""",
        f"""group = sendsms-user
username = {SENDSMS_USER}
password = {SENDSMS_PASS}
max-messages = 10
concatenation = true
""",
        f"""group = sms-service
keyword = default
catch-all = true
get-url = "{get_url}"
max-messages = 3
concatenation = true
accept-x-kannel-headers = true
""",
    ]
    return "\n".join(groups)  # Kannel needs a blank line between groups


@dataclass
class Kannel:
    sendsms_url: str
    smsc_port: int
    procs: list[subprocess.Popen[bytes]]
    logs: Path

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def start(workdir: Path, *, app_url: str, secret: str, mo_recode: bool) -> Kannel:
    admin, smsbox, smsc, sendsms = (free_port() for _ in range(4))
    conf = workdir / "kannel.conf"
    conf.write_text(
        config(
            admin=admin,
            smsbox=smsbox,
            smsc=smsc,
            sendsms=sendsms,
            app_url=app_url,
            secret=secret,
            logs=workdir,
            mo_recode=mo_recode,
        )
    )
    procs: list[subprocess.Popen[bytes]] = []
    kannel = Kannel(f"http://127.0.0.1:{sendsms}", smsc, procs, workdir)
    try:
        out = (workdir / "bearerbox.out").open("wb")
        procs.append(subprocess.Popen([BEARERBOX, str(conf)], stdout=out, stderr=out))
        wait_for_port(smsbox, procs[0], workdir / "bearerbox.out")
        wait_for_port(smsc, procs[0], workdir / "bearerbox.out")
        out2 = (workdir / "smsbox.out").open("wb")
        procs.append(subprocess.Popen([SMSBOX, str(conf)], stdout=out2, stderr=out2))
        wait_for_port(sendsms, procs[1], workdir / "smsbox.out")
    except BaseException:
        kannel.stop()
        raise
    return kannel


class Handset:
    """The operator's side of the fake SMSC: MO lines in, MT lines out."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    @classmethod
    async def connect(cls, port: int) -> Handset:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def send_text(self, sender: str, receiver: str, text: str) -> None:
        self._writer.write(f"{sender} {receiver} text {text}\n".encode())
        await self._writer.drain()

    async def send_ucs2(self, sender: str, receiver: str, text: str) -> None:
        data = quote(text.encode("utf-16-be"), safe="")
        self._writer.write(f"{sender} {receiver} ucs2 {data}\n".encode())
        await self._writer.drain()

    async def receive(self) -> tuple[str, str, str]:
        """The next MT as (sender, receiver, text), UCS-2 decoded."""
        async with asyncio.timeout(MT_TIMEOUT):
            raw = await self._reader.readline()
        line = raw.decode("latin-1").rstrip("\n")
        sender, receiver, kind, data = line.split(" ", 3)
        if kind == "text":
            return sender, receiver, data.encode("latin-1").decode("utf-8", "replace")
        octets = unquote_to_bytes(data.replace("+", " "))  # Kannel's url-encoding: space is +
        if kind in ("ucs-2", "ucs2"):
            return sender, receiver, octets.decode("utf-16-be")
        if kind == "data":
            return sender, receiver, octets.decode("utf-8", "replace")
        raise AssertionError(f"unexpected MT line {line!r}")

    async def close(self) -> None:
        self._writer.close()
        await self._writer.wait_closed()
