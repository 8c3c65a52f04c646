"""`mailbox classify`: the routing service's suggestions, offline (no servers needed).

Also `mailbox directory import FILE` and `mailbox directory export`: the directory over HTTP.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer

if TYPE_CHECKING:
    from services.routing.classify.rules import RuleSet
    from services.routing.classify.suggestion import LetterInput
    from services.routing.directory.models import Directory

# Lines written per flush: streams a long input without a syscall per line.
_JSONL_CHUNK_LINES = 1024


def _load(*, rules_path: Path | None, directory_path: Path | None) -> tuple[RuleSet, Directory]:
    # Imported here so that `mailbox --help` does not pay for pydantic models and rapidfuzz.
    from pydantic import ValidationError

    from services.routing.classify.rules import load_rules
    from services.routing.directory.models import load_directory

    try:
        rules = load_rules(rules_path)
    except (ValidationError, ValueError) as error:
        raise typer.BadParameter(_first_error(error), param_hint="--rules") from None
    try:
        directory = load_directory(directory_path)
    except (ValidationError, ValueError) as error:
        raise typer.BadParameter(_first_error(error), param_hint="--directory") from None
    return rules, directory


def _first_error(error: Exception) -> str:
    from pydantic import ValidationError

    if isinstance(error, ValidationError):
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return f"{where}: {first['msg']}" if where else str(first["msg"])
    return str(error)


def _letter(data: dict[str, Any]) -> LetterInput:
    """The letter of one input object; ValueError if unusable."""
    from pydantic import ValidationError

    from services.routing.classify.suggestion import LetterInput

    fields = {key: data[key] for key in ("title", "text", "person") if key in data}
    if fields.get("title") is None:
        fields.pop("title", None)
    try:
        return LetterInput.model_validate(fields)
    except ValidationError as error:
        raise ValueError(_first_error(error)) from None


def _objects(path: Path | None) -> Iterator[tuple[int, dict[str, Any] | str]]:
    from shared.jsonl import read_objects

    if path is None:
        yield from read_objects(sys.stdin.buffer)
        return
    with path.open("rb") as source:
        yield from read_objects(source)


def _run_jsonl(rules: RuleSet, directory: Directory) -> int:
    """Answer each stdin line in order; return how many lines failed."""
    from services.routing.classify.classifier import classify
    from services.routing.classify.evaluation import output_record

    sink = sys.stdout.buffer
    failures = 0
    pending: list[bytes] = []
    for number, item in _objects(None):
        if isinstance(item, str):
            failures += 1
            answer: dict[str, Any] = {"line": number, "error": item}
        else:
            try:
                letter = _letter(item)
                answer = output_record(
                    item["id"], classify(letter, rules=rules, directory=directory)
                )
            except ValueError as error:
                failures += 1
                answer = {"line": number, "id": item["id"], "error": str(error)}
        pending.append(orjson.dumps(answer))
        if len(pending) >= _JSONL_CHUNK_LINES:
            sink.write(b"\n".join(pending) + b"\n")
            pending.clear()
    if pending:
        sink.write(b"\n".join(pending) + b"\n")
    sink.flush()
    return failures


def _evaluate(path: Path, *, rules: RuleSet, directory: Directory) -> dict[str, Any]:
    from services.routing.classify.classifier import classify
    from services.routing.classify.evaluation import agreement, output_record

    pairs: list[tuple[dict[str, Any], dict[str, Any]]] = []
    skipped: list[dict[str, Any]] = []
    for number, item in _objects(path):
        try:
            if isinstance(item, str):
                raise ValueError(item)
            letter = _letter(item)
            labels = item.get("labels")
            if not isinstance(labels, dict):
                raise ValueError('no "labels" object')
        except ValueError as error:
            skipped.append({"line": number, "error": str(error)})
            continue
        got = output_record(item["id"], classify(letter, rules=rules, directory=directory))
        pairs.append((got, labels))
    return {
        "rules_version": rules.version,
        **agreement(pairs),
        "skipped": skipped,
    }


def classify_command(
    jsonl: Annotated[
        bool,
        typer.Option(
            "--jsonl",
            help='Read {"id", "title", "text", "person"} per stdin line; write one answer each.',
        ),
    ] = False,
    evaluate: Annotated[
        Path | None,
        typer.Option(
            "--evaluate",
            help="Labelled JSONL (dev-letters format): print agreement figures as JSON.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    rules: Annotated[
        Path | None,
        typer.Option(
            "--rules",
            help="Rule set JSON (default: the packaged rules).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    directory: Annotated[
        Path | None,
        typer.Option(
            "--directory",
            help="Directory JSON (default: the packaged sample).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Suggest nature, acceptance and route for letters, offline."""
    if jsonl == (evaluate is not None):
        raise typer.BadParameter("give exactly one of --jsonl and --evaluate")
    rule_set, directory_data = _load(rules_path=rules, directory_path=directory)
    if evaluate is not None:
        figures = _evaluate(evaluate, rules=rule_set, directory=directory_data)
        typer.echo(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())
        return
    if _run_jsonl(rule_set, directory_data):
        raise typer.Exit(1)


directory_app = typer.Typer(
    help="The routing service's directory: units, external recipients, the city office.",
    no_args_is_help=True,
)

Url = Annotated[str, typer.Option(help="The routing service.", envvar="MAILBOX_ROUTING_URL")]
Token = Annotated[
    str | None,
    typer.Option(
        help="Bearer token (admin to import).", envvar="MAILBOX_TOKEN", show_default=False
    ),
]


def _call(
    method: str,
    url: str,
    *,
    token: str | None,
    content: bytes | None = None,
    params: dict[str, str] | None = None,
) -> bytes:
    """One request to the routing service; its error body on stderr and exit 1 on failure."""
    import httpx

    if not token:
        raise typer.BadParameter("give --token or set MAILBOX_TOKEN")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    try:
        with httpx.Client(timeout=120, trust_env=False) as client:
            response = client.request(method, url, headers=headers, content=content, params=params)
    except httpx.HTTPError as error:
        typer.echo(f"the routing service did not answer at {url}: {error}", err=True)
        raise typer.Exit(1) from None
    if not response.is_success:
        typer.echo(f"{response.status_code}: {response.text}", err=True)
        raise typer.Exit(1)
    return response.content


@directory_app.command("import")
def import_command(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, help="JSON in the format of data/sample_directory.json."
        ),
    ],
    url: Url = "http://127.0.0.1:8002",
    token: Token = None,
    deactivate_missing: Annotated[
        bool, typer.Option(help="Also deactivate active entries the file does not list.")
    ] = False,
) -> None:
    """Check a directory file here, then load it: entries are created or updated; counts printed."""
    from pydantic import ValidationError

    from services.routing.directory.models import Directory

    raw = file.read_bytes()
    try:
        Directory.model_validate_json(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "file"
        raise typer.BadParameter(f"{where}: {first['msg']}", param_hint="FILE") from None
    body = _call(
        "POST",
        f"{url.rstrip('/')}/admin/directory/import",
        token=token,
        content=raw,
        params={"deactivate_missing": str(deactivate_missing).lower()},
    )
    sys.stdout.buffer.write(body + b"\n")
    sys.stdout.buffer.flush()


@directory_app.command("export")
def export_command(url: Url = "http://127.0.0.1:8002", token: Token = None) -> None:
    """Print the active directory as JSON (the import format)."""
    body = _call("GET", f"{url.rstrip('/')}/admin/directory", token=token)
    sys.stdout.buffer.write(body + b"\n")
    sys.stdout.buffer.flush()


def eval_classify(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="labelled letters (JSONL)")
    ],
    rules: Annotated[
        Path | None, typer.Option(help="rule set (JSON); default the built-in")
    ] = None,
    directory: Annotated[
        Path | None, typer.Option(help="directory (JSON); default the sample")
    ] = None,
) -> None:
    """Accuracy by field with the nature confusion matrix, on labelled letters."""
    rule_set, directory_data = _load(rules_path=rules, directory_path=directory)
    figures = _evaluate(file, rules=rule_set, directory=directory_data)
    typer.echo(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())


def register_eval(group: typer.Typer) -> None:
    """Add `eval classify`."""
    group.command("classify")(eval_classify)


def register(app: typer.Typer) -> None:
    """Add `classify` and the `directory` group."""
    app.command(name="classify")(classify_command)
    app.add_typer(directory_app, name="directory")
