"""What the casework forms and the timeline read of routing's letter: the case's parts, each
as routing answers it (unknown fields ignored), and the directory the slip's pickers offer."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class _Part(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Actor(_Part):
    user_id: str = ""
    name: str = ""
    role: str = ""
    unit_id: str | None = None

    @property
    def shown(self) -> str:
        """The person as the timeline names them."""
        return self.name or self.user_id


class SlipReview(_Part):
    decision: str
    comment: str | None = None
    by: Actor
    at: datetime


class Slip(_Part):
    """市商务委公开信箱（电话）处理单, as routing keeps it."""

    id: str = ""
    status: str = "draft"
    summary: str = ""
    opinion: str = ""
    nature: str | None = None
    accepted: bool = True
    not_accepted_reason: str | None = None
    route: str | None = None
    lead_unit_id: str | None = None
    lead_unit_name: str | None = None
    assisting_unit_ids: list[str] = Field(default_factory=list)
    assisting_unit_names: list[str] = Field(default_factory=list)
    recipient_id: str | None = None
    recipient_name: str | None = None
    notes: str = ""
    major: bool = False
    reply_text: str | None = None
    notice_text: str | None = None
    drafted_by: Actor | None = None
    drafted_at: datetime | None = None
    submitted_at: datetime | None = None
    reviews: list[SlipReview] = Field(default_factory=list)


class Decision(_Part):
    outcome: str
    at: datetime
    by: Actor


class Handler(_Part):
    user_id: str
    name: str
    phone: str | None = None
    named_by: Actor
    named_at: datetime


class ContactAttempt(_Part):
    at: datetime
    channel: str
    outcome: str
    note: str = ""
    recorded_by: Actor


class ContactInvalid(_Part):
    reason: str
    by: Actor
    at: datetime


class ReturnRecord(_Part):
    reason: str
    comment: str
    by: Actor
    at: datetime


class Extension(_Part):
    reason: str
    status: str = "pending"
    requested_by: Actor
    requested_at: datetime
    decided_by: Actor | None = None
    decided_at: datetime | None = None


class AssistRequest(_Part):
    """协办: the lead unit asks an assisting unit for its part (Art. 14 ¶2), and its answer."""

    id: str
    unit_id: str
    unit_name: str = ""
    question: str
    requested_by: Actor
    requested_at: datetime
    answer: str | None = None
    answered_by: Actor | None = None
    answered_at: datetime | None = None

    @property
    def unit_shown(self) -> str:
        return self.unit_name or self.unit_id


class SensitivityMark(_Part):
    sensitivities: list[str]
    reason: str
    by: Actor
    at: datetime


class Referral(_Part):
    id: str
    agency: str
    reason: str
    proposed_by: Actor
    proposed_at: datetime
    status: str = "pending"
    comment: str | None = None
    decided_by: Actor | None = None
    decided_at: datetime | None = None


class Transfer(_Part):
    """转阅/呈办: the letter's content passed on (Art. 13)."""

    route: str
    recipient_id: str
    recipient_name: str
    status: str = "to_send"
    decided_at: datetime
    channel: str | None = None
    reference: str | None = None
    note: str | None = None
    sent_by: Actor | None = None
    sent_at: datetime | None = None


class AuditEntry(_Part):
    at: datetime
    actor: Actor
    action: str
    target_type: str = ""
    note: str | None = None


class Dossier(_Part):
    """Routing's dossier, of which the timeline shows the audit trail (the office's)."""

    audit: list[AuditEntry] = Field(default_factory=list)


class Entry(_Part):
    id: str
    name: str


class Directory(_Part):
    """The active directory: the units that lead or assist, the recipients of 转阅 and the
    city office of 呈办."""

    units: list[Entry] = Field(default_factory=list)
    recipients: list[Entry] = Field(default_factory=list)
    city_office: Entry | None = None

    def name_of(self, entry_id: str | None) -> str:
        """The entry's name, or its id if the directory does not list it."""
        office = [self.city_office] if self.city_office else []
        for entry in [*self.units, *self.recipients, *office]:
            if entry.id == entry_id:
                return entry.name
        return entry_id or ""
