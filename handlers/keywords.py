"""The carriers' own words, in one place: what a subscriber may text to stop marketing
messages, to start them again, or to ask for help (issue 14 item 1).

Every word here means the same to us as to the carrier, so the hall never answers
"unknown command" to a number the carrier has just blocked. Sources:

- Twilio Advanced Opt-Out defaults (twilio.com/docs/messaging/tutorials/advanced-opt-out
  and "Twilio support for opt-out keywords"): opt-out STOP, STOPALL, UNSUBSCRIBE, CANCEL,
  END, QUIT, REVOKE, OPTOUT; opt-in START, YES, UNSTOP; help HELP, INFO.
- The Chinese operators' usual words: 退订 / TD / T ("回T退订"), 取消订阅, and 0000 / 00000
  (the operators' own "query and cancel subscriptions" numbers); 订阅 to subscribe again;
  帮助 for help.

A word is the command only when it comes alone: ``CANCEL 2611…`` cancels an order,
``INFO 1001`` shows an item. The README's "Opt-out, opt-in and help words" lists these
tuples (a test keeps them in step).
"""

from __future__ import annotations

OPT_OUT: tuple[str, ...] = (
    "TD",
    "T",
    "退订",
    "取消订阅",
    "0000",
    "00000",
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "REVOKE",
    "OPTOUT",
)
OPT_IN: tuple[str, ...] = ("START", "UNSTOP", "YES", "订阅")
HELP: tuple[str, ...] = ("BZ", "HELP", "INFO", "帮助", "?")
