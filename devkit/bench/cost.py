"""What a letter costs in the pipeline benchmark: CPU of each process, database commands.

CPU: utime + stime of `/proc/<pid>/stat` for each service process and for the database
server (the process listening on the MongoDB URL's port), read before and after the phases;
the difference over the letters published in them. The database server is the shared local
one: other work on the machine that uses it in the meantime counts too (the load average is
printed beside it).

Commands: each service counts what it sends (`shared/command_counts.py`, on with
`MAILBOX_COMMAND_COUNTS_DIR`) and writes the counts when it stops; here they are summed per
service and `collection command`, and divided by the letters the run published.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from shared.command_counts import read_counts

_TICKS_PER_S = os.sysconf("SC_CLK_TCK")
_SERVER_MARKERS = (b"ferretdb", b"mongod")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds the process has used (None: gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces; the fields after it are plain.
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS_PER_S


def database_server_pid(mongo_url: str) -> int | None:
    """The pid of the FerretDB (or mongod) process that listens on the URL's port."""
    port = urlparse(mongo_url).port or 27017
    wanted = f":{port}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if any(m in cmdline for m in _SERVER_MARKERS) and (
            wanted in cmdline or (port == 27017 and b"--port" not in cmdline)
        ):
            return int(entry.name)
    return None


@dataclass
class CpuMeter:
    """CPU seconds of named processes between `start` and `stop`."""

    pids: Mapping[str, int | None]

    def __post_init__(self) -> None:
        self._before: dict[str, float | None] = {}
        self._after: dict[str, float | None] = {}

    def start(self) -> None:
        """Read every process's CPU now."""
        self._before = {name: _cpu(pid) for name, pid in self.pids.items()}

    def stop(self) -> None:
        """Read it again."""
        self._after = {name: _cpu(pid) for name, pid in self.pids.items()}

    def per_letter(self, letters: int) -> dict[str, float | None]:
        """CPU seconds per letter of each process, and of the services together."""
        figures: dict[str, float | None] = {}
        services = 0.0
        for name in self.pids:
            before, after = self._before.get(name), self._after.get(name)
            if before is None or after is None or letters <= 0:
                figures[name] = None
                continue
            figures[name] = round((after - before) / letters, 4)
            if name != "database":
                services += after - before
        figures["services_total"] = round(services / letters, 4) if letters > 0 else None
        return figures


def _cpu(pid: int | None) -> float | None:
    return None if pid is None else cpu_seconds(pid)


def commands_per_letter(directory: Path, *, letters: int) -> dict[str, Any]:
    """Per service: commands per letter by `collection command`, the total, and those whose
    filter is on something else than `_id` (each filter's keys shown)."""
    figures: dict[str, Any] = {}
    for service, counts in read_counts(directory).items():
        by_command: Counter[str] = Counter()
        not_by_id: Counter[str] = Counter()
        for key, n in counts.items():
            collection, command, shape = key.split(" ", 2)
            by_command[f"{collection} {command}"] += n
            if "_id" not in shape.split(",") and command not in ("insert", "getMore"):
                not_by_id[f"{collection} {command} [{shape}]"] += n
        figures[service] = {
            "total": _per(sum(by_command.values()), letters),
            "by_collection_command": {
                k: _per(n, letters) for k, n in sorted(by_command.items(), key=lambda kv: -kv[1])
            },
            "not_by_id": {
                k: _per(n, letters) for k, n in sorted(not_by_id.items(), key=lambda kv: -kv[1])
            },
        }
    return figures


def _per(n: int, letters: int) -> float:
    return round(n / max(1, letters), 3)
