"""What gets published, and how: the visibility rule, redaction and the leak-scan gate.

Pure logic, no I/O. A reply goes public only for `online`, only for a letter that is
neither locked (Art. 23) nor marked not public (Art. 22) — both checked here from
publishing's own records, whatever routing decided — and only as redacted text
(the letter's title and text and every part of the reply, through `redact_fields`
with the writer's data) in which `leak_scan` finds nothing, its markup escaped (the
platforms render it as HTML). Otherwise it is refused with the findings and never uploaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from services.publishing.letters.models import ApprovedReply, LetterCopy, Notice, ReplyParts
from services.publishing.redaction.leak_scan import Leak, leak_scan
from services.publishing.redaction.service import (
    PersonData,
    Redaction,
    RedactionConfig,
    redact,
    redact_fields,
)
from services.publishing.uploads.compose import (
    escape_markup,
    notice_text,
    notice_title,
    reply_text,
    reply_title,
)
from services.publishing.uploads.models import Downgrade, Finding, Visibility
from shared.events.vocabulary import PublicationMode

LETTER_FIELDS = ("title", "text")


@dataclass(frozen=True)
class Plan:
    """One publication as it will be uploaded (or refused)."""

    visibility: Visibility
    title: str
    text: str
    redacted: bool = False
    downgrade: Downgrade | None = None
    findings: list[Finding] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        """The leak scan still found personal data: never upload this."""
        return bool(self.findings)


@dataclass(frozen=True)
class PublicDraft:
    """The redacted fields, the composed upload and what the leak scan says of each."""

    fields: dict[str, Redaction]
    originals: dict[str, str]
    title: str
    text: str
    findings: list[Finding]


def describe_findings(findings: list[Finding]) -> str:
    """A leak-scan refusal for an operator: patterns and places, never the values."""
    listed = "; ".join(f"{f.field}: {f.pattern} at {f.start}–{f.end}" for f in findings[:20])
    return f"leak scan refused publication ({len(findings)} finding(s)): {listed}"


def findings_of(name: str, leaks: list[Leak]) -> list[Finding]:
    """Leaks as findings on a named field."""
    return [Finding(field=name, pattern=k.pattern, start=k.start, end=k.end) for k in leaks]


def scan(texts: Mapping[str, str], *, person: PersonData | None) -> list[Finding]:
    """The leak scan over several texts, each finding named by its field."""
    found: list[Finding] = []
    for name, value in texts.items():
        found += findings_of(name, leak_scan(value, person=person))
    return found


def public_draft(
    *,
    letter_title: str,
    letter_text: str,
    parts: ReplyParts | None,
    person: PersonData | None,
    config: RedactionConfig,
    answered_at: datetime,
) -> PublicDraft:
    """Redact everything that would be published, compose it, and scan all of it."""
    originals = {"title": letter_title, "text": letter_text}
    if parts is not None:
        originals.update(parts.fields())
    fields = redact_fields(originals, person=person, config=config)
    redacted = {name: r.text for name, r in fields.items()}
    # Published into the platforms' web pages as HTML: escaped last, after the redaction,
    # so its offsets stay those of the fields; the scan below reads what is published.
    title = reply_title(redacted["title"], escaped=True)
    text = escape_markup(
        reply_text(
            parts={k: v for k, v in redacted.items() if k not in LETTER_FIELDS},
            answered_at=answered_at,
            letter_title=redacted["title"],
            letter_text=redacted["text"],
        )
    )
    findings = scan(redacted, person=person)
    findings += scan({"upload.title": title, "upload.text": text}, person=person)
    return PublicDraft(
        fields=fields, originals=originals, title=title, text=text, findings=findings
    )


def private_reply(letter: LetterCopy, reply: ApprovedReply) -> tuple[str, str]:
    """Title and text of a reply only the writer sees (not redacted: it is their own)."""
    return reply_title(letter.title), reply_text(
        parts=reply.parts.fields(), answered_at=reply.approved_at, letter_title=letter.title
    )


def plan_reply(letter: LetterCopy, reply: ApprovedReply, *, config: RedactionConfig) -> Plan:
    """How an approved reply is published: private, public and redacted, or refused."""
    if reply.mode != PublicationMode.online:
        title, text = private_reply(letter, reply)
        return Plan(visibility="private", title=title, text=text)
    blocks = letter.online_blocks(reply)
    if blocks:
        title, text = private_reply(letter, reply)
        return Plan(
            visibility="private",
            title=title,
            text=text,
            downgrade=Downgrade(requested=PublicationMode.online, reasons=blocks),
        )
    draft = public_draft(
        letter_title=letter.title,
        letter_text=letter.text,
        parts=reply.parts,
        person=letter.person_data,
        config=config,
        answered_at=reply.approved_at,
    )
    return Plan(
        visibility="public",
        title=draft.title,
        text=draft.text,
        redacted=True,
        findings=draft.findings,
    )


def plan_notice(letter: LetterCopy, notice: Notice) -> Plan:
    """A notice is always private: it tells the writer what became of the letter."""
    return Plan(
        visibility="private", title=notice_title(letter.title, notice), text=notice_text(notice)
    )


def redact_one(
    text: str, *, person: PersonData | None, config: RedactionConfig
) -> tuple[Redaction, list[Leak]]:
    """An ad-hoc check: one text redacted, and what the leak scan finds in the result."""
    redaction = redact(text, person=person, config=config)
    return redaction, leak_scan(redaction.text, person=person)
