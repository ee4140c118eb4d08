"""Schemathesis against ``/admin/v1/openapi.json`` (issue 8): generated requests, valid and
invalid, with an admin token; no answer is a 5xx and every answer matches the document
(status code, content type, body schema).

The app runs on a real local port (aiohttp is neither ASGI nor WSGI) on the test's event
loop; schemathesis' synchronous client runs in a worker thread meanwhile.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import hypothesis
import schemathesis
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, Phase
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from pointshall.app import build_app
from pointshall.bootstrap import Services
from tests.support.admin_helpers import BASE, make_staff
from tests.support.merchant_helpers import merchant_mall

EXAMPLES = {GenerationMode.POSITIVE: 15, GenerationMode.NEGATIVE: 6}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def fuzz(base_url: str, token: str) -> list[str]:
    """Run every operation's examples; the failures, one line each."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40
    for operation in operations:
        for mode, examples in EXAMPLES.items():

            @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
            @hypothesis.settings(
                max_examples=examples,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def check(case: Case) -> None:
                case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS)

            try:
                check()
            except Exception as exc:  # a failure report, collected for the assertion
                failures.append(f"{operation.label} [{mode.value}]: {exc}"[:2000])
    return failures


async def test_admin_api_conforms_to_its_openapi_document(
    services: Services, tmp_path: Path
) -> None:
    await merchant_mall(services, tmp_path)
    tokens = await make_staff(services)
    server = TestServer(build_app(services, drain=False), host="127.0.0.1")
    await server.start_server()
    try:
        base_url = str(server.make_url(BASE))
        failures = await asyncio.to_thread(fuzz, base_url, tokens["admin"])
    finally:
        await server.close()
    assert failures == [], "\n\n".join(failures)
