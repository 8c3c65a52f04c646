"""What the simulator holds: per platform, an append-only feed of letters, the uploads
received by idempotency key, the faults in force, and counters of what it did."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from devkit.simulator.faults import (
    CorruptionKind,
    Faults,
    corrupt,
    corruption_for,
    unit,
)
from devkit.simulator.letters import (
    DEFAULT_START,
    LETTER_SPACING,
    SimulatorLetter,
    assign_platform,
    draft_letter,
)
from shared.clock import Clock, SystemClock
from shared.platforms.config import PlatformConfig, default_platform_configs
from shared.platforms.models import UploadBody
from shared.platforms.records import encode_page, encode_record

DEFAULT_ADMIN_TOKEN = "dev-only-simulator-admin-token"  # noqa: S105 - a development default
_ID_PREFIXES = {"gov_mailbox": "GOV", "mayor_hotline": "SZXX", "service_platform": "FWQZ"}


class SimulatorError(Exception):
    """A request the simulator refuses, with the HTTP status and code it answers."""

    status_code = 400
    code = "bad_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnknownPlatform(SimulatorError):
    status_code = 404
    code = "unknown_platform"


class UnknownLetter(SimulatorError):
    status_code = 404
    code = "unknown_letter"


class BadCursor(SimulatorError):
    status_code = 422
    code = "bad_cursor"


class KeyConflict(SimulatorError):
    status_code = 409
    code = "idempotency_key_conflict"


class DuplicateLetter(SimulatorError):
    status_code = 409
    code = "duplicate_letter"


@dataclass
class FeedEntry:
    """One record on a platform: a letter (written with the platform's names) or raw JSON."""

    external_id: str | None
    letter: SimulatorLetter | None = None
    raw: Any = None
    encoded: dict[str, Any] | None = None


@dataclass
class StoredUpload:
    """An upload as first received, and how often its key came again with the same body."""

    platform_id: str
    upload_id: str
    idempotency_key: str
    body: UploadBody
    received_at: datetime
    duplicate_attempts: int = 0

    def as_json(self) -> dict[str, Any]:
        """The admin view of the upload."""
        return {
            "platform_id": self.platform_id,
            "upload_id": self.upload_id,
            "idempotency_key": self.idempotency_key,
            **self.body.model_dump(),
            "received_at": self.received_at.isoformat(),
            "duplicate_attempts": self.duplicate_attempts,
        }


@dataclass
class FeedStats:
    """Counters of one platform (the tests compare what the client saw with them)."""

    requests: int = 0
    pages_served: int = 0
    records_served: int = 0
    fetches: int = 0
    errors_injected: int = 0
    timeouts_injected: int = 0
    duplicates_injected: int = 0
    rewinds_injected: int = 0
    malformed_served: int = 0
    upload_duplicate_attempts: int = 0
    upload_conflicts: int = 0


RequestFault = Literal["error", "timeout"]


@dataclass
class PlatformFeed:
    """One platform's letters, uploads, faults and counters."""

    config: PlatformConfig
    entries: list[FeedEntry] = field(default_factory=list)
    by_id: dict[str, int] = field(default_factory=dict)
    faults: Faults = field(default_factory=Faults)
    rng: random.Random = field(default_factory=random.Random)
    uploads: dict[str, StoredUpload] = field(default_factory=dict)
    stats: FeedStats = field(default_factory=FeedStats)
    served: list[int] = field(default_factory=list)
    # Each position rewinds at most once, so a client always reaches the end.
    rewound_at: set[int] = field(default_factory=set)
    malformed: dict[int, tuple[str | None, CorruptionKind]] = field(default_factory=dict)
    generated: int = 0

    def append(self, entry: FeedEntry) -> None:
        """Add a record at the end of the feed."""
        if entry.external_id is not None and entry.external_id not in self.by_id:
            self.by_id[entry.external_id] = len(self.entries)
        self.entries.append(entry)
        self.served.append(0)

    def next_generated_id(self) -> str:
        """A fresh id in the platform's style."""
        prefix = _ID_PREFIXES.get(self.config.id, self.config.id.upper())
        while True:
            self.generated += 1
            candidate = f"{prefix}{self.generated:08d}"
            if candidate not in self.by_id:
                return candidate

    def set_faults(self, faults: Faults) -> None:
        """Replace the faults; the request-fault generator restarts from the seed."""
        self.faults = faults
        self.rng = random.Random(faults.seed)  # noqa: S311 - reproducible faults, not secrets

    def draw_request_fault(self) -> RequestFault | None:
        """Whether this request fails (5xx) or stalls (timeout)."""
        faults = self.faults
        if faults.error_rate <= 0 and faults.timeout_rate <= 0:
            return None
        draw = self.rng.random()
        if draw < faults.error_rate:
            self.stats.errors_injected += 1
            return "error"
        if draw < faults.error_rate + faults.timeout_rate:
            self.stats.timeouts_injected += 1
            return "timeout"
        return None

    def _record_at(self, position: int, *, on_page: bool = True) -> Any:
        entry = self.entries[position - 1]
        if on_page:
            # Only paged records count: the tests compare them with what polling saw.
            self.served[position - 1] += 1
            self.stats.records_served += 1
        if entry.letter is None:
            return entry.raw
        if entry.encoded is None:
            letter = entry.letter
            entry.encoded = encode_record(
                external_id=letter.external_id,
                title=letter.title,
                text=letter.text,
                submitted_at=letter.submitted_at,
                person=letter.person,
                attachments=letter.attachments,
                mapping=self.config.field_mapping,
            )
        kind = corruption_for(self.faults, platform_id=self.config.id, position=position)
        if kind is None:
            return entry.encoded
        self.stats.malformed_served += 1
        self.malformed[position] = (entry.external_id, kind)
        return corrupt(entry.encoded, kind, mapping=self.config.field_mapping)

    def page(self, *, after: str | None, limit: int) -> dict[str, Any]:
        """The page body after a cursor, with the platform's field names and faults."""
        start = _parse_cursor(after, size=len(self.entries))
        faults, pid = self.faults, self.config.id
        positions: list[int] = []
        fresh = min(limit, len(self.entries) - start)
        if (
            fresh > 0
            and start > 0
            and limit > 1
            and unit(faults.seed, pid, "duplicate", start) < faults.duplicate_rate
        ):
            # The last record of the previous page comes again.
            positions.append(start)
            fresh = min(fresh, limit - 1)
            self.stats.duplicates_injected += 1
        positions.extend(range(start + 1, start + fresh + 1))
        next_cursor = start + fresh
        if (
            fresh > 0
            and start > 0
            and start not in self.rewound_at
            and unit(faults.seed, pid, "rewind", start) < faults.cursor_rewind
        ):
            back = 1 + int(unit(faults.seed, pid, "rewind-span", start) * limit)
            next_cursor = max(0, start - back)
            self.rewound_at.add(start)
            self.stats.rewinds_injected += 1
        self.stats.pages_served += 1
        records = [self._record_at(position) for position in positions]
        empty_feed = after is None and not self.entries
        return encode_page(
            records,
            next_cursor=None if empty_feed else str(next_cursor),
            has_more=next_cursor < len(self.entries),
            mapping=self.config.field_mapping,
        )

    def record(self, external_id: str) -> Any:
        """One record by id, served as the feed would serve it."""
        index = self.by_id.get(external_id)
        if index is None:
            raise UnknownLetter(f"no letter '{external_id}' on {self.config.id}")
        self.stats.fetches += 1
        return self._record_at(index + 1, on_page=False)

    def upload(self, *, key: str, body: UploadBody, now: datetime) -> tuple[StoredUpload, bool]:
        """Store an upload once per key; the same body again is a duplicate, another a conflict."""
        existing = self.uploads.get(key)
        if existing is not None:
            if existing.body == body:
                existing.duplicate_attempts += 1
                self.stats.upload_duplicate_attempts += 1
                return existing, True
            self.stats.upload_conflicts += 1
            raise KeyConflict(
                f"idempotency key '{key}' was used for upload {existing.upload_id}"
                " with a different body"
            )
        if body.external_id not in self.by_id:
            raise UnknownLetter(f"no letter '{body.external_id}' on {self.config.id}")
        stored = StoredUpload(
            platform_id=self.config.id,
            upload_id=f"{self.config.id}-upl-{len(self.uploads) + 1:06d}",
            idempotency_key=key,
            body=body,
            received_at=now,
        )
        self.uploads[key] = stored
        return stored, False

    def stats_json(self) -> dict[str, Any]:
        """Counters, with what they imply (distinct and redelivered records)."""
        distinct = sum(1 for count in self.served if count)
        return {
            "letters": len(self.entries),
            **asdict(self.stats),
            "distinct_served": distinct,
            "redelivered": self.stats.records_served - distinct,
            "malformed": [
                {"position": position, "external_id": external_id, "kind": kind}
                for position, (external_id, kind) in sorted(self.malformed.items())
            ],
            "uploads": len(self.uploads),
            "faults": self.faults.model_dump(),
        }


def _parse_cursor(after: str | None, *, size: int) -> int:
    if after is None:
        return 0
    if not after.isdigit() or int(after) > size:
        raise BadCursor(f"cursor '{after[:40]}' is not one this platform issued")
    return int(after)


class SimulatorState:
    """Everything the simulator serves, for all platforms."""

    def __init__(
        self,
        platforms: Sequence[PlatformConfig] | None = None,
        *,
        admin_token: str = DEFAULT_ADMIN_TOKEN,
        clock: Clock | None = None,
    ) -> None:
        self.platforms = list(platforms) if platforms is not None else default_platform_configs()
        self.admin_token = admin_token
        self.clock: Clock = clock or SystemClock()
        self.feeds: dict[str, PlatformFeed] = {}
        self.reset()

    def reset(self) -> None:
        """Forget all letters, uploads, faults and counters."""
        self.feeds = {config.id: PlatformFeed(config=config) for config in self.platforms}

    def feed(self, platform_id: str) -> PlatformFeed:
        """The feed of one platform."""
        feed = self.feeds.get(platform_id)
        if feed is None:
            raise UnknownPlatform(f"no platform '{platform_id}'")
        return feed

    def add_letters(self, platform_id: str, letters: Sequence[SimulatorLetter]) -> list[str]:
        """Append letters to a platform; an id already there is refused."""
        feed = self.feed(platform_id)
        ids = [letter.external_id for letter in letters]
        clash = [i for i in ids if i in feed.by_id] or [i for i in ids if ids.count(i) > 1]
        if clash:
            raise DuplicateLetter(f"letter id '{clash[0]}' is already on {platform_id}")
        for letter in letters:
            feed.append(FeedEntry(external_id=letter.external_id, letter=letter))
        return ids

    def add_raw(self, platform_id: str, records: Sequence[Any]) -> int:
        """Append records served exactly as given (to test malformed input)."""
        feed = self.feed(platform_id)
        id_path = feed.config.field_mapping.external_id
        for record in records:
            value = record.get(id_path) if isinstance(record, dict) else None
            external_id = str(value) if isinstance(value, str | int) else None
            feed.append(FeedEntry(external_id=external_id, raw=record))
        return len(records)

    def load_letters(self, letters: Sequence[SimulatorLetter]) -> dict[str, int]:
        """Spread letters across the platforms by a hash of their id."""
        ids = [config.id for config in self.platforms]
        grouped: dict[str, list[SimulatorLetter]] = {pid: [] for pid in ids}
        for letter in letters:
            grouped[assign_platform(letter.external_id, ids)].append(letter)
        for pid, group in grouped.items():
            self.add_letters(pid, group)
        return {pid: len(group) for pid, group in grouped.items()}

    def generate(
        self,
        n: int,
        *,
        seed: int,
        platform_id: str | None = None,
        start: datetime = DEFAULT_START,
    ) -> dict[str, list[str]]:
        """Generate `n` letters (one platform, or spread over all), the same for the same seed."""
        rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
        ids = [platform_id] if platform_id is not None else [c.id for c in self.platforms]
        for pid in ids:
            self.feed(pid)
        added: dict[str, list[str]] = {pid: [] for pid in ids}
        for index in range(n):
            pid = ids[rng.randrange(len(ids))]
            feed = self.feeds[pid]
            draft = draft_letter(rng)
            jitter = timedelta(seconds=rng.randrange(0, int(LETTER_SPACING.total_seconds())))
            letter = SimulatorLetter(
                external_id=feed.next_generated_id(),
                title=draft.title,
                text=draft.text,
                submitted_at=start + LETTER_SPACING * index + jitter,
                person=draft.person,
            )
            feed.append(FeedEntry(external_id=letter.external_id, letter=letter))
            added[pid].append(letter.external_id)
        return added

    def stats_json(self) -> dict[str, Any]:
        """Counters of every platform."""
        return {pid: feed.stats_json() for pid, feed in self.feeds.items()}

    def uploads_json(self, platform_id: str | None = None) -> dict[str, Any]:
        """Every upload received, with counts of repeated and conflicting attempts."""
        feeds = [self.feed(platform_id)] if platform_id else list(self.feeds.values())
        uploads = [u.as_json() for feed in feeds for u in feed.uploads.values()]
        return {
            "uploads": uploads,
            "total": len(uploads),
            "duplicate_attempts": sum(f.stats.upload_duplicate_attempts for f in feeds),
            "conflicts": sum(f.stats.upload_conflicts for f in feeds),
        }
