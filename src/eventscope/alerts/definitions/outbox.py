"""Outbox alerts: a relay that stopped, and a backlog the relays cannot keep up with.

Both read the table's own gauges, which the service writing the rows reports whether a
relay runs or not (:mod:`eventscope.outbox.metrics`); they link to the outbox row of the
overview dashboard (:class:`~eventscope.monitoring.OverviewPanel`).
"""

from __future__ import annotations

from eventscope import catalog
from eventscope.alerts.model import CRITICAL, WARNING, Alert, Runbook, label, value
from eventscope.config import Config
from eventscope.monitoring import OverviewPanel, config_scope, signals
from eventscope.monitoring.promql import DESTINATION, OUTBOX, number

_WHERE = f"outbox {label(OUTBOX)} → {label(DESTINATION)}"
_LINK = {"destination": DESTINATION}
_INVESTIGATE = (
    "Is a relay running? `eventscope outbox relay` (or the service's in-process relay) "
    "logs every failed batch; the relay failures panel shows the error type.",
    f"Look at the oldest rows of the table the `{OUTBOX}` label names: `SELECT id, "
    "attempts, last_error FROM <table> WHERE published_at IS NULL ORDER BY id LIMIT 20` — "
    "`last_error` says what the broker answered.",
    "A row that always fails holds back every later row with the same key (per-key order).",
)


def outbox_stuck(config: Config) -> Alert:
    t = config.thresholds
    age = signals.outbox_oldest_age(config_scope(config))
    return Alert(
        name="EventscopeOutboxStuck",
        expr=f"{age} > {number(t.outbox_age_seconds)}",
        for_="5m",
        severity=CRITICAL,
        summary=f"Nothing leaves {_WHERE} (oldest row {value('%.0f')} s old)",
        description=f"The oldest unpublished row of {_WHERE} is {value('%.0f')} s old, "
        f"above {t.outbox_age_seconds:g} s, for 5 minutes: no relay is publishing it.",
        panel=OverviewPanel.OUTBOX_AGE,
        signals=(age,),
        link_variables=_LINK,
        runbook=Runbook(
            meaning="Events the service committed are not reaching the broker: every relay "
            f"is stopped or failing ({catalog.OUTBOX_OLDEST_AGE.prometheus_name} grows "
            "with the clock).",
            impact="Consumers see nothing of what the service did since; orders are "
            "saved but not billed or shipped. Nothing is lost — the rows wait — but the "
            "delay grows until a relay publishes them.",
            investigate=_INVESTIGATE,
            remedies=(
                "Start or restart a relay (`eventscope outbox relay --dsn … --broker …`); "
                "it publishes the backlog in order, oldest first.",
                "If the broker refuses the rows, fix the cause (credentials, a missing "
                "topic, a message too large); the relay retries them by itself.",
            ),
        ),
    )


def outbox_growing(config: Config) -> Alert:
    t = config.thresholds
    scope = config_scope(config)
    waiting = signals.outbox_waiting(scope)
    growth = signals.outbox_growth(scope, "15m")
    return Alert(
        name="EventscopeOutboxGrowing",
        expr=f"({waiting} > {number(t.outbox_waiting)}) and ({growth} > 0)",
        for_="15m",
        severity=WARNING,
        summary=f"{value('%.0f')} rows waiting in {_WHERE}, and growing",
        description=f"More than {t.outbox_waiting:g} rows wait in {_WHERE} (now "
        f"{value('%.0f')}) and the backlog has grown for 15 minutes: the relays publish "
        "slower than the service writes.",
        panel=OverviewPanel.OUTBOX_WAITING,
        signals=(waiting, growth),
        link_variables=_LINK,
        runbook=Runbook(
            meaning="The outbox fills faster than the relays drain it.",
            impact="Events reach consumers later and later; if it goes on, the table "
            "and its indexes grow and every relay batch gets slower.",
            investigate=(
                *_INVESTIGATE,
                "Compare the relayed rows panel with the service's send rate: a relay "
                "that runs but is slow points at the broker or a small batch size.",
            ),
            remedies=(
                "Run another relay: relays share a table safely (each claims different "
                "rows, FOR UPDATE SKIP LOCKED), and per-key order holds.",
                "Raise the relay's --batch-size, or fix the broker's slowness.",
            ),
        ),
    )
