"""Start-up refuses settings that would send subscribers to the wrong place (issue 14 item 5)."""

from __future__ import annotations

import pytest

from core.platform.errors import ConfigurationError
from pointshall.bootstrap import base_url, policy_from
from pointshall.config import Settings

GATEWAY = {"gateway_url": "https://pay.example.com", "gateway_secret": "s3cret-s3cret"}


def settings(**values: object) -> Settings:
    return Settings(database_url="sqlite+aiosqlite:///x.db", **values)  # type: ignore[arg-type]


def test_money_items_need_the_public_url_for_pay_links() -> None:
    with pytest.raises(ConfigurationError, match="POINTSHALL_PUBLIC_URL"):
        settings(**GATEWAY).check_payments(money_items=1)
    settings(**GATEWAY, public_url="https://hall.example.com").check_payments(money_items=1)
    settings().check_payments(money_items=0)


def test_money_items_need_the_gateway() -> None:
    with pytest.raises(ConfigurationError, match="POINTSHALL_GATEWAY_URL"):
        settings(public_url="https://hall.example.com").check_payments(money_items=2)


@pytest.mark.parametrize("public", ["https://hall.example.com", "https://hall.example.com/"])
def test_pay_links_use_the_public_url_never_a_default_port(public: str) -> None:
    policy = policy_from(settings(public_url=public, port=9000))
    assert policy.pay_base_url.rstrip("/") == "https://hall.example.com"
    assert ":8080" not in base_url(settings(public_url=public))
