"""Counts of the database commands a service sends, by collection, command and filter shape.

Off unless `command_counts_dir` is set (the pipeline benchmark and the hot-path test set it):
a PyMongo `CommandListener` counts every command as it starts, keyed
`collection command filter-keys` (the sorted top-level keys of the command's filter, `-` when
it has none), and the service writes the counts to `<dir>/<service>-<pid>.json` when it
shuts down. What reads the file sums the instances of a service. Counting costs a dict
update per command; no command's values are kept, only the names of the keys it filtered on.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
from pymongo import monitoring

# Commands of the driver itself (handshakes, monitoring, sessions), not of the service.
_DRIVER_COMMANDS = frozenset(
    {"hello", "ismaster", "isMaster", "ping", "buildInfo", "buildinfo", "endSessions"}
)
_COLLECTION_FIELDS = {"getMore": "collection"}


def filter_shape(command_name: str, command: Mapping[str, Any]) -> str:
    """The sorted top-level keys the command filters on, joined by `,`; `-` for none."""
    filters: list[Mapping[str, Any]] = []
    if command_name in ("find", "count", "distinct"):
        filters.append(command.get("filter") or command.get("query") or {})
    elif command_name == "findAndModify":
        filters.append(command.get("query") or {})
    elif command_name == "update":
        filters += [u.get("q") or {} for u in command.get("updates") or []]
    elif command_name == "delete":
        filters += [d.get("q") or {} for d in command.get("deletes") or []]
    elif command_name == "aggregate":
        stages = command.get("pipeline") or []
        if stages and "$match" in stages[0]:
            filters.append(stages[0]["$match"])
    keys: set[str] = set()
    for one in filters:
        keys |= set(one)
    return ",".join(sorted(keys)) or "-"


class CommandCounter(monitoring.CommandListener):
    """Counts started commands by `collection command filter-keys`."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        name = event.command_name
        if name in _DRIVER_COMMANDS:
            return
        command = event.command
        collection = command.get(_COLLECTION_FIELDS.get(name, name))
        target = collection if isinstance(collection, str) else "-"
        self.counts[f"{target} {name} {filter_shape(name, command)}"] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        return None

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        return None

    def write(self, directory: Path, *, service: str) -> Path:
        """Write the counts to `<directory>/<service>-<pid>.json`."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{service}-{os.getpid()}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(orjson.dumps(dict(self.counts), option=orjson.OPT_SORT_KEYS))
        tmp.replace(path)
        return path


def read_counts(directory: Path) -> dict[str, Counter[str]]:
    """Each service's counts (its instances summed) from the files in `directory`."""
    by_service: dict[str, Counter[str]] = {}
    for path in sorted(directory.glob("*.json")):
        service = path.stem.rsplit("-", 1)[0]
        counts = by_service.setdefault(service, Counter())
        counts.update(orjson.loads(path.read_bytes()))
    return by_service
