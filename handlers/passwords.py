"""MM: set or reset the points password and the second password with an SMS code (§3.6.3)."""

from __future__ import annotations

from core.subscribers import password_otp
from handlers.commands import SetPasswords
from handlers.context import Context
from handlers.reply import Reply


def set_passwords(ctx: Context, cmd: SetPasswords) -> Reply:
    """MM sends a code; MM code points_pwd second_pwd sets both passwords."""
    if cmd.code is None:
        sent = password_otp.send_code(ctx.conn, ctx.subscriber, ctx.now, ctx.keyring)
        return Reply(ctx.t("mm_sent" if sent else "mm_capped"))
    if cmd.points_password == cmd.second_password:
        return Reply(ctx.t("mm_same"))
    outcome, left = password_otp.set_with_code(
        ctx.conn,
        ctx.subscriber,
        cmd.code,
        cmd.points_password,
        cmd.second_password,
        ctx.now,
        ctx.keyring,
    )
    return Reply(
        ctx.t(f"mm_{outcome}", left=left) if outcome == "wrong" else ctx.t(f"mm_{outcome}")
    )
