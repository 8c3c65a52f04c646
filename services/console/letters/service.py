"""Reading the worklist, the letters and one letter from routing, as the signed-in person."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from services.console.letters.schemas import LetterPage, LetterRead, Worklist
from services.console.upstream.service import Upstream, UpstreamError

PAGE_SIZE = 30
SOON = timedelta(hours=24)
# Routing's own pattern for a letter id; "." and ".." would walk out of /letters/.
# "worklist" is routing's route beside /letters/{id}, not a letter.
_LETTER_ID = re.compile(r"^(?!\.{1,2}$)(?!worklist$)[A-Za-z0-9_.:-]{1,64}$")


@dataclass(frozen=True)
class Badge:
    """How near a due date is: `overdue`, `soon` (within a day) or `running`."""

    kind: str
    text: str


@dataclass(frozen=True)
class LetterFilters:
    """The list's filters, as the form and the page's address carry them."""

    state: str | None = None
    nature: str | None = None
    platform: str | None = None
    cursor: str | None = None

    def query(self, **changes: str | None) -> dict[str, str]:
        """The filters as query parameters (empty ones left out), with `changes` applied."""
        values = {
            "state": self.state,
            "nature": self.nature,
            "platform": self.platform,
            "cursor": self.cursor,
            **changes,
        }
        return {k: v for k, v in values.items() if v}


def due_badge(due: datetime | None, *, overdue: bool, now: datetime) -> Badge | None:
    """The badge of a step's due date; routing's `overdue` decides the red one."""
    if overdue:
        return Badge("overdue", "已超期")
    if due is None:
        return None
    if due - now <= SOON:
        return Badge("soon", "24小时内到期")
    return Badge("running", "办理中")


async def worklist(upstream: Upstream, *, token: str) -> Worklist:
    """待办: overdue letters first, then as routing orders them (soonest due first)."""
    answer = await upstream.call("routing", "GET", "/letters/worklist", token=token)
    work = Worklist.model_validate(answer)
    # A stable sort: routing's order stands within each group.
    work.items.sort(key=lambda item: not item.overdue)
    return work


async def letters(upstream: Upstream, *, token: str, filters: LetterFilters) -> LetterPage:
    """One page of the letters the person may list, newest first."""
    params: dict[str, str | int | None] = {**filters.query(), "limit": PAGE_SIZE}
    answer = await upstream.call("routing", "GET", "/letters", token=token, params=params)
    return LetterPage.model_validate(answer)


async def letter(upstream: Upstream, *, token: str, letter_id: str) -> LetterRead:
    """One letter as routing shows it to the person, with their `allowed_actions`."""
    if not _LETTER_ID.match(letter_id):
        # As routing answers an id that is no letter of the person's.
        raise UpstreamError(404, code="not_found", message="no such letter")
    path = "/letters/" + quote(letter_id, safe="")
    answer = await upstream.call("routing", "GET", path, token=token)
    return LetterRead.model_validate(answer)
