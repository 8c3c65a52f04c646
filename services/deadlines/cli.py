"""`mailbox deadline` (the working-day calendar, offline) and `mailbox report`."""

from __future__ import annotations

import sys
from datetime import datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer

if TYPE_CHECKING:
    from services.deadlines.calendar.working_days import WorkingCalendar

# Lines written per flush: streams a long input without a syscall per line.
_JSONL_CHUNK_LINES = 4096


def _parse_start(text: str) -> datetime:
    try:
        start = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"start {text!r} is not an ISO 8601 instant") from None
    if start.tzinfo is None:
        raise ValueError(f"start {text!r} has no offset: give one, e.g. +08:00")
    return start


def _parse_close_of_business(text: str) -> time:
    try:
        parsed = time.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not HH:MM:SS") from None
    if parsed.tzinfo is not None:
        raise typer.BadParameter("a local Asia/Shanghai time of day takes no offset")
    return parsed


def _load_calendar(
    *, close_of_business: str, confirmed_years: list[int], overrides_path: Path | None
) -> WorkingCalendar:
    # Imported here: the holidays data costs most of a second, and `mailbox --help` should not.
    from pydantic import ValidationError

    from services.deadlines.calendar.working_days import DayOverride, WorkingCalendar

    overrides: list[DayOverride] = []
    if overrides_path is not None:
        for number, line in enumerate(overrides_path.read_bytes().splitlines(), start=1):
            if not line.strip():
                continue
            try:
                overrides.append(DayOverride.model_validate_json(line))
            except ValidationError as error:
                raise typer.BadParameter(
                    f"line {number}: {error.errors()[0]['msg']}", param_hint="--overrides"
                ) from None
    try:
        return WorkingCalendar.build(
            overrides=overrides,
            confirmed_years=confirmed_years,
            close_of_business=_parse_close_of_business(close_of_business),
        )
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


def _record(calendar: WorkingCalendar, raw: bytes) -> dict[str, Any]:
    try:
        request = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise ValueError(f"not JSON: {error}") from None
    if not isinstance(request, dict):
        raise ValueError('expected an object {"start": ..., "days": ...}')
    start_text, days = request.get("start"), request.get("days")
    if not isinstance(start_text, str):
        raise ValueError('"start" must be an ISO 8601 string with an offset')
    if type(days) is not int:
        raise ValueError('"days" must be an integer number of working days')
    due = calendar.due(_parse_start(start_text), working_days=days)
    return {"start": start_text, "days": days, "due": due.due, "provisional": due.provisional}


def _run_jsonl(calendar: WorkingCalendar) -> int:
    """Answer each stdin line in order; return how many lines failed."""
    source = sys.stdin.buffer
    sink = sys.stdout.buffer
    failures = 0
    pending: list[bytes] = []
    for number, raw in enumerate(source, start=1):
        if not raw.strip():
            continue
        try:
            answer = _record(calendar, raw)
        except (ValueError, TypeError) as error:  # orjson.JSONDecodeError is a ValueError
            failures += 1
            answer = {"line": number, "error": str(error)}
        pending.append(orjson.dumps(answer))
        if len(pending) >= _JSONL_CHUNK_LINES:
            sink.write(b"\n".join(pending) + b"\n")
            pending.clear()
    if pending:
        sink.write(b"\n".join(pending) + b"\n")
    sink.flush()
    return failures


def deadline(
    start: Annotated[
        str | None,
        typer.Option(help="Start instant, ISO 8601 with offset: 2026-09-30T16:00:00+08:00."),
    ] = None,
    days: Annotated[int | None, typer.Option(help="Length of the clock in working days.")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help='Print {"due": ..., "provisional": ...}.')
    ] = False,
    jsonl: Annotated[
        bool,
        typer.Option(
            "--jsonl",
            help='Read {"start", "days"} per stdin line; write the answers in order.',
        ),
    ] = False,
    close_of_business: Annotated[
        str, typer.Option(help="Local time of day at which a deadline falls, HH:MM:SS.")
    ] = "23:59:59",
    confirmed_year: Annotated[
        list[int] | None,
        typer.Option(help="Treat this year's calendar as confirmed (repeatable)."),
    ] = None,
    overrides: Annotated[
        Path | None,
        typer.Option(
            help='JSON lines of {"day", "kind": "holiday"|"workday", "note"}.',
            exists=True,
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Compute when a clock falls due, counted in working days of mainland China."""
    if jsonl and (start is not None or days is not None):
        raise typer.BadParameter("--jsonl reads its starts from stdin: drop --start and --days")
    if not jsonl and (start is None or days is None):
        raise typer.BadParameter("give --start and --days, or --jsonl")
    calendar = _load_calendar(
        close_of_business=close_of_business,
        confirmed_years=confirmed_year or [],
        overrides_path=overrides,
    )
    if start is None or days is None:  # --jsonl
        if _run_jsonl(calendar):
            raise typer.Exit(1)
        return
    try:
        due = calendar.due(_parse_start(start), working_days=days)
    except (ValueError, TypeError) as error:
        raise typer.BadParameter(str(error)) from None
    if as_json:
        typer.echo(orjson.dumps({"due": due.due, "provisional": due.provisional}).decode())
    else:
        typer.echo(due.due.isoformat())


def report(
    month: Annotated[
        str | None, typer.Option(help="Monthly report of YYYY-MM, e.g. 2026-10.")
    ] = None,
    year: Annotated[int | None, typer.Option(help="Annual summary of a year instead.")] = None,
    output_format: Annotated[
        str, typer.Option("--format", help="json or csv (printed on stdout).")
    ] = "json",
    chart: Annotated[
        Path | None, typer.Option(help="Also write the on-time chart by unit (SVG) here.")
    ] = None,
    url: Annotated[
        str, typer.Option(help="The deadlines service.", envvar="MAILBOX_DEADLINES_URL")
    ] = "http://127.0.0.1:8003",
    token: Annotated[
        str | None,
        typer.Option(
            help="Bearer token of an office role.", envvar="MAILBOX_TOKEN", show_default=False
        ),
    ] = None,
) -> None:
    """Fetch the monthly report or annual summary (and its chart) from the deadlines service."""
    from services.deadlines.reports.client import ReportRequest, fetch_report

    if (month is None) == (year is None):
        raise typer.BadParameter("give --month YYYY-MM or --year YYYY")
    if output_format not in ("json", "csv"):
        raise typer.BadParameter("--format is json or csv")
    if not token:
        raise typer.BadParameter("give --token or set MAILBOX_TOKEN")
    request = ReportRequest(month=month, year=year, output_format=output_format)
    try:
        body, svg = fetch_report(url, token=token, request=request, chart=chart is not None)
    except RuntimeError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    sys.stdout.buffer.write(body if body.endswith(b"\n") else body + b"\n")
    sys.stdout.buffer.flush()
    if chart is not None and svg is not None:
        chart.write_bytes(svg)
        typer.echo(f"chart written to {chart}", err=True)


def register(app: typer.Typer) -> None:
    """Add `deadline` and `report`."""
    app.command(name="deadline")(deadline)
    app.command(name="report")(report)
