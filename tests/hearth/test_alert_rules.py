"""deploy/prometheus/ and deploy/grafana/: the alert rules are well formed (promtool when it
is installed, else a schema check), name only metrics Hearth really exports (so does the
dashboard), and the scrape config loads them."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from hearth.metrics import metric_names

PROMETHEUS = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
ALERTS = PROMETHEUS / "alerts.yml"
# Series Prometheus makes itself, not Hearth.
PROMETHEUS_SERIES = {"up"}
SEVERITIES = {"critical", "warning"}


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(ALERTS.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_every_rule_is_complete():
    found = rules()
    assert len(found) >= 5
    names = [rule["alert"] for rule in found]
    assert len(names) == len(set(names)), "alert names repeat"
    for rule in found:
        assert set(rule) == {"alert", "expr", "for", "labels", "annotations"}, rule["alert"]
        assert re.fullmatch(r"Hearth[A-Za-z]+", rule["alert"])
        assert isinstance(rule["expr"], str) and rule["expr"].strip()
        assert re.fullmatch(r"\d+[smh]", str(rule["for"])), rule["alert"]
        assert rule["labels"]["severity"] in SEVERITIES, rule["alert"]
        assert rule["annotations"]["summary"].strip(), rule["alert"]
        assert rule["annotations"]["description"].strip(), rule["alert"]


def metrics_in(expr: str) -> set[str]:
    """Metric names in a PromQL expression: identifiers that are not functions, keywords,
    label matchers, strings or ranges."""
    expr = re.sub(r"\{[^}]*\}|\"[^\"]*\"|\[[^\]]*\]", " ", expr)
    expr = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    return {name for name in re.findall(r"\b([a-z_][a-z0-9_]*)\b(?!\s*\()", expr)
            if name not in {"and", "or", "unless", "by", "without", "on", "ignoring", "bool"}}


def test_metric_names_are_found_in_expressions():
    assert metrics_in('sum(increase(hearth_x_total{outcome=~"a|b"}[15m])) > 0 and up == 0'
                      ) == {"hearth_x_total", "up"}
    assert metrics_in("(time() - hearth_a) > 10 * hearth_b") == {"hearth_a", "hearth_b"}
    assert metrics_in("histogram_quantile(0.5, sum by (le) (rate(hearth_c_bucket[1h])))"
                      ) == {"hearth_c_bucket"}


@pytest.mark.django_db
def test_rules_name_only_metrics_hearth_exports():
    exported = metric_names() | PROMETHEUS_SERIES
    for rule in rules():
        names = metrics_in(rule["expr"])
        assert names, rule["alert"]
        assert names <= exported, (rule["alert"], names - exported)


@pytest.mark.django_db
def test_the_dashboard_names_only_metrics_hearth_exports():
    exported = metric_names() | PROMETHEUS_SERIES
    dashboard = json.loads((PROMETHEUS.parent / "grafana" / "hearth.json").read_text())
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            names = metrics_in(target["expr"])
            assert names and names <= exported, (panel["title"], names - exported)


def test_the_scrape_config_loads_the_rules():
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    assert config["rule_files"] == ["alerts.yml"]
    job = next(job for job in config["scrape_configs"] if job["job_name"] == "hearth")
    assert job["metrics_path"] == "/metrics"
    assert any('job="hearth"' in rule["expr"] for rule in rules())


def test_promtool_accepts_the_rules_and_their_unit_tests():
    """`promtool check rules`, then `promtool test rules` on deploy/prometheus/alerts_test.yml
    (the alerts fire, and stay quiet, when they should)."""
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed; the schema tests above check the rules")
    for args in (["check", "rules", "alerts.yml"], ["test", "rules", "alerts_test.yml"],
                 ["check", "config", "prometheus.yml"]):
        done = subprocess.run([promtool, *args], cwd=PROMETHEUS, capture_output=True,
                              text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
