"""`nexusfin review ...`: the analysts' web app, its users and its audit chain."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(help="Analyst alert review: `nexusfin review` starts the web app; users and audit below.",
                  invoke_without_command=True)
console = Console()
err_console = Console(stderr=True)

WarehouseOpt = Annotated[Path | None, typer.Option(
    help="Warehouse opened read-only (default NEXUSFIN_WAREHOUSE or var/demo/warehouse.duckdb).")]
StoreOpt = Annotated[Path | None, typer.Option(
    help="The app's own store (default NEXUSFIN_REVIEW_STORE or var/demo/review/review.sqlite).")]


def _warehouse(p: Path | None) -> Path:
    return p or Path(os.environ.get("NEXUSFIN_WAREHOUSE", "var/demo/warehouse.duckdb"))


def _store(p: Path | None) -> Path:
    return p or Path(os.environ.get("NEXUSFIN_REVIEW_STORE", "var/demo/review/review.sqlite"))


@app.callback()
def serve(
    ctx: typer.Context,
    warehouse: WarehouseOpt = None,
    store: StoreOpt = None,
    host: Annotated[str, typer.Option(help="Interface to listen on (local only by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8501,
    config: Annotated[Path | None, typer.Option(help="Review settings YAML (default NEXUSFIN_REVIEW).")] = None,
    secure_cookies: Annotated[bool, typer.Option(help="Mark cookies Secure (behind HTTPS).")] = False,
) -> None:
    """Start the review web app on http://HOST:PORT (sign in with a user made by `users add`)."""
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    from nexusfin.review.app import create_app
    from nexusfin.review.config import load_review_config
    from nexusfin.review.store import ReviewStore

    wh, st = _warehouse(warehouse), _store(store)
    if not wh.exists():
        err_console.print(f"no warehouse at {wh}: run `make demo` (or the pipeline) first")
        raise typer.Exit(2)
    if not ReviewStore(st).users():
        err_console.print(f"no users in {st}: add one with `nexusfin review users add NAME --role analyst`")
        raise typer.Exit(2)
    application = create_app(wh, st, config=load_review_config(config), secure_cookies=secure_cookies)
    console.print(f"nexusfin review on http://{host}:{port}  (warehouse {wh}, read-only; store {st})")
    uvicorn.run(application, host=host, port=port, log_level="warning")


users_app = typer.Typer(help="Review app users (analyst, supervisor).", no_args_is_help=True)
app.add_typer(users_app, name="users")


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Login name (lower case).")],
    role: Annotated[str, typer.Option(help="analyst or supervisor.")] = "analyst",
    full_name: Annotated[str | None, typer.Option(help="Name shown in the app and on reports.")] = None,
    password_stdin: Annotated[bool, typer.Option(
        help="Read the password from standard input (scripts) instead of prompting.")] = False,
    store: StoreOpt = None,
) -> None:
    """Add a user; the password is prompted for (or read from stdin) and stored as an Argon2id hash."""
    from nexusfin.review.store import ReviewError, ReviewStore

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password (12+ characters): ")
        if getpass.getpass("Again: ") != password:
            err_console.print("passwords differ")
            raise typer.Exit(1)
    try:
        user = ReviewStore(_store(store)).add_user(username, full_name or username, role, password,
                                                    actor=f"cli:{getpass.getuser()}")
    except ReviewError as exc:
        err_console.print(str(exc))
        raise typer.Exit(1) from exc
    console.print(f"added {user.username} ({user.role})")


@users_app.command("list")
def users_list(store: StoreOpt = None) -> None:
    """Active users and roles."""
    from nexusfin.review.store import ReviewStore

    for u in ReviewStore(_store(store)).users():
        console.print(f"{u.username}\t{u.role}\t{u.full_name}")


@app.command("verify-audit")
def verify_audit(store: StoreOpt = None) -> None:
    """Re-compute the audit log's hash chain; exit 1 (and name the first bad event) if it was tampered with."""
    from nexusfin.review.store import verify_audit_chain

    report = verify_audit_chain(_store(store))
    if report.ok:
        console.print(f"audit chain intact: {report.n_events} events, head #{report.head_seq} {report.head_hash}")
        return
    err_console.print(f"audit chain BROKEN at event {report.first_bad_seq}: {report.reason}")
    raise typer.Exit(1)


@app.command("dispositions")
def dispositions(store: StoreOpt = None,
                 all_: Annotated[bool, typer.Option("--all", help="Every decision, not only the latest.")] = False
                 ) -> None:
    """The decisions the pipeline reads back as labels (latest per alert)."""
    from nexusfin.review.store import read_dispositions

    frame = read_dispositions(_store(store), latest_only=not all_)
    console.print(frame.select("alert_id", "as_of", "account_id", "decision", "username", "decided_at"),
                  markup=False, highlight=False)
