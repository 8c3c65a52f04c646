"""The demo's letters and the path each is meant to take (shared with the end-to-end tests).

Most letters come from the labelled development letters (`../shared/data/dev-letters.jsonl`,
chosen by their labels); when that file is absent, generated letters stand in. Letters for
the paths the development set lacks (an administrative document, a malicious letter, a
private family matter, a national-security matter, a writer who gave an e-mail address)
are written here for the purpose.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from devkit.actors.script import Case, Plan, SimLetter
from devkit.simulator.letters import draft_letter
from shared.events.vocabulary import (
    Nature,
    NotAcceptedReason,
    PublicationMode,
    ReturnReason,
    Route,
    Sensitivity,
)
from shared.platforms.config import GOV_MAILBOX, MAYOR_HOTLINE, SERVICE_PLATFORM

REPO_ROOT = Path(__file__).resolve().parents[2]
DEV_LETTERS = REPO_ROOT.parent / "shared" / "data" / "dev-letters.jsonl"
PLATFORMS = (GOV_MAILBOX, MAYOR_HOTLINE, SERVICE_PLATFORM)
Labels = dict[str, Any]
Pick = Callable[[Labels], bool]


def _labels(
    nature: str, *, accepted: bool = True, reason: str | None = None, route: str | None = None
) -> Pick:
    def pick(labels: Labels) -> bool:
        return (
            labels.get("nature") == nature
            and labels.get("accepted") is accepted
            and labels.get("not_accepted_reason") == reason
            and (route is None or labels.get("route") == route)
        )

    return pick


# Purpose-written letters: (external id, title, text, person).
WRITTEN: dict[str, tuple[str, str, dict[str, str]]] = {
    "administrative_document": (
        "关于报送2026年度商贸流通统计报表的函",
        "市商务委：根据市统计局工作安排，现将我公司2026年度商贸流通统计报表随函报送，"
        "请予审核备案。附件：统计报表一份。联系人：周敏，电话023-68881234。",
        {"name": "周敏", "phone": "023-68881234"},
    ),
    "malicious": (
        "你们这帮人全是废物",
        "你们商务委的人都是吃干饭的废物，什么事都办不成，赶紧滚蛋！我天天写信骂死你们，"
        "看你们能怎么样！",
        {"name": "匿名"},
    ),
    "sensitive": (
        "家庭纠纷导致网店经营困难求助",
        "尊敬的领导：我叫沈丽华，丈夫离家后留下网店债务，我一个人带着患病的孩子，"
        "婆家又与我争夺店铺经营权。电商平台因纠纷冻结了店铺资金，我已无力维持生活，"
        "恳请商务部门协调平台解冻资金。我的电话是13983001234，住在南岸区南坪东路88号5栋2单元301室。",
        {
            "name": "沈丽华",
            "phone": "13983001234",
            "address": "南岸区南坪东路88号5栋2单元301室",
        },
    ),
    "national_security": (
        "发现外籍人员在口岸附近长期拍摄并打听货运情况",
        "领导您好：我在江北区某物流园区工作，近两个月发现两名外籍人员多次在口岸货运通道附近"
        "拍摄，并向司机打听进出口货物的种类和数量，还询问班列的发车时间。我担心涉及国家安全，"
        "特此反映，请有关部门核查。我叫蒋振宇，电话15823456789。",
        {"name": "蒋振宇", "phone": "15823456789"},
    ),
    "email": (
        "咨询以旧换新家电补贴的申领流程",
        "您好！我叫欧阳娜娜，上个月在九龙坡区一家家电卖场以旧换新购买了冰箱，"
        "商家说补贴会在十五个工作日内到账，但至今没有收到。请问补贴申领的流程和到账时间，"
        "我该向哪个部门查询？我的邮箱是ouyang.nana@example.com，电话18623001122。",
        {"name": "欧阳娜娜", "phone": "18623001122", "email": "ouyang.nana@example.com"},
    ),
}

PRIVACY_REASON = "涉及来信人个人隐私，不宜公开。"
ART23_REASON = "涉及国家安全，已报请移交有关机关，不在互联网公示。"

# (plan, how to find its letter: labels of a development letter, or a purpose-written key)
SCENARIOS: list[tuple[Plan, Pick | str]] = [
    (
        Plan(
            "direct-online",
            "accepted, lead + assisting units, answered and published online (masked)",
            nature=Nature.complaint,
            lead_unit_id="market-order",
            assisting_unit_ids=("consumption",),
        ),
        _labels("complaint", route="direct"),
    ),
    (
        Plan(
            "returned-resubmitted",
            "accepted, reply returned as perfunctory, redone and resubmitted",
            returns=(ReturnReason.perfunctory,),
        ),
        _labels("suggestion", route="direct"),
    ),
    (
        Plan(
            "major-matter",
            "a major matter: the principal leader approves too",
            major=True,
            mode=PublicationMode.not_public,
            not_public_reason="涉及企业经营信息，不宜公开。",
        ),
        _labels("report", route="direct"),
    ),
    *(
        (
            Plan(
                f"not-accepted-{reason.value}",
                f"not accepted: {reason.value} (Art. 9)",
                accepted=False,
                not_accepted_reason=reason,
                route=None,
            ),
            pick,
        )
        for reason, pick in (
            (
                NotAcceptedReason.outside_duties,
                _labels("consultation", accepted=False, reason="outside_duties"),
            ),
            (
                NotAcceptedReason.other_authority,
                _labels("complaint", accepted=False, reason="judicial"),
            ),
            (NotAcceptedReason.administrative_document, "administrative_document"),
            (NotAcceptedReason.malicious, "malicious"),
            (
                NotAcceptedReason.repetitive_or_empty,
                _labels("other", accepted=False, reason="empty"),
            ),
            (NotAcceptedReason.advertising, _labels("other", accepted=False, reason="advertising")),
        )
    ),
    (
        Plan(
            "forward",
            "forwarded to a municipal department (转阅), slip sent back once first",
            route=Route.forward,
            slip_sent_back=True,
        ),
        _labels("complaint", route="forward"),
    ),
    (
        Plan("escalate", "escalated to the city mailbox office (呈办)", route=Route.escalate),
        _labels("help", route="escalate"),
    ),
    (
        Plan(
            "extension-approved",
            "extension asked and approved, then answered",
            extension="approved",
        ),
        _labels("consultation", route="direct"),
    ),
    (
        Plan(
            "extension-refused",
            "extension refused; the writer's number void (Art. 14 ¶3), answered from the letter",
            extension="refused",
            contact_invalid=True,
        ),
        _labels("help", route="direct"),
    ),
    (
        Plan(
            "overdue-unanswered",
            "handling overdue → reminder (催办) unanswered → assessment item",
            overdue="unanswered",
        ),
        _labels("other", route="direct"),
    ),
    (
        Plan(
            "overdue-answered",
            "handling overdue → reminder answered in time (no deduction)",
            overdue="answered",
        ),
        _labels("complaint", route="direct"),
    ),
    (
        Plan(
            "sensitive",
            "marked private (Art. 22) at re-check: answered, not public",
            nature=Nature.help,
            lead_unit_id="e-commerce",
            sensitivity=(Sensitivity.privacy,),
        ),
        "sensitive",
    ),
    (
        Plan(
            "national-security",
            "referred to state security (Art. 23): locked, answered privately",
            nature=Nature.report,
            lead_unit_id="port",
            referral="state_security",
            mode=PublicationMode.not_public,
            not_public_reason=ART23_REASON,
        ),
        "national_security",
    ),
    (
        Plan(
            "email",
            "answered by e-mail (邮件答复)",
            nature=Nature.consultation,
            lead_unit_id="consumption",
            mode=PublicationMode.email,
        ),
        "email",
    ),
]

ORDINARY = Plan(
    "ordinary",
    "an ordinary letter: the clerk takes the classifier's suggestion",
    follow_suggestion=True,
)


def load_dev_letters(path: Path = DEV_LETTERS) -> list[dict[str, Any]]:
    """The labelled development letters, or none when the file is absent."""
    if not path.is_file():
        return []
    rows = [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
    return [r for r in rows if isinstance(r, dict)]


def _dev_letter(row: dict[str, Any], *, platform: str, at: datetime) -> SimLetter:
    person = {k: str(v) for k, v in (row.get("person") or {}).items() if v}
    return SimLetter(
        external_id=str(row["id"]),
        platform=platform,
        title=str(row["title"]),
        text=str(row["text"]),
        person=person,
        submitted_at=at,
    )


def _generated(rng: random.Random, *, key: str, platform: str, at: datetime) -> SimLetter:
    draft = draft_letter(rng)
    person = {k: v for k, v in draft.person.model_dump().items() if v}
    return SimLetter(
        external_id=f"gen-{key}",
        platform=platform,
        title=draft.title,
        text=draft.text,
        person=person,
        submitted_at=at,
        source="generated",
    )


def build_cases(*, extra: int = 0, dev_path: Path = DEV_LETTERS, seed: int = 7) -> list[Case]:
    """Every scenario's case, then `extra` ordinary letters; platforms taken in turn."""
    rows = load_dev_letters(dev_path)
    rng = random.Random(seed)  # noqa: S311 - repeatable sample letters, not secrets
    used: set[str] = set()
    platforms = itertools.cycle(PLATFORMS)
    now = datetime.now(UTC).replace(microsecond=0)
    count = len(SCENARIOS) + extra
    times: Iterator[datetime] = (now - timedelta(minutes=count - i) for i in range(count))
    cases: list[Case] = []
    for index, (plan, pick) in enumerate(SCENARIOS, start=1):
        key = f"L{index:02d}"
        platform, at = next(platforms), next(times)
        if isinstance(pick, str):
            title, text, person = WRITTEN[pick]
            letter = SimLetter(
                external_id=f"demo-{pick.replace('_', '-')}",
                platform=platform,
                title=title,
                text=text,
                person=person,
                submitted_at=at,
                source="written",
            )
        else:
            row = next(
                (r for r in rows if r["id"] not in used and pick(r.get("labels") or {})), None
            )
            if row is None:
                letter = _generated(rng, key=key.lower(), platform=platform, at=at)
            else:
                used.add(row["id"])
                letter = _dev_letter(row, platform=platform, at=at)
        cases.append(Case(key=key, plan=plan, letter=letter))
    spare = [r for r in rows if r["id"] not in used and (r.get("labels") or {}).get("accepted")]
    for n in range(extra):
        key = f"X{n + 1:03d}"
        platform, at = next(platforms), next(times)
        if spare:
            row = spare[n % len(spare)]
            letter = _dev_letter(row, platform=platform, at=at)
            if n >= len(spare):
                letter = _renamed(letter, external_id=f"{row['id']}-{n // len(spare)}")
        else:
            letter = _generated(rng, key=key.lower(), platform=platform, at=at)
        cases.append(Case(key=key, plan=ORDINARY, letter=letter))
    return cases


def _renamed(letter: SimLetter, *, external_id: str) -> SimLetter:
    return SimLetter(
        external_id=external_id,
        platform=letter.platform,
        title=letter.title,
        text=letter.text,
        person=letter.person,
        submitted_at=letter.submitted_at,
        source=letter.source,
    )


def simulator_payloads(cases: list[Case]) -> dict[str, list[dict[str, Any]]]:
    """The `/_admin/letters` bodies' letters per platform."""
    by_platform: dict[str, list[dict[str, Any]]] = {}
    for case in cases:
        letter = case.letter
        by_platform.setdefault(letter.platform, []).append(
            {
                "external_id": letter.external_id,
                "title": letter.title,
                "text": letter.text,
                "submitted_at": letter.submitted_at.isoformat(),
                "person": letter.person,
            }
        )
    return by_platform
