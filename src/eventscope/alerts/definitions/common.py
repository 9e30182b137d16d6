"""Phrases and link variables several alert definitions share, so they read alike."""

from __future__ import annotations

from eventscope.alerts.model import label
from eventscope.monitoring.promql import DESTINATION, GROUP, JOB, SYSTEM

WHERE = f"{label(GROUP)} on {label(DESTINATION)} ({label(SYSTEM)})"
"""A consumer group, its destination and its messaging system, as alert text."""

FLOW_LINK = {"system": SYSTEM, "destination": DESTINATION, "consumer_group": GROUP}
"""Dashboard variables set from a consumer group's labels (no service: lag dashboards)."""
CONSUMER_LINK = {"job": JOB, **FLOW_LINK}
PRODUCER_LINK = {"job": JOB, "system": SYSTEM, "destination": DESTINATION}
SYSTEM_LINK = {"system": SYSTEM}
