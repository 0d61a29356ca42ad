"""The review app's own store (SQLite): users, sessions, alert locks, notes, dispositions and the
audit log. The warehouse stays read-only for the app; the pipeline reads dispositions back from
here (:func:`read_dispositions`) as labels for retraining.

Audit log: every action is one row (who, when, what, before/after) whose hash covers the row and
the previous row's hash, so editing, inserting or deleting a row breaks the chain from there on;
triggers refuse UPDATE and DELETE, and the head (last sequence number and hash) is also written
to ``audit_head.json`` beside the store so that cutting rows off the end is detected too.
:func:`verify_audit_chain` (``nexusfin review verify-audit``) re-computes it.

Passwords: Argon2id (argon2-cffi defaults). Session tokens: 256 random bits; only their SHA-256 is
stored. Every statement is parameterized.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

ROLES = ("analyst", "supervisor")
DECISIONS = {
    "escalate_sar": "Escalate to SAR",
    "false_positive": "False positive",
    "needs_info": "Needs more information",
}
# what each decision does to the alert's status (needs_info keeps it in the analysts' work)
STATUS_AFTER = {"escalate_sar": "escalated", "false_positive": "false_positive", "needs_info": "needs_info"}
FINAL_DECISIONS = ("escalate_sar", "false_positive")
MIN_NOTE_CHARS = 10
MAX_NOTE_CHARS = 5000
MAX_FAILED_LOGINS = 5
FAILED_LOGIN_WINDOW = timedelta(minutes=15)
GENESIS = "0" * 64
_USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,31}$")
_ALERT_ID = re.compile(r"^MA-[0-9a-f]{20}$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY, full_name TEXT NOT NULL, role TEXT NOT NULL,
    password_hash TEXT NOT NULL, created_at TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS login_failures (username TEXT NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    token_sha256 TEXT PRIMARY KEY, username TEXT NOT NULL REFERENCES users(username),
    csrf_token TEXT NOT NULL, created_at TEXT NOT NULL, last_seen TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS locks (
    alert_id TEXT PRIMARY KEY, username TEXT NOT NULL, locked_at TEXT NOT NULL, expires_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS notes (
    note_id INTEGER PRIMARY KEY AUTOINCREMENT, alert_id TEXT NOT NULL, username TEXT NOT NULL,
    at TEXT NOT NULL, text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS dispositions (
    disposition_id INTEGER PRIMARY KEY AUTOINCREMENT, alert_id TEXT NOT NULL, account_id TEXT NOT NULL,
    party_id TEXT, as_of TEXT NOT NULL, decision TEXT NOT NULL, note TEXT NOT NULL,
    username TEXT NOT NULL, decided_at TEXT NOT NULL, model_version TEXT, score REAL,
    detector_rules TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS dispositions_alert ON dispositions(alert_id);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY, at TEXT NOT NULL, username TEXT NOT NULL, action TEXT NOT NULL,
    alert_id TEXT, before TEXT, after TEXT, details TEXT, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS dispositions_no_update BEFORE UPDATE ON dispositions
    BEGIN SELECT RAISE(ABORT, 'dispositions are append-only'); END;
CREATE TRIGGER IF NOT EXISTS dispositions_no_delete BEFORE DELETE ON dispositions
    BEGIN SELECT RAISE(ABORT, 'dispositions are append-only'); END;
"""


class ReviewError(Exception):
    """A user-facing refusal (shown to the analyst as is)."""


class LockedByOther(ReviewError):
    pass


@dataclass(frozen=True)
class User:
    username: str
    full_name: str
    role: str

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"


@dataclass(frozen=True)
class Session:
    user: User
    csrf_token: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class Lock:
    alert_id: str
    username: str
    locked_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    n_events: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    reason: str = ""


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="microseconds")


def _dt(s: str) -> datetime:
    return datetime.fromisoformat(s)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)


def event_hash(prev_hash: str, seq: int, at: str, username: str, action: str, alert_id: str | None,
               before: str | None, after: str | None, details: str | None) -> str:
    """SHA-256 of the previous hash and the event's fields (canonical JSON)."""
    body = _canonical([prev_hash, seq, at, username, action, alert_id, before, after, details])
    return hashlib.sha256(body.encode()).hexdigest()


def validate_alert_id(alert_id: str) -> str:
    if not isinstance(alert_id, str) or not _ALERT_ID.match(alert_id):
        raise ReviewError(f"not an alert id: {alert_id!r}")
    return alert_id


class ReviewStore:
    """One SQLite file per deployment; safe for the app's threads and for several processes."""

    def __init__(self, path: str | Path, *, lock_minutes: int = 30, session_idle_minutes: int = 30,
                 session_absolute_hours: int = 8, clock: Callable[[], datetime] | None = None,
                 password_hasher: PasswordHasher | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.head_file = self.path.with_name("audit_head.json")
        self.lock_ttl = timedelta(minutes=lock_minutes)
        self.session_idle = timedelta(minutes=session_idle_minutes)
        self.session_absolute = timedelta(hours=session_absolute_hours)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._hasher = password_hasher or PasswordHasher()
        self._mutex = threading.Lock()
        # a hash to verify against when the user does not exist (same cost either way)
        self._dummy_hash = self._hasher.hash(secrets.token_hex(16))
        with self._mutex:
            con = sqlite3.connect(self.path, timeout=30)
            try:
                con.execute("PRAGMA journal_mode=WAL")
                con.executescript(_SCHEMA)  # idempotent; executescript commits itself
            finally:
                con.close()

    # -- plumbing -----------------------------------------------------------------------------
    def now(self) -> datetime:
        return self._clock()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE: the audit chain needs the previous head)."""
        with self._mutex:
            con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            try:
                con.execute("PRAGMA journal_mode=WAL")
                con.execute("PRAGMA foreign_keys=ON")
                con.execute("BEGIN IMMEDIATE")
                try:
                    yield con
                    con.execute("COMMIT")
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
            finally:
                con.close()

    def _read(self, sql: str, params: tuple | list = ()) -> list[sqlite3.Row]:
        con = sqlite3.connect(self.path, timeout=30)
        con.row_factory = sqlite3.Row
        try:
            return con.execute(sql, params).fetchall()
        finally:
            con.close()

    def _audit(self, con: sqlite3.Connection, username: str, action: str, alert_id: str | None = None,
               before: Any = None, after: Any = None, details: Any = None) -> int:
        head = con.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
        at = _iso(self.now())
        b, a, d = (None if v is None else _canonical(v) for v in (before, after, details))
        h = event_hash(prev, seq, at, username, action, alert_id, b, a, d)
        con.execute("INSERT INTO audit (seq, at, username, action, alert_id, before, after, details, "
                    "prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (seq, at, username, action, alert_id, b, a, d, prev, h))
        tmp = self.head_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"seq": seq, "hash": h}))
        os.replace(tmp, self.head_file)
        return seq

    def audit(self, username: str, action: str, alert_id: str | None = None, *, before: Any = None,
              after: Any = None, details: Any = None) -> int:
        """Append one event (views, exports and other actions without a state change of their own)."""
        with self._tx() as con:
            return self._audit(con, username, action, alert_id, before, after, details)

    # -- users and sessions ---------------------------------------------------------------------
    def add_user(self, username: str, full_name: str, role: str, password: str, *, actor: str = "system") -> User:
        if not _USERNAME.match(username or ""):
            raise ReviewError("username: 2-32 characters, lower-case letters, digits, '.', '_' or '-', "
                              "starting with a letter")
        if role not in ROLES:
            raise ReviewError(f"role must be one of {ROLES}")
        if len(password) < 12:
            raise ReviewError("password: at least 12 characters")
        if not full_name.strip():
            raise ReviewError("full name is required")
        with self._tx() as con:
            if con.execute("SELECT 1 FROM users WHERE username = ?", (username,)).fetchone():
                raise ReviewError(f"user {username!r} exists")
            con.execute("INSERT INTO users (username, full_name, role, password_hash, created_at) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (username, full_name.strip(), role, self._hasher.hash(password), _iso(self.now())))
            self._audit(con, actor, "user.create", after={"username": username, "role": role,
                                                          "full_name": full_name.strip()})
        return User(username, full_name.strip(), role)

    def users(self) -> list[User]:
        return [User(r["username"], r["full_name"], r["role"])
                for r in self._read("SELECT * FROM users WHERE disabled = 0 ORDER BY username")]

    def authenticate(self, username: str, password: str) -> User | None:
        """The user if the password matches (and the account is not locked out); None otherwise.
        Both outcomes are audited; five failures within 15 minutes lock the account for that time."""
        now = self.now()
        with self._tx() as con:
            row = con.execute("SELECT username, full_name, role, password_hash FROM users "
                              "WHERE username = ? AND disabled = 0", (username,)).fetchone()
            since = _iso(now - FAILED_LOGIN_WINDOW)
            failures = con.execute("SELECT count(*) FROM login_failures WHERE username = ? AND at > ?",
                                   (username, since)).fetchone()[0]
            ok = False
            try:
                ok = self._hasher.verify(row[3] if row else self._dummy_hash, password) and row is not None
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                ok = False
            if ok and failures >= MAX_FAILED_LOGINS:
                self._audit(con, username or "-", "login.refused", details={"reason": "locked out",
                                                                            "recent_failures": failures})
                return None
            if not ok:
                con.execute("INSERT INTO login_failures VALUES (?, ?)", (username, _iso(now)))
                self._audit(con, username or "-", "login.failed", details={"known_user": row is not None})
                return None
            con.execute("DELETE FROM login_failures WHERE username = ?", (username,))
            if self._hasher.check_needs_rehash(row[3]):
                con.execute("UPDATE users SET password_hash = ? WHERE username = ?",
                            (self._hasher.hash(password), username))
            self._audit(con, username, "login")
            return User(row[0], row[1], row[2])

    def create_session(self, user: User) -> tuple[str, Session]:
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        now = _iso(self.now())
        with self._tx() as con:
            con.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?)",
                        (hashlib.sha256(token.encode()).hexdigest(), user.username, csrf, now, now))
        return token, self.session(token)  # type: ignore[return-value]

    def session(self, token: str | None) -> Session | None:
        """The live session for a cookie token (touching it), or None if unknown or expired."""
        if not token:
            return None
        key = hashlib.sha256(token.encode()).hexdigest()
        now = self.now()
        with self._tx() as con:
            row = con.execute(
                "SELECT s.csrf_token, s.created_at, s.last_seen, u.username, u.full_name, u.role "
                "FROM sessions s JOIN users u ON u.username = s.username "
                "WHERE s.token_sha256 = ? AND u.disabled = 0", (key,)).fetchone()
            if row is None:
                return None
            created, last_seen = _dt(row[1]), _dt(row[2])
            if now - last_seen > self.session_idle or now - created > self.session_absolute:
                con.execute("DELETE FROM sessions WHERE token_sha256 = ?", (key,))
                self._audit(con, row[3], "session.expired")
                return None
            con.execute("UPDATE sessions SET last_seen = ? WHERE token_sha256 = ?", (_iso(now), key))
        expires = min(now + self.session_idle, created + self.session_absolute)
        return Session(User(row[3], row[4], row[5]), row[0], created, expires)

    def end_session(self, token: str | None) -> None:
        if not token:
            return
        key = hashlib.sha256(token.encode()).hexdigest()
        with self._tx() as con:
            row = con.execute("SELECT username FROM sessions WHERE token_sha256 = ?", (key,)).fetchone()
            if row:
                con.execute("DELETE FROM sessions WHERE token_sha256 = ?", (key,))
                self._audit(con, row[0], "logout")

    # -- locks ----------------------------------------------------------------------------------
    def lock(self, alert_id: str, user: User) -> Lock:
        """Lock the alert to the user (or extend their lock); refused while someone else holds it."""
        validate_alert_id(alert_id)
        now = self.now()
        with self._tx() as con:
            row = con.execute("SELECT username, locked_at, expires_at FROM locks WHERE alert_id = ?",
                              (alert_id,)).fetchone()
            if row and row[0] != user.username and _dt(row[2]) > now:
                raise LockedByOther(f"alert {alert_id} is locked by {row[0]} until {row[2][:16]} UTC")
            locked_at = row[1] if row and row[0] == user.username and _dt(row[2]) > now else _iso(now)
            expires = _iso(now + self.lock_ttl)
            con.execute("INSERT INTO locks VALUES (?, ?, ?, ?) ON CONFLICT(alert_id) DO UPDATE SET "
                        "username = excluded.username, locked_at = excluded.locked_at, "
                        "expires_at = excluded.expires_at", (alert_id, user.username, locked_at, expires))
            if not row or row[0] != user.username or _dt(row[2]) <= now:
                before = {"locked_by": row[0], "expires_at": row[2]} if row else None
                self._audit(con, user.username, "lock", alert_id, before=before,
                            after={"locked_by": user.username, "expires_at": expires})
        return Lock(alert_id, user.username, _dt(locked_at), _dt(expires))

    def release(self, alert_id: str, user: User) -> None:
        validate_alert_id(alert_id)
        with self._tx() as con:
            row = con.execute("SELECT username FROM locks WHERE alert_id = ?", (alert_id,)).fetchone()
            if row and (row[0] == user.username or user.is_supervisor):
                con.execute("DELETE FROM locks WHERE alert_id = ?", (alert_id,))
                self._audit(con, user.username, "unlock", alert_id, before={"locked_by": row[0]})

    def active_locks(self) -> dict[str, Lock]:
        now = _iso(self.now())
        return {r["alert_id"]: Lock(r["alert_id"], r["username"], _dt(r["locked_at"]), _dt(r["expires_at"]))
                for r in self._read("SELECT * FROM locks WHERE expires_at > ?", (now,))}

    # -- notes and dispositions ---------------------------------------------------------------------
    @staticmethod
    def _clean_note(text: str) -> str:
        text = (text or "").replace("\r\n", "\n").strip()
        if len(text) < MIN_NOTE_CHARS:
            raise ReviewError(f"a note of at least {MIN_NOTE_CHARS} characters is required")
        if len(text) > MAX_NOTE_CHARS:
            raise ReviewError(f"a note is at most {MAX_NOTE_CHARS} characters")
        return text

    def add_note(self, alert_id: str, user: User, text: str) -> int:
        validate_alert_id(alert_id)
        text = self._clean_note(text)
        with self._tx() as con:
            cur = con.execute("INSERT INTO notes (alert_id, username, at, text) VALUES (?, ?, ?, ?)",
                              (alert_id, user.username, _iso(self.now()), text))
            self._audit(con, user.username, "note", alert_id, after={"note_id": cur.lastrowid, "text": text})
            return int(cur.lastrowid)

    def notes(self, alert_id: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self._read("SELECT * FROM notes WHERE alert_id = ? ORDER BY note_id",
                                            (alert_id,))]

    def decide(self, alert: dict[str, Any], user: User, decision: str, note: str) -> dict[str, Any]:
        """Record a disposition. The analyst must hold the alert's lock; escalations and false
        positives are final (a supervisor can still add notes); needs_info can be decided again."""
        alert_id = validate_alert_id(alert["alert_id"])
        if decision not in DECISIONS:
            raise ReviewError(f"choose a disposition: {', '.join(DECISIONS.values())}")
        note = self._clean_note(note)
        now = self.now()
        with self._tx() as con:
            prev = con.execute("SELECT decision, username, decided_at FROM dispositions WHERE alert_id = ? "
                               "ORDER BY disposition_id DESC LIMIT 1", (alert_id,)).fetchone()
            if prev and prev[0] in FINAL_DECISIONS:
                raise ReviewError(f"alert {alert_id} was already decided: {DECISIONS[prev[0]]} by {prev[1]}")
            lock = con.execute("SELECT username, expires_at FROM locks WHERE alert_id = ?", (alert_id,)).fetchone()
            if not lock or lock[0] != user.username or _dt(lock[1]) <= now:
                raise ReviewError("open the alert first: it must be locked to you to record a decision")
            row = {"alert_id": alert_id, "account_id": alert["account_id"], "party_id": alert.get("party_id"),
                   "as_of": str(alert["as_of"]), "decision": decision, "note": note, "username": user.username,
                   "decided_at": _iso(now), "model_version": alert.get("model_version"),
                   "score": alert.get("score"), "detector_rules": _canonical(list(alert.get("detector_rules") or []))}
            con.execute(f"INSERT INTO dispositions ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                        tuple(row.values()))
            before = {"status": STATUS_AFTER[prev[0]] if prev else "open"}
            self._audit(con, user.username, "disposition", alert_id, before=before,
                        after={"status": STATUS_AFTER[decision], "decision": decision, "note": note})
            if decision in FINAL_DECISIONS:
                con.execute("DELETE FROM locks WHERE alert_id = ?", (alert_id,))
        return row

    def statuses(self) -> dict[str, str]:
        """Current status of every decided alert (undecided alerts are open)."""
        rows = self._read("SELECT alert_id, decision FROM dispositions d WHERE disposition_id = "
                          "(SELECT max(disposition_id) FROM dispositions WHERE alert_id = d.alert_id)")
        return {r["alert_id"]: STATUS_AFTER[r["decision"]] for r in rows}

    def history(self, alert_ids: list[str]) -> list[dict[str, Any]]:
        if not alert_ids:
            return []
        marks = ", ".join("?" * len(alert_ids))
        return [dict(r) for r in self._read(
            f"SELECT * FROM dispositions WHERE alert_id IN ({marks}) ORDER BY disposition_id", alert_ids)]

    def first_views(self) -> dict[str, datetime]:
        """When each alert was first opened (audit log)."""
        return {r["alert_id"]: _dt(r["at"]) for r in self._read(
            "SELECT alert_id, min(at) AS at FROM audit WHERE action = 'view' AND alert_id IS NOT NULL "
            "GROUP BY alert_id")}

    def audit_events(self, *, alert_id: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
        if alert_id:
            rows = self._read("SELECT * FROM audit WHERE alert_id = ? ORDER BY seq", (alert_id,))
        else:
            rows = self._read("SELECT * FROM audit ORDER BY seq DESC LIMIT ?", (limit,))
        return [dict(r) for r in rows]


def verify_audit_chain(path: str | Path) -> ChainReport:
    """Re-compute every event's hash in order; report the first event that does not match (an
    edited, inserted or deleted row) and a cut-off tail (head file ahead of the table)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no review store at {path}")
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT seq, at, username, action, alert_id, before, after, details, prev_hash, hash "
                           "FROM audit ORDER BY seq").fetchall()
    finally:
        con.close()
    prev, expected_seq = GENESIS, 1
    for seq, at, username, action, alert_id, before, after, details, prev_hash, h in rows:
        if seq != expected_seq:
            return ChainReport(False, len(rows), seq, h, seq, f"sequence jumps from {expected_seq - 1} to {seq}")
        if prev_hash != prev:
            return ChainReport(False, len(rows), seq, h, seq, "previous-hash link broken")
        if event_hash(prev_hash, seq, at, username, action, alert_id, before, after, details) != h:
            return ChainReport(False, len(rows), seq, h, seq, "event content does not match its hash")
        prev, expected_seq = h, seq + 1
    head_seq = expected_seq - 1
    head_file = path.with_name("audit_head.json")
    if head_file.exists():
        head = json.loads(head_file.read_text())
        if head["seq"] != head_seq or head["hash"] != prev:
            return ChainReport(False, len(rows), head_seq, prev, head_seq + 1 if head["seq"] > head_seq else head_seq,
                               f"head file says event {head['seq']} ({head['hash'][:12]}), the log ends at "
                               f"{head_seq} ({prev[:12]}): events were removed or rewritten")
    return ChainReport(True, len(rows), head_seq, prev)


DISPOSITION_COLUMNS = {
    "alert_id": pl.String, "account_id": pl.String, "party_id": pl.String, "as_of": pl.Date,
    "decision": pl.String, "note": pl.String, "username": pl.String,
    "decided_at": pl.Datetime("us", "UTC"), "model_version": pl.String, "score": pl.Float64,
    "detector_rules": pl.List(pl.String),
}


def read_dispositions(path: str | Path, *, latest_only: bool = True) -> pl.DataFrame:
    """Dispositions as the pipeline reads them back (read-only; schemas/alert_dispositions.yaml):
    by default the latest decision per alert."""
    path = Path(path)
    if not path.exists():
        return pl.DataFrame(schema=DISPOSITION_COLUMNS)
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    try:
        sql = "SELECT * FROM dispositions d"
        if latest_only:
            sql += (" WHERE disposition_id = (SELECT max(disposition_id) FROM dispositions "
                    "WHERE alert_id = d.alert_id)")
        rows = [dict(r) for r in con.execute(sql + " ORDER BY disposition_id").fetchall()]
    finally:
        con.close()
    if not rows:
        return pl.DataFrame(schema=DISPOSITION_COLUMNS)
    for r in rows:
        r["as_of"] = date.fromisoformat(r["as_of"])
        r["decided_at"] = _dt(r["decided_at"])
        r["detector_rules"] = json.loads(r["detector_rules"])
    return pl.DataFrame(rows).select(list(DISPOSITION_COLUMNS)).cast(DISPOSITION_COLUMNS)
