"""The review store: passwords, sessions that expire, alert locks, mandatory dispositions and the
hash-chained audit log that exposes tampering."""

import json
import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import pytest
from argon2 import PasswordHasher

from nexusfin.review.store import (
    LockedByOther,
    ReviewError,
    ReviewStore,
    read_dispositions,
    verify_audit_chain,
)

PASSWORD = "correct horse battery"
ALERT = {"alert_id": "MA-0123456789abcdef0123", "account_id": "A1", "party_id": "P1",
         "as_of": date(2026, 1, 20), "model_version": "m1", "score": 0.8,
         "detector_rules": ["structuring.daily"]}


class Clock:
    def __init__(self):
        self.t = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)

    def __call__(self):
        return self.t

    def advance(self, **kw):
        self.t += timedelta(**kw)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store(tmp_path, clock):
    # cheap Argon2 parameters: the same algorithm, fast enough for many logins in a test
    s = ReviewStore(tmp_path / "review.sqlite", clock=clock, lock_minutes=30, session_idle_minutes=30,
                    session_absolute_hours=8, password_hasher=PasswordHasher(time_cost=1, memory_cost=1024))
    s.add_user("ana", "Ana Analyst", "analyst", PASSWORD)
    s.add_user("bob", "Bob Analyst", "analyst", PASSWORD)
    s.add_user("sam", "Sam Supervisor", "supervisor", PASSWORD)
    return s


def test_passwords_are_stored_as_argon2id_hashes_only(store):
    con = sqlite3.connect(store.path)
    hashes = [r[0] for r in con.execute("SELECT password_hash FROM users")]
    con.close()
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert not any(PASSWORD in h for h in hashes)
    assert PASSWORD.encode() not in store.path.read_bytes()


def test_login_accepts_the_right_password_only_and_locks_out_after_five_failures(store, clock):
    assert store.authenticate("ana", PASSWORD).role == "analyst"
    assert store.authenticate("ana", "wrong password!") is None
    assert store.authenticate("nobody", PASSWORD) is None
    for _ in range(5):
        assert store.authenticate("bob", "guess guess guess") is None
    assert store.authenticate("bob", PASSWORD) is None  # locked out although right
    clock.advance(minutes=16)
    assert store.authenticate("bob", PASSWORD) is not None
    actions = [e["action"] for e in store.audit_events()]
    assert actions.count("login.failed") == 7 and "login.refused" in actions


def test_weak_inputs_are_refused(store):
    with pytest.raises(ReviewError, match="12 characters"):
        store.add_user("eve", "Eve", "analyst", "short")
    with pytest.raises(ReviewError, match="role"):
        store.add_user("eve", "Eve", "admin", PASSWORD)
    with pytest.raises(ReviewError, match="username"):
        store.add_user("Robert'); DROP TABLE users;--", "x", "analyst", PASSWORD)
    with pytest.raises(ReviewError, match="exists"):
        store.add_user("ana", "Ana again", "analyst", PASSWORD)


def test_sessions_expire_when_idle_and_at_the_absolute_limit(store, clock):
    user = store.authenticate("ana", PASSWORD)
    token, _ = store.create_session(user)
    assert store.session(token).user.username == "ana"
    clock.advance(minutes=29)
    assert store.session(token) is not None  # touching it keeps it alive
    clock.advance(minutes=31)
    assert store.session(token) is None  # idle too long
    token, _ = store.create_session(user)
    for _ in range(17):  # active all day, every 29 minutes
        clock.advance(minutes=29)
        live = store.session(token)
    assert live is None  # 8 h absolute limit
    assert store.session("forged-token") is None
    # only the token's hash is stored
    con = sqlite3.connect(store.path)
    assert token not in {r[0] for r in con.execute("SELECT token_sha256 FROM sessions")}
    con.close()


def test_an_opened_alert_is_locked_to_its_analyst_until_the_lock_expires(store, clock):
    ana, bob = store.authenticate("ana", PASSWORD), store.authenticate("bob", PASSWORD)
    store.lock(ALERT["alert_id"], ana)
    with pytest.raises(LockedByOther, match="ana"):
        store.lock(ALERT["alert_id"], bob)
    store.lock(ALERT["alert_id"], ana)  # re-opening extends
    clock.advance(minutes=31)
    assert store.lock(ALERT["alert_id"], bob).username == "bob"  # expired: the next analyst takes it


def test_a_disposition_needs_the_lock_a_choice_and_a_note(store):
    ana, bob = store.authenticate("ana", PASSWORD), store.authenticate("bob", PASSWORD)
    with pytest.raises(ReviewError, match="locked to you"):
        store.decide(ALERT, ana, "false_positive", "Salary payments, known employer.")
    store.lock(ALERT["alert_id"], ana)
    with pytest.raises(ReviewError, match="choose"):
        store.decide(ALERT, ana, "maybe", "Salary payments, known employer.")
    with pytest.raises(ReviewError, match="at least 10"):
        store.decide(ALERT, ana, "false_positive", "   ok   ")
    with pytest.raises(ReviewError, match="locked to you"):
        store.decide(ALERT, bob, "false_positive", "Salary payments, known employer.")
    store.decide(ALERT, ana, "needs_info", "Asked the branch for the deposit slips.")
    assert store.statuses()[ALERT["alert_id"]] == "needs_info"
    store.decide(ALERT, ana, "escalate_sar", "Deposits split under the CTR threshold at three branches.")
    assert store.statuses()[ALERT["alert_id"]] == "escalated"
    with pytest.raises(ReviewError, match="already decided"):
        store.decide(ALERT, ana, "false_positive", "Changed my mind about this one.")
    latest = read_dispositions(store.path)
    assert latest.height == 1 and latest.row(0, named=True)["decision"] == "escalate_sar"
    assert latest.row(0, named=True)["detector_rules"] == ["structuring.daily"]
    assert read_dispositions(store.path, latest_only=False).height == 2
    events = [e for e in store.audit_events(alert_id=ALERT["alert_id"]) if e["action"] == "disposition"]
    assert json.loads(events[-1]["before"]) == {"status": "needs_info"}
    assert json.loads(events[-1]["after"])["status"] == "escalated"


def _busy_store(store):
    ana = store.authenticate("ana", PASSWORD)
    store.lock(ALERT["alert_id"], ana)
    store.add_note(ALERT["alert_id"], ana, "Looked at the branch videos.")
    store.decide(ALERT, ana, "escalate_sar", "Deposits split under the CTR threshold.")
    store.audit("ana", "export", ALERT["alert_id"], details={"kind": "goaml.xml", "sha256": "ab" * 32})
    return verify_audit_chain(store.path)


def test_the_audit_chain_verifies_and_the_log_refuses_updates_and_deletes(store):
    report = _busy_store(store)
    assert report.ok and report.n_events == report.head_seq >= 8
    con = sqlite3.connect(store.path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("UPDATE audit SET username = 'bob' WHERE seq = 3")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("DELETE FROM audit WHERE seq = 3")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("UPDATE dispositions SET decision = 'false_positive'")
    con.close()


def _tamper(path, sql):
    con = sqlite3.connect(path)
    con.executescript("DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;" + sql)
    con.close()


@pytest.mark.parametrize("sql, bad_seq", [
    ("UPDATE audit SET after = replace(after, 'escalated', 'false_positive') WHERE action = 'disposition';", None),
    ("UPDATE audit SET username = 'bob' WHERE seq = 4;", 4),
    ("DELETE FROM audit WHERE seq = 5;", 6),
])
def test_tampering_with_any_event_is_detected(store, sql, bad_seq):
    assert _busy_store(store).ok
    _tamper(store.path, sql)
    report = verify_audit_chain(store.path)
    assert not report.ok
    if bad_seq:
        assert report.first_bad_seq == bad_seq


def test_cutting_off_the_newest_events_is_detected_by_the_head_anchor(store):
    report = _busy_store(store)
    _tamper(store.path, f"DELETE FROM audit WHERE seq = {report.head_seq};")
    cut = verify_audit_chain(store.path)
    assert not cut.ok and "removed" in cut.reason


def test_rewriting_the_whole_chain_consistently_still_breaks_the_anchor(store):
    """Someone who re-computes every hash after an edit still disagrees with the head file."""
    from nexusfin.review.store import GENESIS, event_hash

    _busy_store(store)
    con = sqlite3.connect(store.path)
    con.executescript("DROP TRIGGER audit_no_update;")
    rows = con.execute("SELECT seq, at, username, action, alert_id, before, after, details FROM audit "
                       "ORDER BY seq").fetchall()
    prev = GENESIS
    for seq, at, user, action, alert_id, before, after, details in rows:
        if action == "disposition":
            after = after.replace("escalated", "false_positive")
        h = event_hash(prev, seq, at, user, action, alert_id, before, after, details)
        con.execute("UPDATE audit SET after = ?, prev_hash = ?, hash = ? WHERE seq = ?", (after, prev, h, seq))
        prev = h
    con.commit()
    con.close()
    assert not verify_audit_chain(store.path).ok


def test_verify_audit_command_exits_nonzero_on_a_broken_chain(store):
    _busy_store(store)
    cmd = [sys.executable, "-m", "nexusfin.cli", "review", "verify-audit", "--store", str(store.path)]
    ok = subprocess.run(cmd, capture_output=True, text=True)
    assert ok.returncode == 0 and "intact" in ok.stdout
    _tamper(store.path, "UPDATE audit SET details = '{}' WHERE action = 'export';")
    bad = subprocess.run(cmd, capture_output=True, text=True)
    assert bad.returncode == 1 and "BROKEN" in bad.stderr


def test_the_demo_creates_review_users_with_private_generated_passwords(tmp_path, capsys):
    from nexusfin.demo import _show_review

    _show_review(tmp_path)
    creds = tmp_path / "review" / "demo-credentials.txt"
    assert creds.stat().st_mode & 0o777 == 0o600
    users = dict(line.split("\t")[::2] for line in creds.read_text().splitlines())
    assert set(users) == {"analyst", "supervisor"}
    store = ReviewStore(tmp_path / "review" / "review.sqlite")
    assert store.authenticate("analyst", users["analyst"]).role == "analyst"
    assert store.authenticate("supervisor", users["supervisor"]).role == "supervisor"
    out = capsys.readouterr().out
    assert "make review" in out and "http://127.0.0.1:8501" in out
    _show_review(tmp_path)  # a second demo run keeps the users and their passwords
    assert dict(line.split("\t")[::2] for line in creds.read_text().splitlines()) == users


def test_review_settings_override_and_typos_are_refused(tmp_path):
    from nexusfin.review.config import load_review_config

    good = tmp_path / "review.yaml"
    good.write_text("locks:\n  minutes: 5\nscore_bands:\n  hot: [0.9, 1.01]\n")
    cfg = load_review_config(good)
    assert cfg.lock_minutes == 5 and cfg.session_idle_minutes == 30 and cfg.score_bands == {"hot": (0.9, 1.01)}
    for text, match in (("lock:\n  minutes: 5\n", "unknown review setting 'lock'"),
                        ("locks:\n  minuts: 5\n", "locks takes minutes"),
                        ("score_bands:\n  bad: [0.5, 0.2]\n", "must be below")):
        bad = tmp_path / "bad.yaml"
        bad.write_text(text)
        with pytest.raises(ValueError, match=match):
            load_review_config(bad)
