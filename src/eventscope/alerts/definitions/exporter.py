"""The lag exporter's own alert: without it, every lag alert for a broker is blind.

One alert: its expression, its panel on the consumer lag dashboard
(:attr:`~eventscope.monitoring.LagPanel.EXPORTER_UP`) and its runbook.
"""

from __future__ import annotations

from eventscope import catalog
from eventscope.alerts.definitions.common import SYSTEM_LINK
from eventscope.alerts.model import WARNING, Alert, Runbook, label
from eventscope.config import Config
from eventscope.monitoring import LagPanel, config_scope, signals
from eventscope.monitoring.promql import JOB, LAG_TARGET, SYSTEM


def lag_exporter_down(config: Config) -> Alert:
    target_up = signals.lag_target_up(config_scope(config))
    return Alert(
        name="EventscopeLagExporterDown",
        expr=f"{target_up} == 0",
        for_="5m",
        severity=WARNING,
        summary=f"Lag collection from {label(LAG_TARGET)} fails",
        description=f"The lag exporter in {label(JOB)} could not read consumer lag from "
        f"{label(LAG_TARGET)} ({label(SYSTEM)}) for 5 minutes: lag alerts for it are "
        "blind.",
        panel=LagPanel.EXPORTER_UP,
        signals=(target_up,),
        link_variables=SYSTEM_LINK,
        runbook=Runbook(
            meaning="The standalone lag exporter's last collections from this broker "
            f"failed ({catalog.LAG_TARGET_UP.prometheus_name} is 0).",
            impact="Lag, stall and dead-letter depth alerts cannot fire for this "
            "broker: a failed broker never reports zero lag, it reports nothing.",
            investigate=(
                "The exporter's collection errors panel shows the error type.",
                "Check the exporter's credentials and network path to the broker, "
                "and the broker's admin API.",
            ),
            remedies=("Restore connectivity or credentials; collection resumes by itself.",),
        ),
    )
