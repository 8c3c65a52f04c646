"""The archive package for the archive room (Art. 16): a zip per period.

Layout (`{root}` is `mailbox-archive-{from}_{to}`):
- `{root}/letters/{letter_id}/record.json`: the record's canonical JSON, byte for byte
  what its sha256 was taken over;
- `{root}/letters/{letter_id}/record.html`: the same, printable, in Chinese, marked
  内部资料 (personal data is shown: the archive is internal);
- `{root}/index.html`: the list of the period's letters;
- `{root}/manifest.json`: the period, and every other file with its sha256 and size.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import AsyncIterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, Any

import orjson

from services.publishing.archive.html import render_index, render_record
from shared.clock import to_shanghai
from shared.mongo import Document

EXPORT_SCHEMA = "mailbox.archive-export/1"


def root_name(period_from: date, period_to: date) -> str:
    """The folder every file of a package sits in."""
    return f"mailbox-archive-{period_from.isoformat()}_{period_to.isoformat()}"


@dataclass
class ExportSummary:
    """What a package holds."""

    root: str
    records: int = 0
    files: list[dict[str, Any]] = field(default_factory=list)


def _zip_time(at: datetime) -> tuple[int, int, int, int, int, int]:
    local = to_shanghai(at)
    return (local.year, local.month, local.day, local.hour, local.minute, local.second)


class _Writer:
    def __init__(self, archive: zipfile.ZipFile, *, root: str, at: datetime) -> None:
        self._zip = archive
        self._root = root
        self._time = _zip_time(at)
        self.files: list[dict[str, Any]] = []

    def add(self, path: str, data: bytes, *, listed: bool = True) -> None:
        info = zipfile.ZipInfo(f"{self._root}/{path}", date_time=self._time)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        self._zip.writestr(info, data)
        if listed:
            self.files.append(
                {"path": path, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
            )


async def write_package(
    records: AsyncIterable[Document],
    *,
    out: IO[bytes],
    period_from: date,
    period_to: date,
    generated_at: datetime,
) -> ExportSummary:
    """Write the zip of a period's records to `out`."""
    root = root_name(period_from, period_to)
    summary = ExportSummary(root=root)
    rows: list[dict[str, Any]] = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        writer = _Writer(archive, root=root, at=generated_at)
        async for stored in records:
            canonical = str(stored["canonical"]).encode()
            record = orjson.loads(canonical)
            folder = f"letters/{stored['letter_id']}"
            writer.add(f"{folder}/record.json", canonical)
            writer.add(f"{folder}/record.html", render_record(record, sha256=stored["sha256"]))
            rows.append(
                {
                    "letter_id": stored["letter_id"],
                    "archive_id": stored["archive_id"],
                    "archived_at": to_shanghai(stored["archived_at"]).isoformat(),
                    "sha256": stored["sha256"],
                    "title": record.get("letter", {}).get("title", ""),
                    "path": folder,
                }
            )
            summary.records += 1
        writer.add(
            "index.html",
            render_index(
                rows, period_from=period_from, period_to=period_to, generated_at=generated_at
            ),
        )
        manifest = {
            "schema": EXPORT_SCHEMA,
            "period": {"from": period_from.isoformat(), "to": period_to.isoformat()},
            "generated_at": to_shanghai(generated_at).isoformat(),
            "records": [{k: v for k, v in row.items() if k != "title"} for row in rows],
            "files": writer.files,
        }
        writer.add(
            "manifest.json", orjson.dumps(manifest, option=orjson.OPT_INDENT_2), listed=False
        )
        summary.files = writer.files
    return summary


def verify_package(path_or_file: str | IO[bytes]) -> list[str]:
    """Problems of a package: files missing, extra, or not matching the manifest (empty: fine)."""
    problems: list[str] = []
    with zipfile.ZipFile(path_or_file) as archive:
        names = archive.namelist()
        manifests = [n for n in names if n.endswith("/manifest.json") and n.count("/") == 1]
        if len(manifests) != 1:
            return ["no manifest.json at the top of the package"]
        root = manifests[0].split("/", 1)[0]
        manifest = orjson.loads(archive.read(manifests[0]))
        listed = {f"{root}/{entry['path']}": entry for entry in manifest.get("files", [])}
        for name, entry in listed.items():
            if name not in names:
                problems.append(f"missing: {entry['path']}")
                continue
            data = archive.read(name)
            if hashlib.sha256(data).hexdigest() != entry["sha256"]:
                problems.append(f"checksum differs: {entry['path']}")
            if len(data) != entry["bytes"]:
                problems.append(f"size differs: {entry['path']}")
        for name in names:
            if name not in listed and name != manifests[0] and not name.endswith("/"):
                problems.append(f"not in the manifest: {name}")
        for record in manifest.get("records", []):
            name = f"{root}/{record['path']}/record.json"
            if name in names and hashlib.sha256(archive.read(name)).hexdigest() != record["sha256"]:
                problems.append(f"record checksum differs: {record['letter_id']}")
    return problems
