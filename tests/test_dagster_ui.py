"""`make ui`: the real `dagster dev` comes up and its GraphQL API shows what a data engineer expects,
including which landing feed is late (freshness policies evaluated by the daemon `dagster dev` runs)."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.browser import chromium, save_screenshot

ROOT = Path(__file__).resolve().parent.parent
DAGSTER = str(Path(sys.executable).parent / "dagster")

ASSETS_QUERY = """{ assetNodes {
  assetKey { path } groupName description kinds
  owners { ... on TeamAssetOwner { team } ... on UserAssetOwner { email } }
  assetChecksOrError { ... on AssetChecks { checks { name blocking } } }
} }"""
DAY = "2025-03-03"
LATE_AFTER_SECONDS = 60
FRESHNESS_QUERY = """query Freshness($keys: [AssetKeyInput!]) { assetNodes(assetKeys: $keys) {
  assetKey { path }
  internalFreshnessPolicy { ... on TimeWindowFreshnessPolicy { failWindowSeconds warnWindowSeconds } }
  freshnessStatusInfo { freshnessStatus freshnessStatusMetadata { lastMaterializedTimestamp } }
  assetMaterializations(limit: 10) { runId timestamp }
} }"""
LAUNCH_MUTATION = """mutation Launch($params: ExecutionParams!) { launchRun(executionParams: $params) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
  ... on InvalidSubsetError { message } ... on RunConfigValidationInvalid { errors { message } }
} }"""
RUN_QUERY = """query Run($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"""
AUTOMATION_QUERY = """{ repositoriesOrError { ... on RepositoryConnection { nodes {
  location { name } schedules { name cronSchedule executionTimezone } sensors { name }
} } } }"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(url: str, query: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"{url}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        body = json.load(response)
    assert "errors" not in body, body["errors"]
    return body["data"]


@pytest.fixture(scope="module")
def dagster_ui(tmp_path_factory):
    """`dagster dev` on a free port, cwd the project root (pyproject's [tool.dagster]), own DAGSTER_HOME."""
    root = tmp_path_factory.mktemp("dagster_ui")
    (root / "dagster_home").mkdir()
    # One day of every feed, for the freshness test's runs (which read only channels and orders).
    subprocess.run(
        [str(Path(sys.executable).parent / "salesmp"), "generate", "--out", str(root / "landing"), "--start", DAY,
         "--days", "1", "--customers", "30", "--orders", "40", "--defect-rate", "0"],
        check=True, capture_output=True, cwd=ROOT,
    )
    env = {
        **os.environ,
        "DAGSTER_HOME": str(root / "dagster_home"),
        "SALESMP_LANDING": str(root / "landing"),
        "SALESMP_WAREHOUSE": str(root / "warehouse.duckdb"),
        "SALESMP_SERVING": str(root / "serving.duckdb"),
        "SALESMP_SITE": str(root / "site"),
        # channels is late 1 minute after its last delivery (Dagster's smallest window), the rest keep
        # the seed's windows; the freshness daemon evaluates every 5 s instead of 30.
        "SALESMP_FRESHNESS": f"channels={LATE_AFTER_SECONDS // 60}m",
        "FRESHNESS_DAEMON_INTERVAL_SECONDS": "5",
        "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
    }
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(root / "dagster_dev.log", "w")  # noqa: SIM115 - closed below, after the process
    process = subprocess.Popen(
        [DAGSTER, "dev", "-h", "127.0.0.1", "-p", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        # dagster dev parses the dbt project first (prepare_if_dev): 20 s alone, minutes on a busy machine.
        deadline = time.monotonic() + 300
        while True:
            assert process.poll() is None, f"dagster dev exited: {(root / 'dagster_dev.log').read_text()[-3000:]}"
            try:
                with urllib.request.urlopen(f"{url}/server_info", timeout=5):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                assert time.monotonic() < deadline, "dagster dev did not answer within 300 s"
                time.sleep(1)
        yield {"url": url, "landing": root / "landing"}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=30)
        # dagster dev's children (webserver, daemon, code server) are in its process group too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        log.close()


def test_graphql_lists_assets_checks_groups_owners_and_kinds(dagster_ui):
    nodes = {tuple(n["assetKey"]["path"]): n for n in graphql(dagster_ui["url"], ASSETS_QUERY)["assetNodes"]}
    for feed in ("orders", "customers", "channels", "surveys", "complaints", "leads", "channel_activity"):
        assert nodes[("raw", feed)]["groupName"] == "raw"
    assert nodes[("stg_orders",)]["groupName"] == "staging"
    assert nodes[("mart_nps",)]["groupName"] == "marts"
    assert nodes[("serving", "publish")]["groupName"] == "publish"
    docs = nodes[("docs", "dbt_docs")]
    assert docs["groupName"] == "docs"
    assert set(docs["kinds"]) == {"dbt", "html"}
    assert docs["owners"] == [{"team": "data-platform"}]
    assert "dbt docs generate" in docs["description"]
    assert set(nodes[("mart_nps",)]["kinds"]) >= {"dbt", "duckdb"}
    assert {"raw", "staging", "core", "intermediate", "marts", "seeds", "publish", "docs"} <= {
        n["groupName"] for n in nodes.values()
    }
    undescribed = [k for k, n in nodes.items() if not (n["description"] or "").strip()]
    assert not undescribed, undescribed
    unowned = [k for k, n in nodes.items() if not n["owners"]]
    assert not unowned, unowned

    checks = {
        k: {c["name"]: c["blocking"] for c in n["assetChecksOrError"].get("checks", [])} for k, n in nodes.items()
    }
    # dbt tests as checks (blocking: severity error) and the Great Expectations suites.
    assert checks[("stg_orders",)].get("unique_stg_orders_order_id") is True
    assert checks[("mart_nps",)].get("not_null_mart_nps_grain") is True
    assert checks[("raw", "orders")].get("order_value") is True  # ERROR
    assert checks[("raw", "orders")].get("freshness") is False  # WARN
    assert {"keys", "values"} <= set(checks[("mart_nps",)])
    assert sum(len(c) for c in checks.values()) > 100


def test_graphql_lists_the_daily_schedule_and_the_sensor(dagster_ui):
    (repository,) = graphql(dagster_ui["url"], AUTOMATION_QUERY)["repositoriesOrError"]["nodes"]
    assert repository["location"]["name"] == "salesmp"
    schedules = {s["name"]: s for s in repository["schedules"]}
    assert schedules["daily_yesterday_schedule"]["cronSchedule"] == "30 1 * * *"
    assert {s["name"] for s in repository["sensors"]} >= {"landing_zone_sensor"}


def test_asset_graph_page_renders_in_chromium(dagster_ui):
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with chromium() as driver:
        driver.get(f"{dagster_ui['url']}/asset-groups")
        wait = WebDriverWait(driver, 90)
        wait.until(lambda d: all(
            d.find_elements(By.XPATH, f"//*[normalize-space()='{group}']") for group in ("raw", "publish", "docs")))
        # The first visit greets with a newsletter dialog a moment later; skip it to see the graph.
        skip = "//button[normalize-space()='Skip']"
        with contextlib.suppress(TimeoutException):
            WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.XPATH, skip))[0].click()
        wait.until(lambda d: not d.find_elements(By.XPATH, skip))
        time.sleep(1)  # let the graph's layout settle before the picture
        path = save_screenshot(driver, "dagster_asset_graph.png")
    assert path.stat().st_size > 10_000


def launch_raw_run(url: str, feeds: list[str]) -> str:
    """Ask the webserver for a run of the pipeline job materializing raw/<feed> for DAY; wait until it ends."""
    params = {
        "selector": {
            "repositoryLocationName": "salesmp", "repositoryName": "__repository__", "jobName": "salesmp_pipeline",
            "assetSelection": [{"path": ["raw", feed]} for feed in feeds],
        },
        "executionMetadata": {"tags": [{"key": "dagster/partition", "value": DAY}]},
    }
    launched = graphql(url, LAUNCH_MUTATION, {"params": params})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    deadline = time.monotonic() + 240
    while (status := graphql(url, RUN_QUERY, {"id": run_id})["runOrError"]["status"]) not in (
        "SUCCESS", "FAILURE", "CANCELED"
    ):
        assert time.monotonic() < deadline, f"run {run_id} still {status} after 240 s"
        time.sleep(2)
    assert status == "SUCCESS", f"run {run_id} ended {status}"
    return run_id


def freshness(url: str, *keys: str) -> dict[str, dict]:
    variables = {"keys": [{"path": key.split("/")} for key in keys]}
    return {"/".join(n["assetKey"]["path"]): n for n in graphql(url, FRESHNESS_QUERY, variables)["assetNodes"]}


def wait_for_status(url: str, key: str, status: str, timeout: float) -> float:
    """Poll until the UI shows `key` with freshness `status`; the seconds it took."""
    start = time.monotonic()
    while (shown := freshness(url, key)[key]["freshnessStatusInfo"]["freshnessStatus"]) != status:
        assert time.monotonic() - start < timeout, f"{key} still {shown}, not {status}, after {timeout:.0f} s"
        time.sleep(2)
    return time.monotonic() - start


def test_ui_shows_a_late_feed_late_and_a_fresh_one_fresh(dagster_ui):
    """A run delivers channels and orders. A minute later the UI shows channels late (DEGRADED: its
    window is 1 minute here) and orders, with the seed's 30 hours, fresh (HEALTHY). Which files are a
    delivery (not a re-read of the same files; a re-delivered one) is tested in tests/test_freshness.py."""
    url = dagster_ui["url"]
    shown = freshness(url, "landing/orders", "landing/channels", "landing/sales_targets", "serving/publish",
                      "raw/orders")
    policy = {k: n["internalFreshnessPolicy"] for k, n in shown.items()}
    assert policy["landing/orders"] == {"failWindowSeconds": 30 * 3600, "warnWindowSeconds": 26 * 3600}
    assert policy["landing/channels"] == {"failWindowSeconds": LATE_AFTER_SECONDS, "warnWindowSeconds": None}
    assert policy["landing/sales_targets"]["failWindowSeconds"] == 35 * 24 * 3600
    assert policy["serving/publish"]["failWindowSeconds"] == 30 * 3600
    assert policy["raw/orders"] is None  # a raw materialization is not a delivery (empty days materialize)

    first = launch_raw_run(url, ["channels", "orders"])
    shown = freshness(url, "landing/orders", "landing/channels")
    for key in shown:
        assert [m["runId"] for m in shown[key]["assetMaterializations"]] == [first], key
    delivered_at = float(shown["landing/channels"]["assetMaterializations"][0]["timestamp"]) / 1000

    wait_for_status(url, "landing/channels", "DEGRADED", timeout=LATE_AFTER_SECONDS + 90)
    assert time.time() >= delivered_at + LATE_AFTER_SECONDS  # not shown late before its window
    shown = freshness(url, "landing/orders", "landing/channels", "landing/leads")
    assert shown["landing/orders"]["freshnessStatusInfo"]["freshnessStatus"] == "HEALTHY"
    late = shown["landing/channels"]["freshnessStatusInfo"]
    delivery = shown["landing/channels"]["assetMaterializations"][0]
    assert late["freshnessStatusMetadata"]["lastMaterializedTimestamp"] * 1000 == pytest.approx(
        float(delivery["timestamp"]), abs=1000
    )
    # A feed no run has read a delivery of yet has no freshness to show (unknown).
    assert shown["landing/leads"]["freshnessStatusInfo"]["freshnessStatus"] == "UNKNOWN"
