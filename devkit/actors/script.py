"""Letters driven along planned paths by the scripted office and units.

A `Plan` says which way the regulation's workflow a letter goes (accepted and answered,
returned once, not accepted on an Art. 9 ground, forwarded, escalated, extended, overdue,
sensitive, referred, published online or by e-mail); a `Case` is one letter on the
simulator with its plan; `Troupe.drive(case)` plays it through routing's API, and
`Troupe.let_time_pass(cases)` moves the deadlines service's clock for the overdue ones.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

import httpx

from devkit.actors.office import Office
from devkit.actors.people import (
    ADMIN,
    ActorError,
    Api,
    Cast,
    Json,
    Urls,
    wait_for_letter,
    wait_for_state,
    wait_until,
)
from devkit.actors.units import Unit
from shared.events.vocabulary import (
    Nature,
    NotAcceptedReason,
    PublicationMode,
    ReturnReason,
    Route,
    Sensitivity,
)

DEFAULT_LEAD = "market-order"
DEFAULT_RECIPIENT = "market-regulation"
TERMINAL_DECISIONS = {"not_accepted", "forwarded", "escalated"}


@dataclass(frozen=True)
class Plan:
    """The path one letter is meant to take; None fields follow the classifier's suggestion."""

    name: str
    description: str
    accepted: bool = True
    nature: Nature | None = None
    not_accepted_reason: NotAcceptedReason | None = None
    route: Route | None = Route.direct
    lead_unit_id: str | None = None
    assisting_unit_ids: tuple[str, ...] = ()
    recipient_id: str | None = None
    major: bool = False
    slip_sent_back: bool = False
    mode: PublicationMode = PublicationMode.online
    not_public_reason: str | None = None
    returns: tuple[ReturnReason, ...] = ()
    extension: Literal["approved", "refused"] | None = None
    extension_days: int = 5
    contact_invalid: bool = False
    sensitivity: tuple[Sensitivity, ...] = ()
    referral: Literal["public_security", "state_security"] | None = None
    overdue: Literal["unanswered", "answered"] | None = None
    follow_suggestion: bool = False

    @property
    def final_state(self) -> str:
        """Where the letter should end: archived, or still in handling when left overdue."""
        return "in_handling" if self.overdue else "archived"


@dataclass(frozen=True)
class SimLetter:
    """A letter as the simulator serves it (external id unique per platform)."""

    external_id: str
    platform: str
    title: str
    text: str
    person: dict[str, str]
    submitted_at: datetime
    source: str = "dev-letters"


@dataclass
class Case:
    """One letter with its plan, and what happened to it."""

    key: str
    plan: Plan
    letter: SimLetter
    letter_id: str | None = None
    path: list[str] = field(default_factory=list)
    suggestion: str = ""
    final: Json | None = None
    clocks: list[Json] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0
    listener: Callable[[Case, str], None] | None = None

    @property
    def label(self) -> str:
        """How errors name the case."""
        return f" ({self.key} {self.plan.name}, {self.letter.platform}/{self.letter.external_id})"

    def step(self, text: str) -> None:
        """Record one step of the path (and tell whoever listens)."""
        self.path.append(text)
        if self.listener is not None:
            self.listener(self, text)


class Registry:
    """The clerk's list of newly registered letters: which letter id a platform letter got."""

    def __init__(self, clerk: Api) -> None:
        self._clerk = clerk
        self._ids: dict[tuple[str, str], str] = {}
        self._lock = asyncio.Lock()
        self._refreshed = 0.0

    async def letter_id(self, platform: str, *, external_id: str, timeout_s: float) -> str:
        """Wait until routing lists the letter; its id."""
        key = (platform, external_id)

        async def probe() -> str | None:
            if key not in self._ids:
                await self._refresh(asked=time.monotonic())
            return self._ids.get(key)

        return await wait_until(
            probe,
            timeout_s=timeout_s,
            what=f"letter {platform}/{external_id} never reached routing's registered letters",
            interval_s=0.3,
        )

    async def _refresh(self, *, asked: float) -> None:
        async with self._lock:
            # Many cases wait at once: one listing begun after they asked serves them all.
            if self._refreshed > asked:
                return
            self._refreshed = time.monotonic()
            cursor: str | None = None
            while True:
                page = await self._clerk.routing.get(
                    "/letters", state="registered", limit=200, cursor=cursor
                )
                for item in page["items"]:
                    self._ids[(item["platform"], item["external_id"])] = item["id"]
                cursor = page.get("next_cursor")
                if not cursor:
                    return


class Troupe:
    """The office and every unit, driving cases through the services."""

    def __init__(
        self, cast: Cast, client: httpx.AsyncClient, urls: Urls, *, timeout_s: float = 90.0
    ) -> None:
        self.cast = cast
        self.urls = urls
        self.office = Office(cast, client=client, urls=urls)
        self.units = {
            unit: Unit(cast, client=client, urls=urls, unit_id=unit) for unit in cast.units
        }
        self.admin = cast.api(ADMIN, client=client, urls=urls)
        self.registry = Registry(self.office.clerk)
        self.timeout_s = timeout_s

    def unit(self, unit_id: str, *, label: str) -> Unit:
        """A unit's staff, or an error naming the letter."""
        found = self.units.get(unit_id)
        if found is None:
            raise ActorError(f"letter{label}: nobody of unit {unit_id} was enrolled")
        return found

    async def drive(self, case: Case) -> None:
        """Play the case's plan up to its final state (overdue ones: up to handling)."""
        plan, label, office = case.plan, case.label, self.office
        letter_id = await self.registry.letter_id(
            case.letter.platform, external_id=case.letter.external_id, timeout_s=self.timeout_s
        )
        case.letter_id = letter_id
        letter = await office.clerk.letter(letter_id)
        case.suggestion = letter.get("why") or ""
        case.step("registered")
        if plan.referral:
            await office.refer(letter_id, agency=plan.referral, label=label)
            case.step(f"referred to {plan.referral} (locked)")
        slip = slip_for(plan, letter=letter)
        await office.draft_slip(letter_id, slip=slip, label=label)
        if plan.slip_sent_back:
            await office.submit_slip(letter_id, label=label)
            await office.send_back_slip(letter_id, comment="请补充受理意见的依据。", label=label)
            case.step("slip sent back")
            amended = {**slip, "opinion": slip["opinion"] + "依据《制度》第九条、第十三条。"}
            await office.draft_slip(letter_id, slip=amended, label=label)
        await office.submit_slip(letter_id, label=label)
        letter = await office.approve_slip(letter_id, comment="同意。", label=label)
        case.step(_decision_text(letter))
        if letter["state"] in ("forwarded", "escalated"):
            reference = f"转办函 {letter.get('external_id') or letter_id}"
            await office.record_transfer(letter_id, reference=reference, label=label)
            case.step("content sent on by document exchange (Art. 13)")
        if letter["state"] == "assigned":
            await self._handle(case, letter=letter)
        if not plan.overdue:
            await self.finish(case)

    async def _handle(self, case: Case, *, letter: Json) -> None:
        plan, label, letter_id = case.plan, case.label, letter["id"]
        lead = self.unit(letter["lead_unit_id"], label=label)
        await lead.name_handler(letter_id, label=label)
        case.step("handler named")
        if plan.extension:
            extension_id = await lead.request_extension(
                letter_id, days=plan.extension_days, label=label
            )
            approve = plan.extension == "approved"
            await self.office.decide_extension(
                letter_id, extension_id=extension_id, approve=approve, label=label
            )
            case.step(f"extension {plan.extension} (+{plan.extension_days} working days asked)")
        if plan.contact_invalid:
            await lead.mark_contact_invalid(letter_id, label=label)
            case.step("contact invalid (Art. 14 ¶3)")
        else:
            await lead.contact_writer(letter_id, label=label)
            case.step("writer contacted")
        for assisting in letter.get("assisting_unit_ids") or []:
            request_id = await lead.ask_assist(letter_id, unit_id=assisting, label=label)
            await self.unit(assisting, label=label).answer_assist(
                letter_id, request_id=request_id, label=label
            )
            case.step(f"input from {assisting}")
        if not plan.overdue:
            await self.reply(case, lead=lead)

    async def reply(self, case: Case, *, lead: Unit) -> None:
        """Reply rounds: draft, unit approvals, office review (with the planned returns)."""
        plan, label = case.plan, case.label
        letter_id = _known(case)
        returns = list(plan.returns)
        revision = 1
        while True:
            await lead.draft_reply(
                letter_id,
                mode=plan.mode,
                not_public_reason=plan.not_public_reason,
                revision=revision,
                label=label,
            )
            await lead.pass_reply(letter_id, label=label)
            case.step("reply submitted" if revision == 1 else f"resubmitted (rev. {revision})")
            if plan.sensitivity and revision == 1:
                await self.office.mark_sensitive(
                    letter_id, sensitivities=plan.sensitivity, label=label
                )
                case.step("marked " + "/".join(s.value for s in plan.sensitivity))
            if returns:
                reason = returns.pop(0)
                await self.office.return_reply(letter_id, reason=reason, label=label)
                case.step(f"returned ({reason.value})")
                revision += 1
                continue
            approved = await self.office.approve_reply(letter_id, label=label)
            mode = (approved.get("reply") or {}).get("mode")
            case.step(f"approved ({mode})")
            return

    async def finish(self, case: Case) -> None:
        """Wait for the final state (publication and archive come from other services)."""
        letter = await wait_for_state(
            self.office.clerk,
            letter_id=_known(case),
            states={case.plan.final_state},
            timeout_s=self.timeout_s,
            label=case.label,
        )
        case.final = letter
        for publication in letter.get("publications") or []:
            case.step(f"uploaded {publication['kind']} ({publication['visibility']})")
        if letter["state"] == "archived":
            case.step("archived")

    async def clocks(self, case: Case) -> list[Json]:
        """The letter's clocks as the deadlines service keeps them."""
        page = await self.office.clerk.deadlines.get(f"/letters/{_known(case)}/clocks")
        items: list[Json] = page["items"]
        case.clocks = items
        return items

    async def let_time_pass(self, cases: list[Case]) -> None:
        """Overdue cases: move the deadlines clock past the due, then past the reminders'."""
        late = [c for c in cases if c.plan.overdue and c.letter_id and not c.error]
        if not late:
            return
        handling = [await self._running_clock(c, kind="handling") for c in late]
        await self._move_clock_past(max(_instant(c["due"]) for c in handling))
        reminders = [await self._reminder(c) for c in late]
        for case, reminder in zip(late, reminders, strict=True):
            case.step("overdue → reminder issued")
            if case.plan.overdue == "answered":
                await self.unit(reminder["unit_id"], label=case.label).answer_reminder(
                    reminder["id"]
                )
                case.step("reminder answered")
        await self._move_clock_past(max(_instant(r["answer_due"]) for r in reminders))
        for case, reminder in zip(late, reminders, strict=True):
            if case.plan.overdue == "unanswered":
                await self._assessed(case, reminder=reminder)
                case.step("unanswered → assessment item")
            await self.finish(case)

    async def _move_clock_past(self, instant: datetime) -> None:
        now = await self.admin.deadlines.post("/admin/clock", body={"advance_s": 0})
        target = max(instant + timedelta(minutes=1), _instant(now["now"]))
        await self.admin.deadlines.post("/admin/clock", body={"set_to": target.isoformat()})

    async def _running_clock(self, case: Case, *, kind: str) -> Json:
        async def probe() -> Json | None:
            for clock in await self.clocks(case):
                if clock["kind"] == kind and clock["state"] == "running":
                    return clock
            return None

        return await wait_until(
            probe,
            timeout_s=self.timeout_s,
            what=f"letter {case.letter_id}{case.label}: no running {kind} clock on deadlines",
        )

    async def _reminder(self, case: Case) -> Json:
        async def probe() -> Json | None:
            for clock in await self.clocks(case):
                if clock["kind"] == "handling" and clock.get("reminders"):
                    found: Json = await self.office.clerk.deadlines.get(
                        f"/reminders/{clock['reminders'][-1]}"
                    )
                    return found
            return None

        return await wait_until(
            probe,
            timeout_s=self.timeout_s,
            what=f"letter {case.letter_id}{case.label}: overdue handling clock got no reminder",
        )

    async def _assessed(self, case: Case, *, reminder: Json) -> Json:
        year = _instant(reminder["answer_due"]).year

        async def probe() -> Json | None:
            page = await self.office.clerk.deadlines.get(
                "/assessment", unit=reminder["unit_id"], year=year, limit=200
            )
            for item in page["items"]:
                if item.get("reminder_id") == reminder["id"]:
                    found: Json = item
                    return found
            return None

        item = await wait_until(
            probe,
            timeout_s=self.timeout_s,
            what=f"letter {case.letter_id}{case.label}: unanswered reminder got no assessment item",
        )
        await wait_for_letter(
            self.office.clerk,
            letter_id=_known(case),
            check=lambda letter: bool(letter.get("assessments")),
            timeout_s=self.timeout_s,
            what="routing never heard of the assessment item",
        )
        return item


def _known(case: Case) -> str:
    if case.letter_id is None:
        raise ActorError(f"letter{case.label} has no letter id yet")
    return case.letter_id


def _instant(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _decision_text(letter: Json) -> str:
    slip = letter.get("slip") or {}
    state = letter["state"]
    if state == "not_accepted":
        return f"not accepted ({slip.get('not_accepted_reason')})"
    if state in ("forwarded", "escalated"):
        return f"{state} to {slip.get('recipient_id')}"
    assisting = "+".join(slip.get("assisting_unit_ids") or [])
    return f"accepted direct → {slip.get('lead_unit_id')}" + (
        f" (+{assisting})" if assisting else ""
    )


OPINIONS = {
    Route.direct: "来信反映的问题属我委职责范围，建议由{unit}牵头直办。",
    Route.forward: "来信反映的问题属其他部门职责，建议转阅有关部门办理。",
    Route.escalate: "来信涉及多个部门，需统筹协调，建议呈报市政府公开信箱办公室。",
}


def slip_for(plan: Plan, *, letter: Json) -> dict[str, Any]:
    """The clerk's slip for this plan; what the plan leaves open follows the suggestion."""
    suggestion = letter.get("suggestion") or {}
    scope = suggestion.get("scope") or {}
    competence = suggestion.get("competence") or {}
    suggested_nature = (suggestion.get("nature") or {}).get("value") or Nature.other.value
    nature = plan.nature.value if plan.nature else suggested_nature
    if plan.follow_suggestion:
        accepted = bool(scope.get("accepted", True))
        reason = scope.get("reason") or NotAcceptedReason.repetitive_or_empty.value
        route = competence.get("route") or Route.direct.value
    else:
        accepted = plan.accepted
        reason = plan.not_accepted_reason.value if plan.not_accepted_reason else None
        route = plan.route.value if plan.route else Route.direct.value
    if not accepted:
        return {
            "opinion": "经审核，来信不属于本信箱受理范围，建议不予受理。",
            "nature": nature,
            "accepted": False,
            "not_accepted_reason": reason,
        }
    slip: dict[str, Any] = {"nature": nature, "accepted": True, "route": route}
    suggested_route = competence.get("route")
    if route == Route.direct.value:
        lead = plan.lead_unit_id or (
            competence.get("lead_unit_id") if suggested_route == route else None
        )
        lead = lead or DEFAULT_LEAD
        assisting = [u for u in plan.assisting_unit_ids if u != lead]
        slip |= {"lead_unit_id": lead, "assisting_unit_ids": assisting, "major": plan.major}
        slip["opinion"] = OPINIONS[Route.direct].format(unit=lead)
    elif route == Route.forward.value:
        recipient = plan.recipient_id or (
            competence.get("recipient_id") if suggested_route == route else None
        )
        slip["recipient_id"] = recipient or DEFAULT_RECIPIENT
        slip["opinion"] = OPINIONS[Route.forward]
    else:
        slip["opinion"] = OPINIONS[Route.escalate]
    return slip
