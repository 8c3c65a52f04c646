"""A letter, its writer and reply, and the events other services publish about it."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.auth import Role
from shared.events import Event, make_event
from shared.events.catalog import (
    ClockClosed,
    EventData,
    LetterEscalated,
    LetterForwarded,
    LetterLocked,
    LetterNotAccepted,
    LetterReceived,
    LetterSensitivityMarked,
    ReplyApproved,
)
from shared.events.vocabulary import (
    ClockKind,
    ClockState,
    LetterSource,
    NotAcceptedReason,
    Person,
    PublicationMode,
    Sensitivity,
)
from tests.support import auth

PLATFORM = "gov_mailbox"
NOW = datetime(2026, 10, 12, 2, 0, tzinfo=UTC)
CLERK = auth(Role.office_clerk, user_id="u_clerk_li")
HEAD = auth(Role.office_head, user_id="u_head_zhao")
LEADER = auth(Role.office_leader)
UNIT = auth(Role.unit_handler, unit_id="unit_market")
ADMIN = auth(Role.admin)

WRITER = Person(
    name="刘德明",
    phone="13983451234",
    id_number="500103198805121234",
    address="重庆市渝中区解放碑街道邹容路68号3栋2单元1502室",
    email="liudm@example.com",
)
TITLE = "刘德明反映预付卡退款问题"
TEXT = (
    "我叫刘德明，身份证500103198805121234，住渝中区邹容路68号3栋2单元1502室，"
    "电话139 8345 1234。某健身房店长陈立军拒不退款2000元。"
)
PARTS: dict[str, str] = {
    "unit_name": "市场秩序处",
    "handler_name": "王建国",
    "investigation": "经办人员联系了刘德明先生（13983451234），并约谈健身房店长陈立军。",
    "policy_basis": "《单用途商业预付卡管理办法（试行）》第十四条",
    "result": "商家已于2026年10月15日退款2000元。",
}
# Every secret of the writer's, in the spellings the letter and the reply use.
SECRETS = (
    "刘德明",
    "13983451234",
    "139 8345 1234",
    "500103198805121234",
    "68号3栋2单元1502室",
    "陈立军",
    "王建国",
)


# ---- events other services would publish -------------------------------------------------


def event(data: EventData, letter_id: str, *, producer: str = "routing") -> Event:
    """An event as another service would publish it."""
    return make_event(data, producer=producer, occurred_at=NOW, letter_id=letter_id)


def received(
    letter_id: str,
    *,
    external_id: str,
    person: Person = WRITER,
    title: str = TITLE,
    text: str = TEXT,
    platform: str = PLATFORM,
) -> Event:
    """`letter.received` from intake."""
    return event(
        LetterReceived(
            platform=platform,
            external_id=external_id,
            source=LetterSource.platform,
            title=title,
            text=text,
            person=person,
            submitted_at=NOW,
            received_at=NOW,
            raw_sha256="0" * 64,
        ),
        letter_id,
        producer="intake",
    )


def approved(
    letter_id: str,
    *,
    mode: PublicationMode,
    revision: int = 1,
    parts: dict[str, str] | None = None,
    locked: bool = False,
    sensitivities: list[Sensitivity] | None = None,
) -> Event:
    """`reply.approved` from routing."""
    return event(
        ReplyApproved(
            reply_id=f"rpl_{letter_id[-8:]}",
            revision=revision,
            unit_id="unit_market",
            **(parts or PARTS),
            publication_mode=mode,
            not_public_reason="个人隐私" if mode == PublicationMode.not_public else None,
            sensitivities=sensitivities or [],
            locked=locked,
            approved_at=NOW,
        ),
        letter_id,
    )


def not_accepted(letter_id: str) -> Event:
    """`letter.not_accepted` (Art. 9)."""
    return event(
        LetterNotAccepted(
            slip_id=f"slp_{letter_id[-10:]}",
            reason=NotAcceptedReason.advertising,
            reply_text="您好，您的来信属于推销广告，不予受理。",
            decided_at=NOW,
        ),
        letter_id,
    )


def forwarded(letter_id: str) -> Event:
    """`letter.forwarded` (转阅)."""
    return event(
        LetterForwarded(
            slip_id=f"slp_{letter_id[-10:]}",
            recipient_id="jiulongpo",
            recipient_name="九龙坡区人民政府",
            notice_text="您好，您反映的问题已转交九龙坡区人民政府办理。",
            decided_at=NOW,
        ),
        letter_id,
    )


def escalated(letter_id: str) -> Event:
    """`letter.escalated` (呈办)."""
    return event(
        LetterEscalated(
            slip_id=f"slp_{letter_id[-10:]}",
            recipient_id="city_mailbox_office",
            recipient_name="市政府公开信箱办公室",
            notice_text="您好，您反映的问题涉及多个部门，已呈交市政府公开信箱办公室协调处理。",
            decided_at=NOW,
        ),
        letter_id,
    )


def locked(letter_id: str) -> Event:
    """`letter.locked` (Art. 23)."""
    return event(
        LetterLocked(
            agency="state_security",
            reason="涉及国家安全",
            approved_by="u_office_leader",
            locked_at=NOW,
        ),
        letter_id,
    )


def marked(letter_id: str) -> Event:
    """`letter.sensitivity_marked` (Art. 22)."""
    return event(
        LetterSensitivityMarked(
            sensitivities=[Sensitivity.sensitive], reason="敏感性较强", marked_at=NOW
        ),
        letter_id,
    )


def clock_closed(letter_id: str, kind: ClockKind = ClockKind.upload) -> Event:
    """`clock.closed` from deadlines."""
    return event(
        ClockClosed(
            clock_id=f"{letter_id}.{kind.value}",
            kind=kind,
            due=NOW,
            closed_at=NOW,
            state=ClockState.met,
        ),
        letter_id,
        producer="deadlines",
    )
