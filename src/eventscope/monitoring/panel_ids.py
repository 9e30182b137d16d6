"""Declared panel ids: every panel of every generated dashboard, numbered once, here.

Grafana addresses a panel by its id (``viewPanel=`` links, a Grafana-managed rule's
``panelId``).  Declaring the ids instead of counting panels while a dashboard is built
lets an alert name its panel without building any dashboard (the Prometheus rule files
render without grafana-foundation-sdk), and keeps every id where it is when a panel is
added: a new panel takes a new number, the others keep theirs.  Rows are panels to
Grafana, so they have ids too.

Each dashboard has its own enumeration: ids are unique within a dashboard (``@unique``)
and a member knows its dashboard, so an alert's link needs nothing but the member.
"""

from __future__ import annotations

from enum import Enum, unique

from eventscope.monitoring.links import Kind


class PanelId(Enum):
    """A panel of one generated dashboard; each subclass lists one dashboard's panels."""

    @property
    def id(self) -> int:
        """The panel id Grafana stores and links use."""
        return int(self.value)

    @property
    def dashboard(self) -> Kind:
        return DASHBOARD_OF[type(self)]


@unique
class OverviewPanel(PanelId):
    """The overview dashboard; alerts link to its error-ratio, latency, send-error and
    outbox panels."""

    GLANCE_ROW = 1
    CONSUMED_TOTAL = 2
    SENT_TOTAL = 3
    ERROR_RATIO_TOTAL = 4
    P99_TOTAL = 5
    E2E_P99_TOTAL = 6
    IN_FLIGHT_TOTAL = 7
    THROUGHPUT_ROW = 8
    CONSUMED = 9
    SENT = 10
    OUTCOMES = 11
    ERROR_RATIO = 12
    LATENCY_ROW = 13
    PROCESSING_LATENCY = 14
    END_TO_END_LATENCY = 15
    SEND_LATENCY = 16
    SEND_ERRORS = 17
    CONSUMERS_ROW = 18
    IN_FLIGHT = 19
    LAG = 20
    INVALID_HEADERS = 21
    OUTBOX_ROW = 22
    OUTBOX_WAITING = 23
    OUTBOX_AGE = 24
    OUTBOX_RELAYED = 25
    OUTBOX_FAILURES = 26


@unique
class LagPanel(PanelId):
    """The consumer lag dashboard; the lag, stall and exporter alerts link here."""

    GLANCE_ROW = 1
    TOTAL = 2
    OLDEST = 3
    STALLED_COUNT = 4
    MEMBERS_TOTAL = 5
    LAG_ROW = 6
    MESSAGES = 7
    SECONDS = 8
    MESSAGES_BY_PARTITION = 9
    SECONDS_BY_PARTITION = 10
    PROGRESS_ROW = 11
    GROWTH = 12
    COMMIT_RATE = 13
    STALLED = 14
    PENDING = 15
    GROUPS_ROW = 16
    MEMBERS = 17
    REDELIVERED = 18
    EXPORTER_ROW = 19
    EXPORTER_UP = 20
    EXPORTER_ERRORS = 21
    EXPORTER_DURATION = 22


@unique
class DeadLetterPanel(PanelId):
    """The dead-letter dashboard; the dead-letter alerts link to reasons and depth."""

    GLANCE_ROW = 1
    RATE_TOTAL = 2
    IN_RANGE = 3
    SHARE = 4
    DEPTH_TOTAL = 5
    TRAFFIC_ROW = 6
    RATE = 7
    REASONS = 8
    DEPTH = 9
    TOP_REASONS = 10
    BEFORE_ROW = 11
    RETRIES = 12
    ERROR_RATIO = 13


@unique
class SloPanel(PanelId):
    """The SLO dashboard: one row of six panels per objective; burn alerts link to BURN."""

    ERRORS_ROW = 1
    ERRORS_OBJECTIVE = 2
    ERRORS_SLI = 3
    ERRORS_BUDGET = 4
    ERRORS_BURN_NOW = 5
    ERRORS_BURN = 6
    ERRORS_BUDGET_TREND = 7
    LATENCY_ROW = 8
    LATENCY_OBJECTIVE = 9
    LATENCY_SLI = 10
    LATENCY_BUDGET = 11
    LATENCY_BURN_NOW = 12
    LATENCY_BURN = 13
    LATENCY_BUDGET_TREND = 14


DASHBOARD_OF: dict[type[PanelId], Kind] = {
    OverviewPanel: Kind.OVERVIEW,
    LagPanel: Kind.LAG,
    DeadLetterPanel: Kind.DEAD_LETTER,
    SloPanel: Kind.SLO,
}
"""The dashboard each enumeration numbers (every :class:`Kind` has exactly one)."""
