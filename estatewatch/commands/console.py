"""``estatewatch users add|list|set`` (console accounts), ``estatewatch tokens issue|list|revoke`` (integrator
tokens) and ``estatewatch console screenshot``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from estatewatch.commands import CliGroups

users = typer.Typer(help="Console users: viewer (read), operator (act on alerts), admin (configure).",
                    no_args_is_help=True)


def _database_url() -> str:
    from common.settings import Settings

    url = Settings().database_url
    if url is None:
        raise typer.BadParameter("set EW_DATABASE_URL to the PostgreSQL database to change")
    return url


def _password(given: str | None) -> str:
    if given is not None:
        return given
    return str(typer.prompt("password (8+ characters)", hide_input=True, confirmation_prompt=True))


@users.command("add")
def add_user(
    username: str,
    role: Annotated[str, typer.Option(help="viewer, operator or admin")] = "operator",
    password: Annotated[str | None, typer.Option(help="prompted for when left out (keeps it out of shell history)")]
    = None,
    display_name: Annotated[str | None, typer.Option(help="name shown in the console")] = None,
) -> None:
    """Add a console user."""
    import psycopg

    from api.security import create_user
    from store.db import connect

    try:
        with connect(_database_url()) as conn:
            create_user(conn, username, _password(password), role, display_name)
            conn.commit()
    except (ValueError, psycopg.errors.UniqueViolation, psycopg.errors.CheckViolation) as exc:
        raise typer.BadParameter(str(exc).splitlines()[0]) from exc
    typer.echo(f"added {username} ({role})")


@users.command("set")
def set_user(
    username: str,
    role: Annotated[str | None, typer.Option(help="new role")] = None,
    password: Annotated[bool, typer.Option("--password", help="prompt for a new password")] = False,
    disable: Annotated[bool | None, typer.Option("--disable/--enable", help="lock or unlock the account")] = None,
) -> None:
    """Change a user's role, password or state; their open sessions end."""
    from api.security import update_user
    from store.db import connect

    new_password = _password(None) if password else None
    try:
        with connect(_database_url()) as conn:
            found = update_user(conn, username, role=role, password=new_password, disabled=disable)
            conn.commit()
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    if not found:
        raise typer.BadParameter(f"no user {username!r}")
    typer.echo(f"updated {username}")


@users.command("list")
def list_console_users() -> None:
    """List console users."""
    from api.security import list_users
    from store.db import connect

    with connect(_database_url()) as conn:
        for row in list_users(conn):
            state = "disabled" if row["disabled"] else "active"
            typer.echo(f"{row['username']:<24} {row['role']:<9} {state}")


tokens = typer.Typer(help="Bearer tokens for integrators, each with a name and a role; only their hashes are stored.",
                     no_args_is_help=True)


@tokens.command("issue")
def issue(
    name: Annotated[str, typer.Argument(help="who holds it, e.g. bms-building-3")],
    role: Annotated[str, typer.Option(help="viewer, operator or admin")] = "viewer",
    expires_days: Annotated[float | None, typer.Option(help="days until it stops working; unset = until revoked")]
    = None,
) -> None:
    """Issue a token; it is printed once and cannot be shown again."""
    from datetime import UTC, datetime, timedelta

    from api.security import issue_token
    from store.db import connect

    expires_at = None if expires_days is None else datetime.now(UTC) + timedelta(days=expires_days)
    try:
        with connect(_database_url()) as conn:
            token_id, token = issue_token(conn, name, role, created_by="cli", expires_at=expires_at)
            conn.commit()
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(f"issued token {token_id} for {name} ({role}); keep it now, it is not shown again:")
    typer.echo(token)


@tokens.command("list")
def list_tokens(
    revoked: Annotated[bool, typer.Option("--revoked", help="include revoked tokens")] = False,
) -> None:
    """List issued tokens (never the tokens themselves)."""
    from store.accounts import list_tokens as rows
    from store.db import connect

    with connect(_database_url()) as conn:
        for row in rows(conn, include_revoked=revoked):
            state = "revoked" if row.revoked_at else ("expires " + row.expires_at.isoformat()
                                                      if row.expires_at else "active")
            used = row.last_used_at.isoformat(timespec="minutes") if row.last_used_at else "never used"
            typer.echo(f"{row.id:>6} {row.name:<32} {row.role:<9} {state:<10} {used}")


@tokens.command("revoke")
def revoke(token_id: Annotated[int, typer.Argument(help="the number `tokens list` shows")]) -> None:
    """Revoke a token at once, with every console session opened with it."""
    from store.accounts import revoke_token
    from store.db import connect

    with connect(_database_url()) as conn:
        found = revoke_token(conn, token_id)
        conn.commit()
    if not found:
        raise typer.BadParameter(f"no live token {token_id}")
    typer.echo(f"revoked token {token_id}")


def screenshot(
    url: Annotated[str, typer.Option(help="console address")] = "http://127.0.0.1:8080",
    out: Annotated[Path, typer.Option(help="PNG to write")] = Path("docs/img/console.png"),
    user: Annotated[str | None, typer.Option(help="console user (else --token)")] = None,
    password: Annotated[str | None, typer.Option(help="that user's password")] = None,
    token: Annotated[str | None, typer.Option(envvar="EW_ADMIN_TOKEN", help="bearer token to sign in with")] = None,
    view: Annotated[str, typer.Option(help="alerts, elders, cameras or overview")] = "alerts",
    width: int = 1920,
    height: int = 1080,
) -> None:
    """Sign in to a running console with headless Chromium (``/usr/bin/chromium``) and save a screenshot."""
    from playwright.sync_api import sync_playwright

    if not token and not (user and password):
        raise typer.BadParameter("give --user and --password, or --token (EW_ADMIN_TOKEN)")
    out.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                    args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"])
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(url.rstrip("/") + "/")
        if token:
            page.click("#login-form details summary")
            page.fill("#login-form [name=token]", token)
        else:
            page.fill("#login-form [name=username]", user or "")
            page.fill("#login-form [name=password]", password or "")
        page.click("#login-form button[type=submit]")
        page.wait_for_selector("#live.on", timeout=15_000)
        if view != "alerts":
            page.goto(f"{url.rstrip('/')}/#/{view}")
        page.wait_for_load_state("networkidle")
        if view == "alerts" and page.locator("#queue li").count():
            page.keyboard.press("j")  # open the top alert, so the detail pane shows its evidence
            page.wait_for_selector("#detail h2")
            page.wait_for_load_state("networkidle")
        # evidence and camera frames may still be arriving: a screenshot with half-loaded pictures helps nobody
        page.wait_for_function("() => [...document.images].every((img) => img.complete)", timeout=15_000)
        page.screenshot(path=str(out))
        browser.close()
    typer.echo(f"wrote {out}")


def register(groups: CliGroups) -> None:
    """Add the console, user-account and token commands to the CLI."""
    groups.app.add_typer(users, name="users")
    groups.app.add_typer(tokens, name="tokens")
    console = typer.Typer(help="The control-room web console.", no_args_is_help=True)
    console.command("screenshot")(screenshot)
    groups.app.add_typer(console, name="console")
