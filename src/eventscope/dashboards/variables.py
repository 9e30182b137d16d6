"""Template variables: data source, service (``job``), messaging system, destination, group.

Each variable lists the values present in the metrics its dashboard shows, kept to the
configured scope and to the variables before it (pick a system, see its destinations).
Panels filter with ``=~"$name"``; Grafana expands a multi-value or "All" selection to a
regex of the options, so a dashboard never shows what the configuration left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from grafana_foundation_sdk.builders import dashboard as builders
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.models.dashboard import (
    VariableModel,
    VariableOption,
    VariableRefresh,
    VariableSort,
)

from eventscope.catalog import Metric
from eventscope.config import Config
from eventscope.dashboards.panels import DATASOURCE, DATASOURCE_VARIABLE
from eventscope.monitoring.promql import (
    DESTINATION,
    GROUP,
    JOB,
    SYSTEM,
    Scope,
    config_scope,
    quote,
)


@dataclass(frozen=True)
class Variable:
    name: str
    label: str
    prometheus_label: str


SERVICE = Variable("job", "Service", JOB)
SYSTEM_VARIABLE = Variable("system", "Messaging system", SYSTEM)
DESTINATION_VARIABLE = Variable("destination", "Destination", DESTINATION)
GROUP_VARIABLE = Variable("consumer_group", "Consumer group", GROUP)


def datasource_name(config: Config) -> str:
    """The name of the provisioned Prometheus data source, the dashboards' default."""
    return f"{config.name} Prometheus"


def reference(variable: Variable) -> str:
    return "$" + variable.name


def panel_scope(config: Config, with_service: bool) -> Scope:
    """The scope panels query with: every label filtered by its variable."""
    return Scope(
        job=reference(SERVICE) if with_service else None,
        system=reference(SYSTEM_VARIABLE),
        destination=reference(DESTINATION_VARIABLE),
        dead_letter_destination=config_scope(config).dead_letter_destination,
        group=reference(GROUP_VARIABLE),
        time_scale=config.time_scale,
    )


def _selector(metrics: Sequence[Metric], matchers: list[str]) -> str:
    names = sorted({m.prometheus_name for m in metrics})
    if len(names) == 1:
        return names[0] + ("{" + ", ".join(matchers) + "}" if matchers else "")
    name = "__name__=~" + quote("|".join(names))
    return "{" + ", ".join([name, *matchers]) + "}"


def _static(config: Config, variable: Variable) -> str | None:
    scope = config_scope(config)
    return {JOB: scope.job, DESTINATION: scope.destination, GROUP: scope.group}.get(
        variable.prometheus_label
    )


def template_variables(
    config: Config, source: Sequence[Metric], with_service: bool
) -> list[Builder[VariableModel]]:
    """The dashboard's variables; option values come from the ``source`` metrics."""
    chain = [SERVICE] if with_service else []
    chain += [SYSTEM_VARIABLE, DESTINATION_VARIABLE]
    if any(GROUP in m.prometheus_labels for m in source):
        chain.append(GROUP_VARIABLE)
    result: list[Builder[VariableModel]] = [
        builders.DatasourceVariable(DATASOURCE_VARIABLE)
        .label("Data source")
        .type("prometheus")
        .current(
            VariableOption(
                text=datasource_name(config), value=config.grafana.datasource_uid, selected=True
            )
        )
    ]
    for index, variable in enumerate(chain):
        matchers = []
        static = _static(config, variable)
        if static is not None:
            matchers.append(f"{variable.prometheus_label}=~{quote(static)}")
        for earlier in chain[:index]:
            matchers.append(f"{earlier.prometheus_label}=~{quote(reference(earlier))}")
        query = f"label_values({_selector(source, matchers)}, {variable.prometheus_label})"
        result.append(
            builders.QueryVariable(variable.name)
            .label(variable.label)
            .datasource(DATASOURCE)
            .query(query)
            .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
            .sort(VariableSort.ALPHABETICAL_ASC)
            .multi(True)
            .include_all(True)
        )
    return result
