"""`mailbox redact`: personal-data redaction, offline.

Also `mailbox archive export` and `mailbox archive verify`: the package for the archive room.
The export talks to the publishing service's API (`--url`, `--token` of an office
role), not to its database: the service checks the caller's role and writes who
exported which period into the audit trail, which a direct database read would skip.
The downloaded package is then verified against its manifest before it is kept.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import httpx
import orjson
import typer

from services.publishing.archive.export import verify_package

if TYPE_CHECKING:
    from services.publishing.redaction.service import Redaction

# Lines written per flush: streams a long input without a syscall per line.
_JSONL_CHUNK_LINES = 1024


def _as_json(redaction: Redaction, *, letter_id: Any = None, with_id: bool = False) -> bytes:
    record: dict[str, Any] = {"id": letter_id} if with_id else {}
    record["text"] = redaction.text
    record["spans"] = [span.model_dump() for span in redaction.spans]
    return orjson.dumps(record)


def _redact_object(request: dict[str, Any]) -> bytes:
    # Imported here: jieba and the patterns load only when a command runs.
    from pydantic import ValidationError

    from services.publishing.redaction.service import PersonData, redact

    text = request.get("text")
    if not isinstance(text, str):
        raise ValueError('"text" must be a string')
    person_raw = request.get("person")
    if person_raw is not None and not isinstance(person_raw, dict):
        raise ValueError('"person" must be an object')
    try:
        person = PersonData.model_validate(person_raw) if person_raw else None
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ValueError(f"person.{where}: {first['msg']}") from None
    return _as_json(redact(text, person=person), letter_id=request["id"], with_id=True)


def _redact_jsonl() -> int:
    from shared.jsonl import error_record, read_objects

    failed = 0
    out: list[bytes] = []
    for number, item in read_objects(sys.stdin.buffer):
        if isinstance(item, str):
            failed += 1
            out.append(orjson.dumps(error_record(number, item)))
        else:
            try:
                out.append(_redact_object(item))
            except ValueError as error:
                failed += 1
                out.append(orjson.dumps({**error_record(number, str(error)), "id": item["id"]}))
        if len(out) >= _JSONL_CHUNK_LINES:
            sys.stdout.buffer.write(b"\n".join(out) + b"\n")
            out.clear()
    if out:
        sys.stdout.buffer.write(b"\n".join(out) + b"\n")
    sys.stdout.buffer.flush()
    return 1 if failed else 0


def redact_command(
    text: Annotated[str | None, typer.Argument(help="A text to redact.")] = None,
    jsonl: Annotated[
        bool,
        typer.Option(
            "--jsonl",
            help='Read {"id", "text", "person"} per line on stdin, write {"id", "text", "spans"}.',
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print text and spans as JSON.")] = False,
    name: Annotated[str | None, typer.Option(help="The writer's name.")] = None,
    phone: Annotated[str | None, typer.Option(help="The writer's phone.")] = None,
    id_number: Annotated[str | None, typer.Option(help="The writer's ID number.")] = None,
    address: Annotated[str | None, typer.Option(help="The writer's address.")] = None,
    email: Annotated[str | None, typer.Option(help="The writer's e-mail.")] = None,
) -> None:
    """Mask personal data (Art. 24): names → 张某, 138****5678, house numbers → ×××."""
    if jsonl:
        if text is not None:
            raise typer.BadParameter("give a TEXT or --jsonl, not both")
        raise typer.Exit(_redact_jsonl())
    if text is None:
        raise typer.BadParameter("give a TEXT, or --jsonl to read lines from stdin")
    from services.publishing.redaction.service import PersonData, redact

    fields = {
        "name": name,
        "phone": phone,
        "id_number": id_number,
        "address": address,
        "email": email,
    }
    person = PersonData(**fields) if any(fields.values()) else None
    result = redact(text, person=person)
    if as_json:
        typer.echo(_as_json(result).decode())
    else:
        typer.echo(result.text)


TIMEOUT_S = 300.0
CHUNK_BYTES = 256 * 1024

archive_app = typer.Typer(help="The archive (存档, Art. 16): export and verify packages.")


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"'{value}' is not a day like 2026-10-01") from exc


def download_package(
    url: str,
    *,
    token: str,
    period_from: date,
    period_to: date,
    out: Path,
    transport: httpx.BaseTransport | None = None,
) -> int:
    """Stream `GET /archive/export` into `out` (written whole or not at all); its size."""
    params = {"from": period_from.isoformat(), "to": period_to.isoformat()}
    headers = {"Authorization": f"Bearer {token}"}
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(prefix=".export-", suffix=".zip", dir=out.parent)
    size = 0
    try:
        with (
            os.fdopen(handle, "wb") as sink,
            httpx.Client(
                base_url=url, headers=headers, timeout=TIMEOUT_S, transport=transport
            ) as client,
            client.stream("GET", "/archive/export", params=params) as response,
        ):
            if response.status_code != 200:
                body = response.read()
                try:
                    message = orjson.loads(body).get("message", body.decode())
                except (orjson.JSONDecodeError, AttributeError):
                    message = body.decode(errors="replace")
                raise RuntimeError(f"export refused: HTTP {response.status_code} {message}")
            for chunk in response.iter_bytes(CHUNK_BYTES):
                sink.write(chunk)
                size += len(chunk)
        os.replace(partial, out)
    except httpx.HTTPError as exc:
        raise RuntimeError(f"cannot reach the publishing service at {url}: {exc}") from exc
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return size


def _summary(path: Path) -> dict[str, object]:
    import zipfile

    with zipfile.ZipFile(path) as archive:
        manifest_name = next(n for n in archive.namelist() if n.endswith("/manifest.json"))
        manifest = orjson.loads(archive.read(manifest_name))
    return {
        "file": str(path),
        "bytes": path.stat().st_size,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "period": manifest["period"],
        "records": len(manifest["records"]),
        "files": len(manifest["files"]) + 1,
    }


@archive_app.command("export")
def export_command(
    out: Annotated[Path, typer.Argument(help="Where to write the zip.")],
    period_from: Annotated[
        str, typer.Option("--from", help="First day, e.g. 2026-10-01 (Asia/Shanghai).")
    ],
    period_to: Annotated[str, typer.Option("--to", help="Last day, inclusive.")],
    url: Annotated[
        str, typer.Option(help="The publishing service.", envvar="MAILBOX_PUBLISHING_URL")
    ] = "http://127.0.0.1:8004",
    token: Annotated[
        str | None,
        typer.Option(
            help="Bearer token of an office role.", envvar="MAILBOX_TOKEN", show_default=False
        ),
    ] = None,
) -> None:
    """Download a period's archive package (JSON + HTML per letter, manifest), and verify it."""
    if not token:
        raise typer.BadParameter("give --token or set MAILBOX_TOKEN")
    first, last = _day(period_from), _day(period_to)
    try:
        download_package(url, token=token, period_from=first, period_to=last, out=out)
    except RuntimeError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    problems = verify_package(str(out))
    if problems:
        typer.echo("\n".join(problems), err=True)
        raise typer.Exit(2)
    typer.echo(orjson.dumps(_summary(out), option=orjson.OPT_INDENT_2).decode())


@archive_app.command("verify")
def verify_command(
    package: Annotated[Path, typer.Argument(help="A package made by `archive export`.")],
) -> None:
    """Check every file of a package against its manifest's sha256 (exit 2 on a mismatch)."""
    if not package.is_file():
        raise typer.BadParameter(f"{package} is not a file")
    problems = verify_package(str(package))
    if problems:
        typer.echo("\n".join(problems), err=True)
        raise typer.Exit(2)
    typer.echo(orjson.dumps({**_summary(package), "verified": True}).decode())


@archive_app.command("migrate")
def migrate_command() -> None:
    """List stored uploads under their letters and queue the unarchived ones for the archiver
    (once after upgrading; idempotent). Reads the publishing service's settings."""
    import asyncio

    from services.publishing.settings import PublishingSettings
    from services.publishing.uploads.repository import UploadRepository
    from shared.aggregate import AggregateStore
    from shared.clock import SystemClock
    from shared.mongo import make_client

    async def run() -> dict[str, int]:
        settings = PublishingSettings()
        client = make_client(settings.mongo_url)
        try:
            store = AggregateStore(client[settings.mongo_db]["uploads"], clock=SystemClock())
            return await UploadRepository(store).index_existing()
        finally:
            await client.close()

    typer.echo(orjson.dumps(asyncio.run(run())).decode())


def eval_redact(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="annotated letters (JSONL)")
    ],
    examples: Annotated[
        bool, typer.Option("--examples", help="also list the misses and false masks in context")
    ] = False,
) -> None:
    """Recall, precision and false masks per 1,000 characters by kind, on annotated letters."""
    from services.publishing.redaction.evaluation import evaluate

    letters = [orjson.loads(line) for line in file.read_bytes().splitlines() if line.strip()]
    typer.echo(orjson.dumps(evaluate(letters, examples=examples), option=orjson.OPT_INDENT_2))


def register_eval(group: typer.Typer) -> None:
    """Add `eval redact`."""
    group.command("redact")(eval_redact)


def register(app: typer.Typer) -> None:
    """Add `redact` and the `archive` group."""
    app.command("redact")(redact_command)
    app.add_typer(archive_app, name="archive")
