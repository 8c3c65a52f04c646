"""The administered calendar: overrides and confirmed years, stored as one versioned document.

Every replica builds its `WorkingCalendar` from this document and rebuilds when
its version moves (checked on each sweep), so a change made through one replica
reaches all of them. Clocks remember the version they were counted with; the
sweep recounts any counted with an older one.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from services.deadlines.calendar.official import check_year
from services.deadlines.calendar.working_days import DayOverride, WorkingCalendar
from services.deadlines.clocks.rules import ClockRules
from services.deadlines.settings import DeadlinesSettings
from shared.aggregate import AggregateStore, Change
from shared.audit import Actor, AuditEntry
from shared.clock import Clock
from shared.errors import Invalid, NotFound
from shared.mongo import Document

CALENDAR_ID = "calendar"


class CalendarAdmin:
    """Holds the current calendar and changes it on an administrator's request."""

    def __init__(self, store: AggregateStore, *, settings: DeadlinesSettings, clock: Clock) -> None:
        self._store = store
        self._settings = settings
        self._clock = clock
        self._version = -1
        self._doc: Document = {}
        self._rules: ClockRules | None = None

    @property
    def rules(self) -> ClockRules:
        """The clock rules on the current calendar."""
        if self._rules is None:
            raise RuntimeError("calendar not loaded")
        return self._rules

    @property
    def calendar(self) -> WorkingCalendar:
        """The current working-day calendar."""
        return self.rules.calendar

    @property
    def version(self) -> int:
        """Version of the calendar document the rules were built from."""
        return self._version

    async def load(self) -> None:
        """Create the document on first start, then build the calendar from it."""
        await self._store.create({"_id": CALENDAR_ID, "overrides": [], "years": []})
        await self.refresh()

    async def refresh(self) -> bool:
        """Rebuild if the stored document moved; True if it did."""
        doc = await self._store.get(CALENDAR_ID)
        if doc is None:
            raise RuntimeError("calendar document missing")
        if doc["version"] == self._version:
            return False
        self._install(doc)
        return True

    def _install(self, doc: Document) -> None:
        overrides = [
            DayOverride(day=date.fromisoformat(o["day"]), kind=o["kind"], note=o["note"])
            for o in doc.get("overrides", [])
        ]
        confirmed = [y["year"] for y in doc.get("years", []) if y.get("confirmed")]
        calendar = WorkingCalendar.build(
            overrides=overrides,
            confirmed_years=confirmed,
            close_of_business=self._settings.close_of_business,
        )
        self._rules = ClockRules(
            calendar,
            calendar_version=int(doc["version"]),
            due_soon_working_days=self._settings.due_soon_working_days,
        )
        self._version = int(doc["version"])
        self._doc = doc

    def overrides(self, *, year: int | None = None) -> list[dict[str, Any]]:
        """The stored overrides (with who and when), in date order."""
        found = sorted(self._doc.get("overrides", []), key=lambda o: str(o["day"]))
        return [o for o in found if year is None or str(o["day"]).startswith(f"{year:04d}-")]

    def year_entry(self, year: int) -> dict[str, Any] | None:
        """The stored confirmation record of a year, if any."""
        return next((y for y in self._doc.get("years", []) if y["year"] == year), None)

    async def set_override(
        self, day: date, *, kind: Literal["holiday", "workday"], note: str, actor: Actor
    ) -> None:
        """Make `day` a holiday or a working day, citing the notice."""
        _check(day.year)
        now = self._clock.now()
        entry = {"day": day.isoformat(), "kind": kind, "note": note, "by": actor.user_id, "at": now}

        def decide(doc: Document) -> Change:
            before = next((o for o in doc["overrides"] if o["day"] == entry["day"]), None)
            kept = [o for o in doc["overrides"] if o["day"] != entry["day"]]
            return Change(
                set={"overrides": [*kept, entry]},
                audit=[
                    _audit(
                        "calendar.override_set",
                        target=day.isoformat(),
                        before=before,
                        after=entry,
                        now=now,
                        actor=actor,
                    )
                ],
            )

        self._install(await self._store.mutate(CALENDAR_ID, decide))

    async def remove_override(self, day: date, *, actor: Actor) -> None:
        """Drop an override: the library's calendar applies to `day` again."""
        now = self._clock.now()

        def decide(doc: Document) -> Change:
            before = next((o for o in doc["overrides"] if o["day"] == day.isoformat()), None)
            if before is None:
                raise NotFound(f"no override on {day.isoformat()}")
            kept = [o for o in doc["overrides"] if o["day"] != day.isoformat()]
            return Change(
                set={"overrides": kept},
                audit=[
                    _audit(
                        "calendar.override_removed",
                        target=day.isoformat(),
                        before=before,
                        after=None,
                        now=now,
                        actor=actor,
                    )
                ],
            )

        self._install(await self._store.mutate(CALENDAR_ID, decide))

    async def set_year(self, year: int, *, confirmed: bool, note: str, actor: Actor) -> None:
        """Mark a year's working days as confirmed by the State Council's notice (or not)."""
        _check(year)
        now = self._clock.now()
        entry = {"year": year, "confirmed": confirmed, "note": note, "by": actor.user_id, "at": now}

        def decide(doc: Document) -> Change:
            before = next((y for y in doc["years"] if y["year"] == year), None)
            kept = [y for y in doc["years"] if y["year"] != year]
            return Change(
                set={"years": [*kept, entry]},
                audit=[
                    _audit(
                        "calendar.year_set",
                        target=str(year),
                        before=before,
                        after=entry,
                        now=now,
                        actor=actor,
                    )
                ],
            )

        self._install(await self._store.mutate(CALENDAR_ID, decide))


def _check(year: int) -> None:
    try:
        check_year(year)
    except ValueError as exc:
        raise Invalid(str(exc), details={"year": year}) from exc


def _audit(
    action: str,
    *,
    target: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    now: datetime,
    actor: Actor,
) -> AuditEntry:
    def plain(value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in value.items()}

    return AuditEntry(
        at=now,
        actor=actor,
        action=action,
        target_type="calendar",
        target_id=target,
        before=plain(before),
        after=plain(after),
    )
