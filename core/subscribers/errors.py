"""Domain errors of subscribers: each carries the data a channel needs to word it."""

from __future__ import annotations

from core.platform.errors import DomainError


class UnknownSubscriber(DomainError):
    reason_code = "unknown_subscriber"

    def __init__(self, msisdn: str) -> None:
        super().__init__(f"no subscriber {msisdn}")
        self.msisdn = msisdn


class UnknownAddress(DomainError):
    reason_code = "unknown_address"

    def __init__(self, address_id: int) -> None:
        super().__init__(f"no address {address_id}")
        self.address_id = address_id


class BadAddress(DomainError):
    """An address too short or too long to deliver to."""

    reason_code = "bad_address"

    def __init__(self, text: str) -> None:
        super().__init__(f"not a usable address: {text!r}")
        self.text = text


class TooManyAddresses(DomainError):
    reason_code = "too_many_addresses"

    def __init__(self, most: int) -> None:
        super().__init__(f"at most {most} addresses")
        self.most = most


class NoPasswordSet(DomainError):
    """The subscriber has not set a points password yet (SMS ``MM``)."""

    reason_code = "no_password"

    def __init__(self, msisdn: str) -> None:
        super().__init__(f"{msisdn} has no points password")
        self.msisdn = msisdn
