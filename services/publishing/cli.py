"""`mailbox redact` and `mailbox bench redact`: personal-data redaction, offline."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer

if TYPE_CHECKING:
    from services.publishing.redaction import Redaction

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DEV_LETTERS = REPO_ROOT.parent / "shared" / "data" / "dev-letters.jsonl"
# Hand-written letters unlike the dev set, kept with the tests that assert on them.
DEFAULT_HELDOUT_LETTERS = REPO_ROOT / "tests" / "publishing" / "data" / "heldout-letters.jsonl"
# Lines written per flush: streams a long input without a syscall per line.
_JSONL_CHUNK_LINES = 1024


def _as_json(redaction: Redaction, *, letter_id: Any = None, with_id: bool = False) -> bytes:
    record: dict[str, Any] = {"id": letter_id} if with_id else {}
    record["text"] = redaction.text
    record["spans"] = [span.model_dump() for span in redaction.spans]
    return orjson.dumps(record)


def _redact_line(raw: bytes) -> bytes:
    # Imported here: jieba and the patterns load only when a command runs.
    from pydantic import ValidationError

    from services.publishing.redaction import PersonData, redact

    try:
        request = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise ValueError(f"not JSON: {error}") from None
    if not isinstance(request, dict):
        raise ValueError('expected an object {"id": ..., "text": ..., "person": {...}}')
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
    return _as_json(redact(text, person=person), letter_id=request.get("id"), with_id=True)


def _redact_jsonl() -> int:
    failed = 0
    out: list[bytes] = []
    for number, raw in enumerate(sys.stdin.buffer, start=1):
        if not raw.strip():
            continue
        try:
            out.append(_redact_line(raw))
        except ValueError as error:
            failed += 1
            out.append(orjson.dumps({"line": number, "error": str(error)}))
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
    from services.publishing.redaction import PersonData, redact

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


def bench_redact(
    path: Annotated[
        Path, typer.Option(help="Labelled letters (JSONL) to measure with.")
    ] = DEFAULT_DEV_LETTERS,
    min_letters: Annotated[
        int, typer.Option(min=100, help="Letters redacted per measurement, at least.")
    ] = 5000,
    heldout: Annotated[
        Path | None,
        typer.Option(help="Held-out labelled letters (JSONL) for recall/keep-rate too."),
    ] = DEFAULT_HELDOUT_LETTERS,
) -> None:
    """Letters/s and characters/s through `redact`, peak memory, recall/keep-rate on both sets."""
    from services.publishing import bench

    letters = bench.load_letters(path)
    extra = bench.load_letters(heldout) if heldout is not None and heldout.exists() else None
    figures = bench.run_all(letters, min_letters=min_letters, heldout=extra)
    typer.echo(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())


def register(app: typer.Typer, *, bench: typer.Typer) -> None:
    """Add `redact` to the root app and `redact` to the bench group."""
    app.command("redact")(redact_command)
    bench.command("redact")(bench_redact)
