"""The letters' requests and responses: the shared request pieces (every mutating request
carries the `version` the client read) and a letter as its reader may see it, lists, the dossier.

A bad value answers 422 naming the field and the reason (pydantic for shape and bounds;
the service, with the same error format, for what needs the directory or the letter).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
)

from services.routing.classify.suggestion import Suggestion
from services.routing.letters.models import (
    ArchiveInfo,
    AssessmentInfo,
    AssistRequest,
    ClockInfo,
    ContactAttempt,
    ContactInvalid,
    Decision,
    Extension,
    Handler,
    MajorMark,
    PublicationInfo,
    Referral,
    ReminderInfo,
    Reply,
    ReturnRecord,
    SensitivityMark,
    Slip,
    Transfer,
)
from shared.audit import AuditEntry
from shared.events.vocabulary import (
    ClockKind,
    LetterSource,
    Nature,
    Person,
    PublicationMode,
)
from shared.paging import Page

EntryId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$", examples=["market-order"])]
UserId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:@-]{1,64}$", examples=["u_zhangsan"])]

# What people type when they do not want to write the part (Art. 29 wants it written).
PLACEHOLDERS = frozenset(
    "无 略 见附件 详见附件 同上 暂无 待定 待补充 待查 无意见 不详 空 无内容 见上 见前 如上"
    " 同前 某某 测试 na n/a none null tbd todo xx xxx test".split()
)
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def meaningful(text: str) -> str:
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text)).lower()


def substantive(min_chars: int) -> AfterValidator:
    """A text part that says something: not a placeholder and at least `min_chars` letters."""

    def check(value: str) -> str:
        value = value.strip()
        core = meaningful(value)
        if core in PLACEHOLDERS or meaningful(value.replace("无", "")) == "":
            raise ValueError(f"placeholder text ({value!r}) is not an answer; write this part")
        if len(core) < min_chars:
            raise ValueError(f"too short: at least {min_chars} characters of substance")
        if len(set(core)) < min(3, min_chars):
            raise ValueError("meaningless text: write this part")
        return value

    return AfterValidator(check)


def _stripped(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    return value


Stripped = AfterValidator(_stripped)


class Versioned(BaseModel):
    """The letter's `version` as the caller read it: a stale one answers 409."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, le=1_000_000, description="the letter's version you acted on")


class VersionOnly(Versioned):
    model_config = ConfigDict(json_schema_extra={"examples": [{"version": 3}]})


class Comment(Versioned):
    """A decision that must say why (send back, refuse)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"version": 3, "comment": "请补充调查经过。"}]}
    )

    comment: Annotated[str, Stripped] = Field(min_length=2, max_length=2000)


class OptionalComment(Versioned):
    model_config = ConfigDict(json_schema_extra={"examples": [{"version": 5, "comment": "同意。"}]})

    comment: Annotated[str, Stripped] | None = Field(default=None, max_length=2000)


def reason_for_mode(mode: Any, reason: str | None) -> str | None:
    reason = reason.strip() if reason else None
    if mode == PublicationMode.not_public and not reason:
        raise ValueError("a reply that is not public needs its reason (Art. 22)")
    if mode is not None and mode != PublicationMode.not_public:
        return None
    return reason


_LETTER_EXAMPLE: dict[str, Any] = {
    "id": "ltr_01JDX5Q9Z6M0B6W1B7Q1T3V9KC",
    "version": 4,
    "state": "assigned",
    "allowed_actions": ["name_handler", "request_extension"],
    "platform": "cq-gov-mailbox",
    "source": "platform",
    "external_id": "20261012-0001",
    "title": "预付卡商家跑路无法退款",
    "text": "我在某健身房办的预付卡，老板跑路了……",
    "nature": "complaint",
    "received_at": "2026-10-12T01:00:00Z",
    "submitted_at": "2026-10-11T23:40:00Z",
    "lead_unit_id": "market-order",
    "assisting_unit_ids": ["consumption"],
    "locked": False,
}


class LetterSummary(BaseModel):
    """A letter in a list."""

    model_config = ConfigDict(json_schema_extra={"examples": [_LETTER_EXAMPLE]})

    id: str
    version: int
    state: str
    platform: str
    source: LetterSource
    external_id: str
    title: str | None = Field(description="the writer's title; null when withheld from you")
    nature: Nature | None = None
    received_at: datetime
    submitted_at: datetime | None = None
    lead_unit_id: str | None = None
    assisting_unit_ids: list[str] = Field(default_factory=list)
    major: bool = False
    locked: bool = False
    not_public: bool = Field(default=False, description="a sensitivity mark forces not_public")
    handling_due: datetime | None = None


class LetterRead(LetterSummary):
    """Everything about a letter its reader may see; `person` only for the office and units."""

    model_config = ConfigDict(json_schema_extra={"examples": [_LETTER_EXAMPLE]})

    allowed_actions: list[str] = Field(description="what you may do now")
    text: str | None = Field(
        description="the letter as written; null when withheld from you (see `withheld`)"
    )
    person: Person | None = Field(
        default=None, description="confidential (Art. 3): the office and the assigned units only"
    )
    withheld: list[str] = Field(
        default_factory=list,
        description="the parts not shown to you: they carry the writer's data or the letter's"
        " words, which only the office, the assigned units and the archive read (Art. 3)",
    )
    taken_by: str | None = None
    suggestion: Suggestion | None = None
    why: str = ""
    slip: Slip | None = None
    decision: Decision | None = None
    major_mark: MajorMark | None = Field(
        default=None, description="who marked the matter major at the office's review, and why"
    )
    handler: Handler | None = None
    contact_attempts: list[ContactAttempt] = Field(default_factory=list)
    contact_invalid: ContactInvalid | None = None
    assist_requests: list[AssistRequest] = Field(default_factory=list)
    reply: Reply | None = None
    reply_history: list[Reply] = Field(
        default_factory=list, description="returned revisions, oldest first"
    )
    returns: list[ReturnRecord] = Field(default_factory=list)
    extensions: list[Extension] = Field(default_factory=list)
    sensitivity: SensitivityMark | None = None
    referrals: list[Referral] = Field(default_factory=list)
    transfer: Transfer | None = Field(
        default=None, description="转阅/呈办: the letter's content passed on (Art. 13)"
    )
    clocks: dict[str, ClockInfo] = Field(default_factory=dict)
    reminders: list[ReminderInfo] = Field(default_factory=list)
    assessments: list[AssessmentInfo] = Field(default_factory=list)
    publications: list[PublicationInfo] = Field(default_factory=list)
    archive: ArchiveInfo | None = None


class WorkItemRead(BaseModel):
    """A letter waiting for you: what you may do, and the statutory clock it runs on."""

    letter: LetterSummary
    actions: list[str] = Field(description="your work on it (optional steps left out)")
    clock: ClockKind | None = Field(default=None, description="the clock this step runs on")
    due: datetime | None = Field(default=None, description="that clock's due, if running")
    overdue: bool = False


class Worklist(BaseModel):
    """待办: your waiting letters, overdue and soonest due first (those without a due last)."""

    items: list[WorkItemRead]
    counts: dict[str, int] = Field(description="letters waiting per action")
    overdue: int = Field(description="how many are past their due")
    truncated: bool = Field(description="more letters matched than one list reads")


class LetterPage(Page[LetterSummary]):
    """A page of letters, newest first."""


class Dossier(BaseModel):
    """Everything about a letter for the archive (Art. 16), with this service's audit trail."""

    letter: LetterRead
    audit: list[AuditEntry]


def _summary_fields(doc: dict[str, Any]) -> dict[str, Any]:
    handling = (doc.get("clocks") or {}).get("handling") or {}
    return {
        "id": doc["_id"],
        "version": doc["version"],
        "state": doc["state"],
        "platform": doc["platform"],
        "source": doc["source"],
        "external_id": doc["external_id"],
        "title": doc["title"],
        "nature": doc.get("nature"),
        "received_at": doc["received_at"],
        "submitted_at": doc.get("submitted_at"),
        "lead_unit_id": doc.get("lead_unit_id"),
        "assisting_unit_ids": doc.get("assisting_unit_ids") or [],
        "major": bool(doc.get("major")),
        "locked": bool(doc.get("locked")),
        "not_public": bool(doc.get("sensitivity")),
        "handling_due": handling.get("due"),
    }


def letter_summary(doc: dict[str, Any], *, show_title: bool) -> LetterSummary:
    """A stored letter as a list shows it (the title, the writer's words, as `sees_person`)."""
    fields = _summary_fields(doc)
    if not show_title:
        fields["title"] = None
    return LetterSummary.model_validate(fields)


# What a reader who may not see the writer's data (the admin) does not get: the writer, the
# letter's words and the parts written from them or with the writer (the slip's summary and
# replies, the suggestion's same-writer links, contact notes, assisting input, the reply).
# The case itself stays: state, units, decisions, clocks, who acted and when.
WITHHELD = (
    "title text person suggestion why slip contact_attempts contact_invalid assist_requests"
    " reply reply_history"
).split()


def letter_read(
    doc: dict[str, Any], *, allowed_actions: list[str], show_person: bool
) -> LetterRead:
    """A stored letter as its reader may see it (`show_person`: `sees_person` decided)."""
    parts = (
        "taken_by suggestion slip decision major_mark handler contact_attempts contact_invalid"
        " assist_requests reply reply_history returns extensions sensitivity referrals"
        " transfer clocks reminders assessments publications archive"
    ).split()
    fields = {
        **_summary_fields(doc),
        **{name: doc[name] for name in parts if doc.get(name) is not None},
        "allowed_actions": allowed_actions,
        "text": doc["text"],
        "why": doc.get("why") or "",
        "person": doc.get("person"),
    }
    if not show_person:
        fields = {name: value for name, value in fields.items() if name not in WITHHELD}
        fields |= {"title": None, "text": None, "withheld": WITHHELD}
    return LetterRead.model_validate(fields)
