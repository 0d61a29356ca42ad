"""The analysts' review web app (Starlette, server-rendered; no JavaScript needed).

Reads the warehouse read-only (the pipeline owns it) and writes only its own store
(:mod:`nexusfin.review.store`). Nothing is visible before login; every view, lock, note,
disposition and export is audited. Forms carry a per-session CSRF token; cookies are HttpOnly and
SameSite=Strict; responses forbid framing and third-party content.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from nexusfin.review.config import ReviewConfig, load_review_config
from nexusfin.review.evidence import AlertEvidence, AlertNotFound, load_alert, load_evidence
from nexusfin.review.queries import (
    STATUSES,
    QueueFilter,
    families_expr,
    next_alert,
    queue_view,
    read_queue,
    supervisor_figures,
)
from nexusfin.review.store import (
    DECISIONS,
    LockedByOther,
    ReviewError,
    ReviewStore,
    Session,
    validate_alert_id,
    verify_audit_chain,
)
from nexusfin.settings import Regulatory, load_regulatory

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "nexusfin_session"
LOGIN_CSRF_COOKIE = "nexusfin_login_csrf"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                               "script-src 'none'; frame-ancestors 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@dataclass
class ReviewApp:
    warehouse: Path
    store: ReviewStore
    config: ReviewConfig
    regulatory: Regulatory
    secure_cookies: bool = False


class _SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next):  # type: ignore[override]
        response = await call_next(request)
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        return response


def _money(x: Any) -> str:
    return "" if x is None else f"{float(x):,.2f}"


def _num(x: Any) -> str:
    """Feature values as an analyst reads them: amounts with thousands separators, ratios to 4 digits."""
    if x is None:
        return ""
    if isinstance(x, bool) or not isinstance(x, int | float):
        return str(x)
    return f"{x:,.2f}" if abs(x) >= 1000 else f"{x:.4g}"


def _json_pretty(v: Any) -> str:
    return json.dumps(v, sort_keys=True, default=str)


templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters["money"] = _money
templates.env.filters["json"] = _json_pretty
templates.env.filters["num"] = _num
templates.env.globals["DECISIONS"] = DECISIONS


def create_app(warehouse: str | Path, store_path: str | Path, *, config: ReviewConfig | None = None,
               regulatory: Regulatory | None = None, secure_cookies: bool = False) -> Starlette:
    """The ASGI app over one warehouse (read-only) and one review store."""
    config = config or load_review_config()
    ctx = ReviewApp(Path(warehouse), ReviewStore(store_path, lock_minutes=config.lock_minutes,
                                                 session_idle_minutes=config.session_idle_minutes,
                                                 session_absolute_hours=config.session_absolute_hours),
                    config, regulatory or load_regulatory(), secure_cookies)

    def session_of(request: Request) -> Session | None:
        return ctx.store.session(request.cookies.get(SESSION_COOKIE))

    def render(request: Request, name: str, session: Session | None, status_code: int = 200,
               **values: Any) -> Response:
        return templates.TemplateResponse(request, name, {"session": session, "config": ctx.config, **values},
                                          status_code=status_code)

    def to_login(request: Request) -> Response:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    def signed_in(handler: Callable[[Request, Session], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        """Nothing before login: the handler runs with the live session, or the user goes to /login."""
        async def wrapped(request: Request) -> Response:
            session = session_of(request)
            if session is None:
                return to_login(request)
            return await handler(request, session)
        return wrapped

    async def form_checked(request: Request, session: Session) -> Any:
        form = await request.form()
        if not secrets.compare_digest(str(form.get("csrf_token", "")), session.csrf_token):
            raise PermissionError("the form expired or did not come from this app; reload the page")
        return form

    def error(request: Request, session: Session | None, message: str, status_code: int) -> Response:
        return render(request, "error.html", session, status_code=status_code, message=message)

    # -- login ------------------------------------------------------------------------------------
    async def login_page(request: Request) -> Response:
        token = secrets.token_urlsafe(32)
        resp = render(request, "login.html", None, login_csrf=token, next=_safe_next(request.query_params.get("next")),
                      message=request.query_params.get("message", ""))
        resp.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=ctx.secure_cookies)
        return resp

    async def login(request: Request) -> Response:
        form = await request.form()
        cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if not cookie or not secrets.compare_digest(str(form.get("csrf_token", "")), cookie):
            return RedirectResponse("/login?message=Please+try+again", status_code=303)
        user = ctx.store.authenticate(str(form.get("username", ""))[:64], str(form.get("password", ""))[:256])
        if user is None:
            token = secrets.token_urlsafe(32)
            resp = render(request, "login.html", None, status_code=401, login_csrf=token,
                          next=_safe_next(str(form.get("next", ""))),
                          message="Unknown user or wrong password (accounts lock after 5 failures).")
            resp.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=ctx.secure_cookies)
            return resp
        token, _ = ctx.store.create_session(user)
        resp = RedirectResponse(_safe_next(str(form.get("next", ""))), status_code=303)
        resp.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", secure=ctx.secure_cookies,
                        max_age=ctx.config.session_absolute_hours * 3600)
        resp.delete_cookie(LOGIN_CSRF_COOKIE)
        return resp

    async def logout(request: Request) -> Response:
        session = session_of(request)
        if session is not None:
            try:
                await form_checked(request, session)
            except PermissionError as exc:
                return error(request, session, str(exc), 403)
            ctx.store.end_session(request.cookies.get(SESSION_COOKIE))
        resp = RedirectResponse("/login?message=Signed+out", status_code=303)
        resp.delete_cookie(SESSION_COOKIE)
        return resp

    # -- queue ------------------------------------------------------------------------------------
    async def home(request: Request) -> Response:
        return RedirectResponse("/queue", status_code=303)

    def load_queue(request: Request, session: Session) -> pl.DataFrame | Response:
        try:
            return read_queue(ctx.warehouse)
        except Exception as exc:  # the pipeline holds the write lock, or the file is missing
            return error(request, session, f"The warehouse cannot be read right now ({type(exc).__name__}: "
                                           f"{str(exc)[:200]}). Try again in a minute.", 503)

    async def queue_page(request: Request, session: Session) -> Response:
        queue = load_queue(request, session)
        if isinstance(queue, Response):
            return queue
        try:
            flt = QueueFilter.from_query(request.query_params, ctx.config.score_bands)
        except ValueError as exc:
            return error(request, session, str(exc), 400)
        view = queue_view(queue, ctx.store, flt, ctx.config.score_bands)
        families = (sorted(queue.select(families_expr()).get_column("families").explode().unique().to_list())
                    if queue.height else [])
        jurisdictions = sorted(j for j in queue["jurisdiction"].unique().to_list() if j) if queue.height else []
        return render(request, "queue.html", session, rows=view.to_dicts() if view.height else [], flt=flt,
                      families=families, jurisdictions=jurisdictions, statuses=STATUSES,
                      bands=ctx.config.score_bands, n_total=queue.height,
                      message=request.query_params.get("message", ""))

    async def next_page(request: Request, session: Session) -> Response:
        queue = load_queue(request, session)
        if isinstance(queue, Response):
            return queue
        alert_id = next_alert(queue, ctx.store, session.user.username, ctx.config.score_bands)
        if alert_id is None:
            return RedirectResponse("/queue?message=No+unlocked+open+alerts", status_code=303)
        return RedirectResponse(f"/alerts/{alert_id}", status_code=303)

    # -- one alert --------------------------------------------------------------------------------
    def evidence_of(request: Request, session: Session, alert_id: str) -> AlertEvidence | Response:
        return from_warehouse(request, session, alert_id,
                              lambda a: load_evidence(ctx.warehouse, a, ctx.config, ctx.regulatory))

    def from_warehouse(request: Request, session: Session, alert_id: str, load: Callable[[str], Any]) -> Any:
        """One alert read from the warehouse, or the error page that says why not."""
        try:
            validate_alert_id(alert_id)
            return load(alert_id)
        except ReviewError as exc:
            return error(request, session, str(exc), 400)
        except AlertNotFound:
            return error(request, session, f"No alert {alert_id} in the warehouse.", 404)
        except Exception as exc:
            return error(request, session, f"The warehouse cannot be read right now ({type(exc).__name__}).", 503)

    def latest_decision(alert_id: str) -> dict[str, Any] | None:
        hist = ctx.store.history([alert_id])
        return hist[-1] if hist else None

    async def alert_page(request: Request, session: Session) -> Response:
        alert_id = request.path_params["alert_id"]
        ev = evidence_of(request, session, alert_id)
        if isinstance(ev, Response):
            return ev
        decision = latest_decision(alert_id)
        final = decision is not None and decision["decision"] in ("escalate_sar", "false_positive")
        lock_message = ""
        lock = None
        if not final:
            try:
                lock = ctx.store.lock(alert_id, session.user)
            except LockedByOther as exc:
                lock_message = str(exc)
        ctx.store.audit(session.user.username, "view", alert_id,
                        details={"locked": lock is not None, "status": decision["decision"] if decision else "open"})
        from nexusfin.review.charts import network_svg, timeline_svg

        prior_ids = [p["alert_id"] for p in ev.prior_alerts]
        prior_decisions = {d["alert_id"]: d for d in ctx.store.history(prior_ids)}
        narrative = ""
        if decision and decision["decision"] == "escalate_sar":
            from nexusfin.review.reports import sar_narrative

            narrative = sar_narrative(ev, analyst=decision["username"], note=decision["note"],
                                      decided_at=datetime.fromisoformat(decision["decided_at"]), config=ctx.config)
        return render(
            request, "alert.html", session, ev=ev, alert=ev.alert,
            txns=ev.transactions.to_dicts(), timeline=Markup(timeline_svg(ev)), network=Markup(network_svg(ev)),
            decision=decision, final=final, lock=lock, lock_message=lock_message,
            history=ctx.store.history([alert_id]), notes=ctx.store.notes(alert_id),
            prior=[{**p, "disposition": prior_decisions.get(p["alert_id"])} for p in ev.prior_alerts],
            audit=ctx.store.audit_events(alert_id=alert_id), narrative=narrative,
            message=request.query_params.get("message", ""))

    async def note_post(request: Request, session: Session) -> Response:
        alert_id = request.path_params["alert_id"]
        try:
            form = await form_checked(request, session)
            validate_alert_id(alert_id)
            ctx.store.add_note(alert_id, session.user, str(form.get("note", "")))
        except PermissionError as exc:
            return error(request, session, str(exc), 403)
        except ReviewError as exc:
            return RedirectResponse(f"/alerts/{alert_id}?message={_q(str(exc))}", status_code=303)
        return RedirectResponse(f"/alerts/{alert_id}?message=Note+saved", status_code=303)

    async def decide_post(request: Request, session: Session) -> Response:
        alert_id = request.path_params["alert_id"]
        try:
            form = await form_checked(request, session)
        except PermissionError as exc:
            return error(request, session, str(exc), 403)
        # the decision needs the queued alert's row, not its evidence
        alert = from_warehouse(request, session, alert_id, lambda a: load_alert(ctx.warehouse, a))
        if isinstance(alert, Response):
            return alert
        try:
            ctx.store.decide(alert, session.user, str(form.get("decision", "")), str(form.get("note", "")))
        except ReviewError as exc:
            return RedirectResponse(f"/alerts/{alert_id}?message={_q(str(exc))}", status_code=303)
        return RedirectResponse(f"/alerts/{alert_id}?message=Decision+recorded", status_code=303)

    async def release_post(request: Request, session: Session) -> Response:
        alert_id = request.path_params["alert_id"]
        try:
            await form_checked(request, session)
            ctx.store.release(alert_id, session.user)
        except PermissionError as exc:
            return error(request, session, str(exc), 403)
        except ReviewError as exc:
            return error(request, session, str(exc), 400)
        return RedirectResponse("/queue?message=Alert+released", status_code=303)

    async def export(request: Request, session: Session) -> Response:
        alert_id, kind = request.path_params["alert_id"], request.path_params["kind"]
        if kind not in ("goaml.xml", "sar-narrative.txt"):
            return error(request, session, "unknown export", 404)
        ev = evidence_of(request, session, alert_id)
        if isinstance(ev, Response):
            return ev
        decision = latest_decision(alert_id)
        if not decision or decision["decision"] != "escalate_sar":
            return error(request, session, "Drafts are made only for alerts escalated to SAR.", 409)
        from nexusfin.review.reports import ReportInvalid, goaml_xml, sar_narrative

        args = {"analyst": decision["username"], "note": decision["note"],
                "decided_at": datetime.fromisoformat(decision["decided_at"]), "config": ctx.config}
        try:
            if kind == "goaml.xml":
                body, media = goaml_xml(ev, **args), "application/xml"
            else:
                body, media = sar_narrative(ev, **args).encode(), "text/plain; charset=utf-8"
        except ReportInvalid as exc:
            ctx.store.audit(session.user.username, "export.refused", alert_id,
                            details={"kind": kind, "errors": exc.errors[:10]})
            return error(request, session, "The draft does not validate: " + "; ".join(exc.errors[:5]), 422)
        digest = hashlib.sha256(body).hexdigest()
        ctx.store.audit(session.user.username, "export", alert_id,
                        details={"kind": kind, "sha256": digest, "bytes": len(body)})
        name = f"{alert_id}-{kind}"
        return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})

    # -- supervisor -------------------------------------------------------------------------------
    async def supervisor_page(request: Request, session: Session) -> Response:
        if not session.user.is_supervisor:
            ctx.store.audit(session.user.username, "forbidden", details={"path": "/supervisor"})
            return error(request, session, "The supervisor view is for supervisors.", 403)
        queue = load_queue(request, session)
        if isinstance(queue, Response):
            return queue
        ctx.store.audit(session.user.username, "view.supervisor")
        figures = supervisor_figures(queue, ctx.store, datetime.now(UTC).date())
        return render(request, "supervisor.html", session, f=figures)

    async def audit_page(request: Request, session: Session) -> Response:
        if not session.user.is_supervisor:
            return error(request, session, "The audit log is for supervisors.", 403)
        ctx.store.audit(session.user.username, "view.audit")
        return render(request, "audit.html", session, chain=verify_audit_chain(ctx.store.path),
                      events=ctx.store.audit_events(limit=300))

    async def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    routes = [
        Route("/", home), Route("/health", health),
        Route("/login", login_page, methods=["GET"]), Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/queue", signed_in(queue_page)), Route("/next", signed_in(next_page)),
        Route("/alerts/{alert_id}", signed_in(alert_page)),
        Route("/alerts/{alert_id}/note", signed_in(note_post), methods=["POST"]),
        Route("/alerts/{alert_id}/decision", signed_in(decide_post), methods=["POST"]),
        Route("/alerts/{alert_id}/release", signed_in(release_post), methods=["POST"]),
        Route("/alerts/{alert_id}/export/{kind}", signed_in(export)),
        Route("/supervisor", signed_in(supervisor_page)), Route("/audit", signed_in(audit_page)),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(_SecurityHeaders)])
    app.state.review = ctx
    return app


def _safe_next(target: str | None) -> str:
    """Only local paths (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/queue"


def _q(text: str) -> str:
    from urllib.parse import quote_plus

    return quote_plus(text[:300])
