"""The generated dashboards: SDK-valid, laid out, wired to their variables and the catalog."""

from __future__ import annotations

import json
import re
from itertools import combinations
from pathlib import Path
from typing import Any

import yaml
from grafana_foundation_sdk.cog import plugins
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as models
from grafana_foundation_sdk.models import prometheus

from eventscope import catalog
from eventscope.alerts import all_alerts, recordings
from eventscope.config import Config
from eventscope.dashboards import build_dashboards
from eventscope.generate import generated_files
from eventscope.monitoring import Kind
from tests.alerts.tools import promtool
from tests.dashboards.queries import (
    catalog_series,
    metric_names,
    panels,
    recorded_series,
    substitute,
    targets,
    variable_queries,
)

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


def test_four_dashboards_with_stable_uids(config: Config, dashboards: list[dict]) -> None:
    assert sorted(d["uid"] for d in dashboards) == sorted(
        f"{config.name}-{kind.value}" for kind in Kind
    )
    assert [d.model.uid for d in build_dashboards(config)] == [
        d.model.uid for d in build_dashboards(config)
    ]


def test_dashboards_are_valid_sdk_models(dashboards: list[dict]) -> None:
    plugins.register_default_plugins()
    for data in dashboards:
        model = models.Dashboard.from_json(data)
        for panel in model.panels or []:
            assert isinstance(panel, models.Panel | models.RowPanel), panel
            if isinstance(panel, models.Panel):
                assert panel.type_val in {"timeseries", "stat", "table"}, panel.type_val
                assert panel.targets, panel.title
                assert all(isinstance(t, prometheus.Dataquery) for t in panel.targets)
        again = json.loads(json.dumps(model, cls=JSONEncoder))
        kept = ("id", "type", "title", "gridPos", "targets", "links", "description")
        for before, after in zip(data["panels"], again["panels"], strict=True):
            assert {k: before.get(k) for k in kept} == {k: after.get(k) for k in kept}
        assert again["templating"] == data["templating"]


def test_panel_ids_are_unique_and_the_grid_has_no_overlap(dashboards: list[dict]) -> None:
    for data in dashboards:
        all_panels = list(panels(data))
        ids = [p["id"] for p in all_panels]
        assert len(ids) == len(set(ids)), data["uid"]
        boxes = [(p["title"], p["gridPos"]) for p in all_panels]
        for _, g in boxes:
            assert g["x"] >= 0 and g["w"] > 0 and g["x"] + g["w"] <= 24, (data["uid"], g)
        for (a, p), (b, q) in combinations(boxes, 2):
            apart = (
                p["x"] + p["w"] <= q["x"]
                or q["x"] + q["w"] <= p["x"]
                or p["y"] + p["h"] <= q["y"]
                or q["y"] + q["h"] <= p["y"]
            )
            assert apart, f"{data['uid']}: {a!r} overlaps {b!r}"


def _variables_in(text: str) -> set[str]:
    return {m for m in re.findall(r"\$\{?(\w+)", text) if not m.startswith("__")}


def test_every_variable_used_exists_and_every_variable_is_used(dashboards: list[dict]) -> None:
    for data in dashboards:
        defined = {v["name"] for v in data["templating"]["list"]}
        used = set()
        for target in targets(data):
            used |= _variables_in(target.expr)
        for _, selector, _ in variable_queries(data):
            used |= _variables_in(selector)
        datasource_refs = {"datasource"}
        assert used <= defined, f"{data['uid']}: undefined {used - defined}"
        assert defined <= used | datasource_refs, f"{data['uid']}: unused {defined - used}"


def test_every_datasource_reference_is_the_variable(dashboards: list[dict]) -> None:
    def references(node: Any, path: str) -> list[tuple[str, Any]]:
        found = []
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "datasource":
                    found.append((f"{path}.{key}", value))
                else:
                    found += references(value, f"{path}.{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                found += references(value, f"{path}[{index}]")
        return found

    for data in dashboards:
        builtin = data["annotations"]["list"]
        assert [a["builtIn"] for a in builtin] == [1]
        body = {k: v for k, v in data.items() if k != "annotations"}
        refs = references(body, data["uid"])
        assert refs
        for path, ref in refs:
            assert ref == DATASOURCE, f"{path}: {ref}"
        datasource_variable = data["templating"]["list"][0]
        assert datasource_variable["type"] == "datasource"
        assert datasource_variable["query"] == "prometheus"


def test_panels_have_units_descriptions_and_thresholds_where_alerts_fire(
    config: Config, dashboards: list[dict]
) -> None:
    for data in dashboards:
        for panel in panels(data):
            if panel["type"] == "row":
                continue
            assert panel["description"], panel["title"]
            assert panel["fieldConfig"]["defaults"]["unit"], panel["title"]
    by_uid = {d["uid"]: d for d in dashboards}
    for alert in all_alerts(config):
        uid = f"{config.name}-{alert.dashboard.value}"
        panel = next(p for p in panels(by_uid[uid]) if p["id"] == alert.panel.id)
        if panel["type"] == "table":
            continue
        steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
        assert len(steps) > 1, f"{alert.panel!r}: no threshold line where its alert fires"


def test_units_match_what_the_queries_measure(dashboards: list[dict]) -> None:
    units = {}
    for data in dashboards:
        for panel in panels(data):
            if panel["type"] != "row":
                units[panel["title"]] = panel["fieldConfig"]["defaults"]["unit"]
    assert units["Lag (seconds) by group"] == "s"
    assert units["Lag (messages) by group"] == "short"
    assert units["Error ratio by group"] == "percentunit"
    assert units["Processing latency (p50, p95, p99)"] == "s"
    assert units["Error budget remaining"] == "percentunit"


def test_queries_select_only_catalog_metrics_and_show_every_one(
    config: Config, dashboards: list[dict]
) -> None:
    allowed = catalog_series() | recorded_series(config)
    shown = set()
    for data in dashboards:
        for target in targets(data):
            names = metric_names(target.expr)
            assert names or target.expr.startswith("vector("), target
            assert names <= allowed, f"{target.dashboard} / {target.panel}: {names - allowed}"
            shown |= names
        for name, selector, _ in variable_queries(data):
            names = metric_names(selector)
            assert names and names <= allowed, f"{data['uid']} ${name}: {names}"
    assert {m.prometheus_name for m in catalog.METRICS} <= {
        n.removesuffix("_bucket").removesuffix("_count").removesuffix("_sum") for n in shown
    }


def test_metric_name_scanner_sees_through_promql() -> None:
    expr = (
        'sum by (job, le) (rate(a_bucket{job=~"$job", x="by (y)"}[5m])) / on (job) '
        'b:rec:ratio_rate5m > bool 0 or vector(1) and {__name__=~"c|d"}'
    )
    assert metric_names(expr) == {"a_bucket", "b:rec:ratio_rate5m", "c", "d"}


def test_every_panel_query_parses(config: Config, dashboards: list[dict], tmp_path: Path) -> None:
    """promtool parses each query (variables substituted) as a recording rule."""
    rules = []
    for data in dashboards:
        for target in targets(data):
            rules.append({"record": f"check:panel_{len(rules)}", "expr": substitute(target.expr)})
        for _, selector, label in variable_queries(data):
            expr = f"count by ({label}) ({substitute(selector)})"
            rules.append({"record": f"check:variable_{len(rules)}", "expr": expr})
    path = tmp_path / "panels.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "panels", "rules": rules}]}))
    output = promtool("check", "rules", str(path))
    assert f"SUCCESS: {len(rules)} rules found" in output


def test_rule_expressions_select_only_catalog_metrics(config: Config) -> None:
    allowed = catalog_series() | recorded_series(config)
    for rules in recordings(config).values():
        for rule in rules:
            assert metric_names(rule.expr) <= allowed, rule
    for alert in all_alerts(config):
        assert metric_names(alert.expr) <= allowed, alert.name
        for signal in alert.signals:
            assert metric_names(signal) <= allowed and signal in alert.expr, alert.name


def test_alerts_compare_recorded_ratios_and_quantiles(config: Config) -> None:
    """Every ratio and quantile an alert uses comes from a recording rule."""
    for alert in all_alerts(config):
        assert "histogram_quantile" not in alert.expr, alert.name
        assert " / " not in alert.expr, alert.name


def test_links_point_at_generated_dashboards_and_panels(
    config: Config, dashboards: list[dict]
) -> None:
    paths = {f"/d/{d['uid']}/{d['uid']}" for d in dashboards}
    for data in dashboards:
        assert data["links"][0]["type"] == "dashboards"
        for panel in panels(data):
            for link in panel.get("links", []):
                assert link["url"] in paths, link
    ids = {d["uid"]: {p["id"] for p in panels(d)} for d in dashboards}
    for document in ("alerts/threshold-rules.yaml", "alerts/slo-rules.yaml"):
        groups = yaml.safe_load(generated_files(config)[document])["groups"]
        for rule in (r for g in groups for r in g["rules"] if "alert" in r):
            url = rule["annotations"]["dashboard_url"]
            match = re.fullmatch(
                re.escape(config.grafana.url) + r"/d/([\w-]+)/[\w-]+\?viewPanel=(\d+)(&.*)?", url
            )
            assert match, url
            assert int(match.group(2)) in ids[match.group(1)], url
            assert rule["annotations"]["runbook_url"].endswith(f"/{rule['alert']}.md")


def test_a_panel_says_which_systems_cannot_report_its_metric(dashboards: list[dict]) -> None:
    """A panel that stays empty for one broker says so (catalog.NOT_REPORTED), instead of
    leaving a reader to guess between "broken" and "not available"."""
    for metric in {m for (_, m) in catalog.NOT_REPORTED}:
        described = [
            panel["description"]
            for board in dashboards
            for panel in panels(board)
            if any(metric.prometheus_name in t.get("expr", "") for t in panel.get("targets", []))
        ]
        assert described, metric.prometheus_name
        for text in described:
            for system in catalog.not_reported_by(metric):
                assert f"{system}:" in text.split("Not reported by", 1)[-1], (system, text)
