"""The review app over a real scored world (warehouse read-only, own store): login before anything,
CSRF, roles, queue filters, locks, mandatory dispositions, drafts only for escalations, audit of
every action, and the pipeline reading decisions back as training labels."""

import hashlib
import re
import shutil
import sqlite3

import polars as pl
import pytest
from argon2 import PasswordHasher
from starlette.testclient import TestClient

from nexusfin.review.app import create_app
from nexusfin.review.config import load_review_config
from nexusfin.review.reports import validate_goaml
from nexusfin.review.store import ReviewStore, read_dispositions, verify_audit_chain
from nexusfin.warehouse import read_only_query

pytestmark = pytest.mark.slow
PASSWORD = "correct horse battery"


@pytest.fixture
def app_env(scored, tmp_path):
    out, _ = scored
    store = ReviewStore(tmp_path / "review" / "review.sqlite",
                        password_hasher=PasswordHasher(time_cost=1, memory_cost=1024))
    for name, role in (("ana", "analyst"), ("bob", "analyst"), ("sam", "supervisor")):
        store.add_user(name, name.title(), role, PASSWORD)
    app = create_app(out / "warehouse.duckdb", store.path, config=load_review_config())
    return out, store, app


def login(app, username):
    c = TestClient(app, follow_redirects=True)
    page = c.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = c.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token, "next": "/queue"})
    assert r.status_code == 200 and 'data-testid="queue-table"' in r.text
    return c


def csrf(page_text):
    return re.search(r'name="csrf_token" value="([^"]+)"', page_text).group(1)


def alert_ids(out, where="true"):
    return read_only_query(out / "warehouse.duckdb",
                           f"SELECT alert_id FROM alert_queue WHERE {where} ORDER BY score DESC, as_of, queue_rank, alert_id"
                           )["alert_id"].to_list()


def test_nothing_is_visible_before_login(app_env):
    out, _, app = app_env
    c = TestClient(app, follow_redirects=False)
    aid = alert_ids(out)[0]
    for path in ("/queue", "/next", f"/alerts/{aid}", f"/alerts/{aid}/export/goaml.xml", "/supervisor", "/audit"):
        r = c.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), path
    r = c.post(f"/alerts/{aid}/decision", data={"decision": "false_positive", "note": "x" * 20})
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_wrong_password_and_missing_login_token_are_refused(app_env):
    _, store, app = app_env
    c = TestClient(app, follow_redirects=False)
    token = csrf(c.get("/login").text)
    r = c.post("/login", data={"username": "ana", "password": "not the password", "csrf_token": token})
    assert r.status_code == 401 and "wrong password" in r.text
    c2 = TestClient(app, follow_redirects=False)
    r = c2.post("/login", data={"username": "ana", "password": PASSWORD, "csrf_token": "forged"})
    assert r.status_code == 303 and "nexusfin_session" not in r.cookies
    assert [e["action"] for e in store.audit_events()].count("login.failed") == 1


def test_session_cookie_and_security_headers(app_env):
    _, _, app = app_env
    c = TestClient(app, follow_redirects=False)
    token = csrf(c.get("/login").text)
    r = c.post("/login", data={"username": "ana", "password": PASSWORD, "csrf_token": token, "next": "//evil.example"})
    assert r.headers["location"] == "/queue"  # no open redirect
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("nexusfin_session=")).lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    q = c.get("/queue")
    assert "frame-ancestors 'none'" in q.headers["content-security-policy"]
    assert q.headers["x-frame-options"] == "DENY" and q.headers["cache-control"] == "no-store"


def test_forms_without_the_session_csrf_token_are_rejected(app_env):
    out, store, app = app_env
    c = login(app, "ana")
    aid = alert_ids(out)[0]
    c.get(f"/alerts/{aid}")
    r = c.post(f"/alerts/{aid}/decision", data={"decision": "false_positive", "note": "Known payroll pattern.",
                                                "csrf_token": "forged"})
    assert r.status_code == 403
    assert read_dispositions(store.path).is_empty()


def test_analysts_do_not_see_the_supervisor_views(app_env):
    _, _, app = app_env
    c = login(app, "ana")
    assert c.get("/supervisor").status_code == 403
    assert c.get("/audit").status_code == 403
    assert 'data-testid="nav-supervisor"' not in c.get("/queue").text


def test_queue_filters(app_env):
    out, _, app = app_env
    c = login(app, "ana")
    everything = c.get("/queue?status=all").text
    n_all = everything.count("data-alert-id=")
    assert n_all == len(alert_ids(out)) > 0
    q = pl.from_arrow(read_only_query(out / "warehouse.duckdb", "SELECT * FROM alert_queue").to_arrow())
    fams = q.select(pl.col("detector_rules").list.eval(pl.element().str.split(".").list.first())).to_series()
    family = next(f for rules in fams.to_list() for f in rules)
    want = sum(1 for rules in fams.to_list() if family in rules)
    assert c.get(f"/queue?status=all&detector={family}").text.count("data-alert-id=") == want
    first_day = q["as_of"].min()
    n_day = q.filter(pl.col("as_of") == first_day).height
    r = c.get(f"/queue?status=all&date_from={first_day}&date_to={first_day}")
    assert r.text.count("data-alert-id=") == n_day
    high = q.filter(pl.col("score") >= 0.5).height
    assert c.get("/queue?status=all&band=high").text.count("data-alert-id=") == high
    # hostile or malformed input: a clear refusal, never SQL
    assert c.get("/queue?jurisdiction=US' OR 1=1 --").status_code == 400
    assert c.get("/queue?date_from=yesterday").status_code == 400
    assert c.get("/queue?status=all&detector=x' OR '1'='1").text.count("data-alert-id=") == 0


def test_opening_locks_next_skips_locked_and_a_second_analyst_reads_only(app_env):
    out, store, app = app_env
    ana, bob = login(app, "ana"), login(app, "bob")
    first = ana.get("/next")
    aid = str(first.url).rsplit("/", 1)[1]
    assert aid == alert_ids(out)[0] and 'data-testid="disposition-form"' in first.text
    assert store.active_locks()[aid].username == "ana"
    # bob's "next" skips ana's alert; opened directly, it is read-only
    assert str(bob.get("/next").url).rsplit("/", 1)[1] != aid
    view = bob.get(f"/alerts/{aid}")
    assert 'data-testid="locked-by-other"' in view.text and 'data-testid="disposition-form"' not in view.text
    r = bob.post(f"/alerts/{aid}/decision", data={"csrf_token": csrf(view.text), "decision": "false_positive",
                                                  "note": "I should not be able to decide this."})
    assert "locked to you" in r.text
    assert read_dispositions(store.path).is_empty()


def test_the_alert_view_shows_reasons_evidence_chart_network_and_history(app_env):
    out, _, app = app_env
    with_path = alert_ids(out, "facilitator_path_accounts IS NOT NULL AND len(detector_alert_ids) > 0") or \
        alert_ids(out, "len(detector_alert_ids) > 0")
    aid = with_path[0]
    row = read_only_query(out / "warehouse.duckdb", "SELECT * FROM alert_queue WHERE alert_id = ?", [aid]).row(
        0, named=True)
    det = read_only_query(out / "warehouse.duckdb",
                          "SELECT alert_id, rule, evidence_txn_ids FROM detector_alerts WHERE list_contains(?, alert_id)",
                          [row["detector_alert_ids"]])
    evidence = set(det["evidence_txn_ids"].explode().drop_nulls().to_list()) | set(row["facilitator_path_txn_ids"] or [])
    page = login(app, "ana").get(f"/alerts/{aid}").text
    for rule in det["rule"].to_list():
        assert rule in page
    shown = set(re.findall(r'<tr data-txn-id="([^"]+)"', page))
    assert shown == evidence  # only the evidence transactions, all of them
    assert 'data-testid="timeline-chart"' in page and 'class="ctr-threshold"' in page
    assert 'data-testid="network-chart"' in page
    if row["facilitator_path_accounts"]:
        assert 'class="edge on-path"' in page and row["facilitator_entity_id"] in page
    contributions = re.findall(r"<tr><td>([a-z_0-9]+)</td><td class=\"num\">", page)
    assert contributions  # the model's top features


def test_decisions_need_a_choice_and_a_note_and_drafts_follow_escalation(app_env):
    out, store, app = app_env
    c = login(app, "ana")
    aid = alert_ids(out)[0]
    page = c.get(f"/alerts/{aid}").text
    assert c.get(f"/alerts/{aid}/export/goaml.xml").status_code == 409  # not escalated
    r = c.post(f"/alerts/{aid}/decision", data={"csrf_token": csrf(page), "note": "No choice made here."})
    assert "choose a disposition" in r.text
    r = c.post(f"/alerts/{aid}/decision", data={"csrf_token": csrf(page), "decision": "escalate_sar", "note": "  "})
    assert "at least 10" in r.text
    r = c.post(f"/alerts/{aid}/decision", data={"csrf_token": csrf(page), "decision": "escalate_sar",
                                                "note": "Cash split under the threshold, path to a facilitator."})
    assert "Decision recorded" in r.text and 'data-testid="reports"' in r.text
    xml = c.get(f"/alerts/{aid}/export/goaml.xml")
    assert xml.status_code == 200 and "attachment" in xml.headers["content-disposition"]
    assert validate_goaml(xml.content) == []
    assert aid.encode() in xml.content
    narrative = c.get(f"/alerts/{aid}/export/sar-narrative.txt").text
    for section in ("WHO", "WHAT", "WHEN", "WHERE", "WHY", "HOW"):
        assert section in narrative
    exports = [e for e in store.audit_events(alert_id=aid) if e["action"] == "export"]
    assert len(exports) == 2
    assert hashlib.sha256(xml.content).hexdigest() in exports[0]["details"]
    assert [e["action"] for e in store.audit_events(alert_id=aid)][:3] == ["lock", "view", "disposition"] or \
        {"lock", "view", "disposition"} <= {e["action"] for e in store.audit_events(alert_id=aid)}
    assert verify_audit_chain(store.path).ok
    # the supervisor sees it in queue health and the audit log
    sam = login(app, "sam")
    sup = sam.get("/supervisor").text
    assert "Escalate to SAR" in sup and 'data-testid="sup-precision"' in sup
    audit = sam.get("/audit").text
    assert "Hash chain intact" in audit and audit.count(aid) >= 4


def test_the_app_never_writes_the_warehouse(app_env):
    out, _, app = app_env
    wh = out / "warehouse.duckdb"
    before = hashlib.sha256(wh.read_bytes()).hexdigest()
    c = login(app, "ana")
    for aid in alert_ids(out)[:3]:
        c.get(f"/alerts/{aid}")
    c.get("/queue?status=all")
    assert hashlib.sha256(wh.read_bytes()).hexdigest() == before


def test_the_pipeline_reads_decisions_back_and_refuses_a_tampered_log(app_env, tmp_path):
    import dagster as dg

    from nexusfin.contracts import contract
    from nexusfin.scoring.labels import training_labels
    from pipelines.definitions import all_assets
    from pipelines.resources import DetectorSettings, NexusfinStorage, ScoringSettings
    from pipelines.review.assets import dispositions_file
    from pipelines.runner import QUIET, _instance

    out, store, app = app_env
    c = login(app, "ana")
    decided = {}
    for aid, decision in zip(alert_ids(out)[:2], ("escalate_sar", "false_positive"), strict=True):
        page = c.get(f"/alerts/{aid}").text
        c.post(f"/alerts/{aid}/decision", data={"csrf_token": csrf(page), "decision": decision,
                                                "note": f"Decision {decision} for the read-back test."})
        decided[aid] = decision
    lake = tmp_path / "lake"
    shutil.copytree(out / "lake", lake)
    shutil.copy(out / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    res = {"storage": NexusfinStorage(data_root=str(out / "world"), lake=str(lake),
                                      warehouse=str(tmp_path / "warehouse.duckdb")),
           "detectors": DetectorSettings(),
           "scoring": ScoringSettings(models=str(tmp_path / "models"), review_store=str(store.path))}
    run = dg.materialize(all_assets, selection=["alert_dispositions"], resources=res,
                         instance=_instance(tmp_path / "dh"), raise_on_error=False, run_config=QUIET)
    assert run.success
    back = pl.read_parquet(dispositions_file(lake))
    assert dict(zip(back["alert_id"], back["decision"], strict=True)) == decided
    assert contract("alert_dispositions").violations(back) == {}
    n = read_only_query(tmp_path / "warehouse.duckdb", "SELECT count(*) FROM alert_dispositions").item()
    assert n == 2
    # escalations become labels over the alert's window; false positives do not
    sar = pl.read_parquet(out / "world" / "landing" / "reference" / "sar_filings.parquet")
    labels, counts = training_labels(sar, back, window_days=5)
    assert counts["review_escalations"] == 1 and counts["review_false_positives"] == 1
    assert labels.height == sar.height + 1
    # a tampered audit log blocks the read-back (and the training behind it)
    con = sqlite3.connect(store.path)
    con.executescript("DROP TRIGGER audit_no_update; UPDATE audit SET username = 'mallory' WHERE seq = 3;")
    con.close()
    run = dg.materialize(all_assets, selection=["alert_dispositions", "model_candidate"], resources=res,
                         instance=_instance(tmp_path / "dh"), raise_on_error=False, run_config=QUIET)
    checks = {e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data.passed
              for e in run.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}
    assert checks["review_audit_chain_intact"] is False
    materialized = {e.asset_key.to_user_string() for e in run.all_events if e.event_type_value == "ASSET_MATERIALIZATION"}
    assert "model_candidate" not in materialized
