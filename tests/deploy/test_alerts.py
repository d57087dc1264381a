"""The Prometheus alert rules parse, behave as the runbook says, and use metrics that exist."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import temporalio.bridge
import yaml
from prometheus_client.parser import text_string_to_metric_families

from config import metrics
from store import gauges
from tests.deploy.conftest import DEPLOY, SDK_FAILURE_METRICS, SDK_METRICS

PROMETHEUS = DEPLOY / "prometheus"
RULES = PROMETHEUS / "alerts.yml"
RUNBOOK = DEPLOY / "RUNBOOK.md"
METRIC = re.compile(r"\b((?:roi|temporal)_[a-z0-9_]+|up)\b(?!\s*\()")


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    found = shutil.which("promtool")
    if found is None:
        pytest.skip("promtool not installed (scripts/test installs Debian's prometheus)")
    return subprocess.run(
        [found, *args], capture_output=True, text=True, timeout=60, check=False, cwd=PROMETHEUS
    )


def alerts() -> list[dict]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def our_metric_names(database_url: str) -> set[str]:
    """Every series name our code exposes: the worker's counters and the web app's gauges."""
    body, _ = metrics.exposition(gauges.read_model_registry(lambda: database_url))
    names = set()
    for family in text_string_to_metric_families(body.decode()):
        names.add(family.name)
        if family.type == "counter":
            names.add(f"{family.name}_total")
        names.update(s.name for s in family.samples)
    return names


def test_promtool_accepts_the_rules_and_the_scrape_config() -> None:
    checked = promtool("check", "rules", "alerts.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"{len(alerts())} rules found" in checked.stdout
    config = promtool("check", "config", "--syntax-only", "prometheus.yml")
    assert config.returncode == 0, config.stdout + config.stderr


def test_alerts_fire_and_resolve_as_the_unit_tests_expect() -> None:
    tested = promtool("test", "rules", "alerts_test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_alerts_use_only_metrics_that_exist(deploy_db: str) -> None:
    ours = our_metric_names(deploy_db)
    assert {"roi_sla_breached_open_requests", "roi_letters_rendered_total"} <= ours
    native = Path(temporalio.bridge.__file__).parent
    [library] = list(native.glob("temporal_sdk_bridge*.so")) or list(native.glob("*.so"))
    sdk_strings = library.read_bytes()
    used = set()
    for rule in alerts():
        for name in METRIC.findall(rule["expr"]):
            used.add(name)
            if name.startswith("roi_"):
                assert name in ours, (rule["alert"], name)
            elif name.startswith("temporal_"):
                assert name in SDK_METRICS | SDK_FAILURE_METRICS, (rule["alert"], name)
    for name in SDK_FAILURE_METRICS & used:
        # a clean run never reports these, so check the SDK itself knows the metric
        core = name.removeprefix("temporal_").removesuffix("_total").encode()
        assert core in sdk_strings, name
    scrape = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    jobs = {job["job_name"] for job in scrape["scrape_configs"]}
    for rule in alerts():
        for job in re.findall(r'job="([^"]+)"', rule["expr"]):
            assert job in jobs, (rule["alert"], job)


def test_every_alert_is_explained_in_the_runbook() -> None:
    runbook = RUNBOOK.read_text()
    headings = {h.strip() for h in re.findall(r"^#+\s+(.+)$", runbook, flags=re.M)}
    for rule in alerts():
        name = rule["alert"]
        assert rule["labels"]["severity"] in {"critical", "warning"}, name
        assert rule["annotations"]["summary"], name
        assert rule["annotations"]["runbook"] == f"deploy/RUNBOOK.md#{name.lower()}", name
        assert name in headings, f"RUNBOOK.md has no section for {name}"
    # and nothing in labels or annotations could carry PHI: only codes are interpolated
    for rule in alerts():
        for template in re.findall(r"\{\{\s*([^}]+?)\s*\}\}", str(rule["annotations"])):
            assert template in {
                "$labels.site",
                "$labels.workflow_type",
                "$labels.activity_type",
                "$value",
                "$value | humanizeDuration",
            }, template
