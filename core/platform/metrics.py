"""Prometheus metrics, in one registry that every layer may increment.

Import the metric and call it, e.g. ``metrics.REDEMPTIONS.labels(outcome="paid").inc()``
or ``metrics.JOB_RUNS.labels(job="expire", outcome="ok").inc()``. ``GET /metrics``
renders ``REGISTRY``; the outbox depth is read from the database at each scrape.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)

INBOUND = Counter(
    "pointshall_inbound_messages",
    "Inbound texts received, by channel (duplicates included).",
    ["channel"],
    registry=REGISTRY,
)
OUTBOUND = Counter(
    "pointshall_outbound_messages",
    "Outbound messages by transport and the state they reached "
    "(sent, retry, dead, failed, unknown, suppressed, delivered, undelivered).",
    ["transport", "state"],
    registry=REGISTRY,
)
DELIVERY_REPORTS = Counter(
    "pointshall_delivery_reports",
    "Delivery reports received, by provider and our state.",
    ["provider", "state"],
    registry=REGISTRY,
)
OUTBOX_DEPTH = Gauge(
    "pointshall_outbox_messages",
    "Messages in the outbox by status, read at scrape time.",
    ["status"],
    registry=REGISTRY,
)
JOB_RUNS = Counter(
    "pointshall_job_runs",
    "Scheduled or one-shot job runs, by job and outcome.",
    ["job", "outcome"],
    registry=REGISTRY,
)
SEND_SLOTS_MISSED = Counter(
    "pointshall_send_slots_missed",
    "Shared send slots given up because the sender woke too late to use them, by rate.",
    ["rate"],
    registry=REGISTRY,
)
REDEMPTIONS = Counter(
    "pointshall_redemptions",
    "Redemptions by outcome (held, paid, cancelled, refunded, ...).",
    ["outcome"],
    registry=REGISTRY,
)
COMMAND_ERRORS = Counter(
    "pointshall_command_errors",
    "Commands that failed unexpectedly (a bug, not a refusal), by channel.",
    ["channel"],
    registry=REGISTRY,
)
HTTP_REQUESTS = Counter(
    "pointshall_http_requests",
    "HTTP requests served, by route and status class.",
    ["route", "status"],
    registry=REGISTRY,
)


def render() -> bytes:
    """The registry in the Prometheus text format."""
    return generate_latest(REGISTRY)
