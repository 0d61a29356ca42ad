"""A real browser (playwright driving Debian's chromium; `make test` installs it) walks the review
app as an analyst and a supervisor would: log in, open the queue, open an alert, see its evidence,
timeline chart and network, record a disposition, export both drafts and find all of it in the
audit log.

NEXUSFIN_SCREENSHOT_DIR=docs also writes the alert-view screenshot kept in docs/."""

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn
from argon2 import PasswordHasher

from nexusfin.review.app import create_app
from nexusfin.review.reports import validate_goaml
from nexusfin.review.store import ReviewStore, verify_audit_chain
from nexusfin.warehouse import read_only_query

pytestmark = pytest.mark.slow
CHROMIUM = os.environ.get("NEXUSFIN_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "correct horse battery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(scored, tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"the browser test needs Debian's chromium at {CHROMIUM}: run `make browser` "
                    "(apt-get install chromium)")
    out, _ = scored
    store = ReviewStore(tmp_path / "review.sqlite", password_hasher=PasswordHasher(time_cost=1, memory_cost=1024))
    store.add_user("ana", "Ana Analyst", "analyst", PASSWORD)
    store.add_user("sam", "Sam Supervisor", "supervisor", PASSWORD)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(out / "warehouse.duckdb", store.path), host="127.0.0.1",
                                           port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the review app did not start"
        time.sleep(0.05)
    yield out, store, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def _login(page, base, username):
    page.goto(f"{base}/queue")
    assert "/login" in page.url  # nothing before login
    assert page.locator('[data-testid="queue-table"]').count() == 0
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_url(f"{base}/queue")


def test_an_analyst_reviews_escalates_and_exports_and_the_supervisor_finds_it_audited(served, tmp_path):
    from playwright.sync_api import sync_playwright

    out, store, base = served
    wh = out / "warehouse.duckdb"
    # an alert with detector evidence (and a facilitator path when the world has one)
    aid = (read_only_query(wh, "SELECT alert_id FROM alert_queue WHERE len(detector_alert_ids) > 0 "
                               "ORDER BY facilitator_path_accounts IS NULL, score DESC LIMIT 1")["alert_id"].to_list()
           or read_only_query(wh, "SELECT alert_id FROM alert_queue ORDER BY score DESC LIMIT 1")["alert_id"].to_list())[0]
    n_alerts = read_only_query(wh, "SELECT count(*) FROM alert_queue").item()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            ctx = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000})
            page = ctx.new_page()
            _login(page, base, "ana")
            # the queue, every alert when asked for all statuses
            page.select_option('select[name="status"]', "all")
            page.click('[data-testid="queue-filters"] button[type="submit"]')
            assert page.locator('[data-testid="queue-table"] tbody tr[data-alert-id]').count() == n_alerts
            # open the alert from the queue
            page.click(f'tr[data-alert-id="{aid}"] a')
            page.wait_for_url(f"{base}/alerts/{aid}")
            assert page.locator('[data-testid="lock-info"]').is_visible()
            assert page.locator('[data-testid="detector-table"] tbody tr').count() >= 1
            evidence_rows = page.locator('[data-testid="evidence-table"] tbody tr[data-txn-id]')
            assert evidence_rows.count() >= 1
            timeline = page.locator('svg[data-testid="timeline-chart"]')
            network = page.locator('svg[data-testid="network-chart"]')
            assert timeline.is_visible() and network.is_visible()
            assert timeline.bounding_box()["height"] > 100 and network.bounding_box()["height"] > 100
            assert timeline.locator("g.txn").count() >= 1 and timeline.locator("g.ctr-threshold").count() == 1
            assert network.locator("g.node.role-subject").count() == 1
            shot = tmp_path / "review-alert-view.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 20_000
            if os.environ.get("NEXUSFIN_SCREENSHOT_DIR"):
                shutil.copy(shot, Path(os.environ["NEXUSFIN_SCREENSHOT_DIR"]) / shot.name)
            # the disposition: forced choice + mandatory note
            page.check('input[name="decision"][value="escalate_sar"]')
            page.fill('[data-testid="disposition-form"] textarea[name="note"]',
                      "Evidence reviewed: activity matches the detector findings; escalating to SAR.")
            page.click('[data-testid="disposition-form"] button[type="submit"]')
            page.wait_for_selector('[data-testid="reports"]')
            assert "Escalate to SAR" in page.locator('[data-testid="alert-status"]').inner_text()
            # both drafts download; the XML validates against schemas/goaml_report.xsd
            with page.expect_download() as dl:
                page.click('[data-testid="export-goaml"]')
            xml = Path(dl.value.path()).read_bytes()
            assert validate_goaml(xml) == [] and aid.encode() in xml
            with page.expect_download() as dl:
                page.click('[data-testid="export-narrative"]')
            narrative = Path(dl.value.path()).read_text()
            assert all(w in narrative for w in ("WHO", "WHAT", "WHEN", "WHERE", "WHY", "HOW"))
            # the supervisor finds every step in the audit log, the chain intact
            sup = browser.new_context().new_page()
            _login(sup, base, "sam")
            sup.click('[data-testid="nav-audit"]')
            assert "Hash chain intact" in sup.locator('[data-testid="chain-status"]').inner_text()
            rows = sup.locator(f'[data-testid="audit-table"] tr:has(a[href="/alerts/{aid}"])')
            actions = {rows.nth(i).locator("td").nth(3).inner_text() for i in range(rows.count())}
            assert {"lock", "view", "disposition", "export"} <= actions
            sup.click('[data-testid="nav-supervisor"]')
            assert sup.locator('[data-testid="sup-precision"] tbody tr').count() >= 1
        finally:
            browser.close()
    exports = [e for e in store.audit_events(alert_id=aid) if e["action"] == "export"]
    assert len(exports) == 2 and verify_audit_chain(store.path).ok
