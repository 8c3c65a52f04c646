"""`mailbox demo`: run the product on the local stack with a scripted office and units."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from devkit.actors.script import Case
from devkit.demo.runner import DemoError, DemoOptions, Outcome, run_demo
from devkit.demo.scenarios import DEV_LETTERS, SCENARIOS
from shared.events.vocabulary import LABELS_ZH

SERVICE_PORTS = {"intake": 8001, "routing": 8002, "deadlines": 8003, "publishing": 8004}


def demo(
    letters: int = typer.Option(
        0, "--letters", min=0, max=2000, help="extra ordinary letters besides the scripted ones"
    ),
    keep_running: bool = typer.Option(
        False, "--keep-running", help="leave the services up for exploration until Ctrl-C"
    ),
    namespace: str = typer.Option(
        "demo", help="names the databases and the exchange (wiped at the start)"
    ),
    timeout_s: float = typer.Option(
        120.0, "--timeout-s", min=5, help="longest wait for any one asynchronous effect"
    ),
    dev_letters: Path = typer.Option(
        DEV_LETTERS, help="labelled letters to draw from (generated letters when absent)"
    ),
) -> None:
    """Run the four services, the console and the simulator; drive letters every way the
    regulation allows."""
    console = Console()
    options = DemoOptions(
        namespace=namespace,
        letters=letters,
        keep_running=keep_running,
        timeout_s=timeout_s,
        dev_letters=dev_letters,
    )
    total = len(SCENARIOS) + letters
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("letters", total=total)
        finished: set[str] = set()

        def listener(case: Case, text: str) -> None:
            console.print(f"  [dim]{case.key}[/dim] {case.plan.name:<38} {text}")
            if text in ("archived",) or case.final is not None:
                finished.add(case.key)
            progress.update(task, completed=len(finished))

        def phase(text: str) -> None:
            console.print(f"[bold cyan]▸ {text}[/bold cyan]")

        def ready(outcome: Outcome) -> None:
            progress.update(task, completed=len(outcome.cases), total=len(outcome.cases))
            progress.stop()
            show(console, outcome=outcome)
            if keep_running:
                sign_ins(console, outcome=outcome)
                console.print(
                    "[bold green]The services stay up for exploration; Ctrl-C stops them.[/]"
                )

        try:
            outcome = asyncio.run(run_demo(options, listener=listener, phase=phase, on_ready=ready))
        except (KeyboardInterrupt, asyncio.CancelledError):
            console.print("stopped; the services are down.")
            raise typer.Exit(0 if keep_running else 130) from None
        except DemoError as exc:
            console.print(f"[bold red]The demo cannot run: {exc}[/]")
            raise typer.Exit(2) from None
        except Exception as exc:  # the command's boundary: say what broke, not a traceback
            console.print(f"[bold red]The demo failed: {type(exc).__name__}: {exc}[/]")
            console.print("Is the local stack up? `mailbox stack status`; service logs: var/log/")
            raise typer.Exit(2) from None
    failures = outcome.failures()
    if failures:
        console.print(f"[bold red]{len(failures)} letter(s) did not reach their expected state:[/]")
        for case in failures:
            state = None if case.final is None else case.final["state"]
            console.print(
                f"  {case.key} {case.plan.name}: expected '{case.plan.final_state}',"
                f" got '{state}'{': ' + case.error if case.error else ''}"
            )
        raise typer.Exit(1)
    console.print(
        f"[bold green]All {len(outcome.cases)} letters reached their expected state"
        f" in {outcome.seconds:.0f} s.[/]"
    )


def show(console: Console, *, outcome: Outcome) -> None:
    """The table of every letter, the API docs' links and the month's report."""
    table = Table(title="Every letter's path", show_lines=True, expand=True)
    for column in ("#", "plan", "platform", "path", "state", "clocks", "uploads"):
        table.add_column(column, overflow="fold")
    for case in outcome.cases:
        state = "—" if case.final is None else str(case.final["state"])
        good = state == case.plan.final_state and not case.error
        shown = f"[green]{state}[/]" if good else f"[red]{state} (want {case.plan.final_state})[/]"
        table.add_row(
            case.key,
            case.plan.name,
            case.letter.platform,
            " → ".join(case.path) + (f"\n[red]{case.error}[/]" if case.error else ""),
            shown,
            "\n".join(_clock(c) for c in case.clocks),
            "\n".join(f"{u['kind']}/{u['visibility']}" for u in outcome.uploads_of(case)),
        )
    console.print(table)
    console.print(f"People and tokens: {outcome.cast.how}.")
    console.print(
        f"Uploads received by the simulator: {len(outcome.uploads)}"
        f" (repeated attempts answered from the first: {outcome.upload_duplicates})."
    )
    for mail in outcome.emails:
        console.print(f"E-mail reply sent to {', '.join(mail.recipients)}: {mail.subject}")
    console.print("[bold]API docs[/bold]")
    for service in SERVICE_PORTS:
        console.print(f"  {service:<11} {outcome.urls.of(service)}/docs")
    console.print(f"  {'simulator':<11} {outcome.urls.simulator}/docs")
    _report(console, outcome=outcome)


def sign_ins(console: Console, *, outcome: Outcome) -> None:
    """Each person's user name and first password (development only: a fresh one each run)."""
    cast = outcome.cast
    if not cast.passwords:
        console.print("[yellow]No passwords: routing has no sign-in in this build.[/]")
        return
    table = Table(title="Sign-in (demo only): first passwords, changed at the first sign-in")
    for column in ("user name", "name", "role", "unit", "password"):
        table.add_column(column)
    for user_id, password in cast.passwords.items():
        person = cast.people[user_id]
        table.add_row(user_id, person.name, person.role.value, person.unit_id or "—", password)
    console.print(table)
    if outcome.urls.console:
        console.print(
            f"[bold]Console[/bold] (the office's and the units' pages): {outcome.urls.console}"
            " — sign in with a user name and first password above; you set your own at once."
        )
    console.print(
        f"API: POST {outcome.urls.routing}/auth/login {{user_id, password}} answers 403"
        " password_change_required; POST /auth/password {user_id, old_password, new_password}"
        " sets your own and answers your token."
    )


def _clock(clock: dict[str, Any]) -> str:
    due = str(clock.get("due", ""))[:16].replace("T", " ")
    return f"{clock['kind']}: {clock['state']} (due {due})"


def _report(console: Console, *, outcome: Outcome) -> None:
    for month, report in outcome.reports.items():
        if "error" in report:
            console.print(f"[yellow]No monthly report for {month}: {report['error']}[/]")
        else:
            _one_report(console, month=month, report=report, deadlines=outcome.urls.deadlines)


def _one_report(console: Console, *, month: str, report: dict[str, Any], deadlines: str) -> None:
    letters = report.get("letters") or {}
    table = Table(title=f"Monthly report {month} (deadlines service)")
    table.add_column("figure")
    table.add_column("value", overflow="fold")
    table.add_row("letters", str(letters.get("total", 0)))
    for name in ("by_platform", "by_nature", "by_scope", "not_accepted_by_reason", "by_route"):
        table.add_row(name.replace("_", " "), _counts(letters.get(name) or {}))
    for kind, stats in (report.get("on_time_by_kind") or {}).items():
        rate = stats.get("on_time_rate")
        shown = "—" if rate is None else f"{rate:.0%}"
        table.add_row(
            f"on time: {kind}",
            f"{shown} (met {stats.get('met', 0)}, overdue {stats.get('overdue', 0)},"
            f" open {stats.get('open', 0)})",
        )
    for name in ("extensions", "reminders", "returns", "deductions", "publication_modes"):
        table.add_row(name, _counts(report.get(name) or {}))
    console.print(table)
    console.print(
        f"CSV and chart: {deadlines}/reports/monthly?month={month}&format=csv,"
        f" {deadlines}/reports/monthly/chart.svg?month={month}"
    )


def _counts(values: dict[str, Any]) -> str:
    if not values:
        return "—"
    return ", ".join(f"{LABELS_ZH.get(k, k)} {v}" for k, v in values.items())


def register(app: typer.Typer) -> None:
    """Add `mailbox demo`."""
    app.command("demo")(demo)
