"""Publishing against the real servers, the platform simulator over HTTP, a local SMTP sink,
and a small HTTP stand-in for routing's dossier and deadlines' clocks."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Generator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from aiosmtpd.controller import Controller
from fastapi import FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse

from services.publishing.app import create_app
from services.publishing.settings import PublishingSettings
from shared.auth import Role, TokenCodec
from shared.clock import Clock, FixedClock
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
from shared.ids import new_id
from shared.platforms.config import dump_platform_configs
from shared.platforms.simulator_server import RunningSimulator, running_simulator
from tests.support import (
    TEST_SECRET,
    EventProbe,
    auth,
    common_settings,
    delete_exchange_and_queues,
    drop_database,
    eventually,
    running,
    unique_name,
)

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


# ---- the SMTP sink -------------------------------------------------------------------------


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class SmtpSink:
    """A local SMTP server that keeps every message it receives."""

    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """aiosmtpd's hook: keep the message."""
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        """Messages addressed to one recipient."""
        return [m for m in self.messages if m["To"] == address]


@asynccontextmanager
async def smtp_sink() -> AsyncIterator[SmtpSink]:
    """aiosmtpd's Controller on 127.0.0.1 and a free port, collecting messages."""
    sink = SmtpSink(host="127.0.0.1", port=free_port())
    controller = Controller(sink, hostname=sink.host, port=sink.port)
    await asyncio.to_thread(controller.start)
    try:
        yield sink
    finally:
        await asyncio.to_thread(controller.stop)


# ---- routing's dossier and deadlines' clocks, over HTTP -------------------------------------


@dataclass
class CaseDouble:
    """What routing and deadlines would answer for each letter (a test double of their HTTP)."""

    url: str = ""
    dossiers: dict[str, dict[str, Any]] = field(default_factory=dict)
    clocks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    callers: list[tuple[str, str]] = field(default_factory=list)

    def done(self, letter_id: str, *, upload_ids: list[str]) -> None:
        """Routing recorded the publications; every clock of the letter closed."""
        self.dossiers[letter_id] = dossier(letter_id, upload_ids=upload_ids)
        self.clocks[letter_id] = [
            clock(letter_id, ClockKind.acceptance, "met"),
            clock(letter_id, ClockKind.handling, "met"),
            clock(letter_id, ClockKind.upload, "met"),
        ]


def clock(letter_id: str, kind: ClockKind, state: str) -> dict[str, Any]:
    """A clock as deadlines' API shows it."""
    return {
        "id": f"{letter_id}.{kind.value}",
        "letter_id": letter_id,
        "kind": kind.value,
        "kind_zh": "办理",
        "unit_id": "unit_market",
        "start": "2026-09-30T00:00:00Z",
        "working_days": 10,
        "due": "2026-10-14T15:59:59Z",
        "provisional": False,
        "state": state,
        "closed_at": "2026-10-12T02:00:00Z" if state != "running" else None,
    }


def dossier(letter_id: str, *, upload_ids: list[str]) -> dict[str, Any]:
    """Routing's dossier of a letter, in the shape of its API."""
    actor = {"user_id": "u_head_zhao", "name": "赵主任", "role": "office_head", "unit_id": None}
    return {
        "letter": {
            "id": letter_id,
            "state": "published",
            "title": TITLE,
            "slip": {
                "id": f"slp_{letter_id[-10:]}",
                "status": "approved",
                "summary": "反映预付卡退款问题",
                "opinion": "拟由市场秩序处办理",
                "nature": "complaint",
                "accepted": True,
                "route": "direct",
                "lead_unit_id": "unit_market",
                "lead_unit_name": "市场秩序处",
                "drafted_by": {**actor, "user_id": "u_clerk_li", "role": "office_clerk"},
                "drafted_at": "2026-10-09T01:00:00Z",
                "reviews": [
                    {
                        "step": "office_head",
                        "decision": "approved",
                        "by": actor,
                        "at": "2026-10-09T02:00:00Z",
                    }
                ],
            },
            "reply": {
                "id": f"rpl_{letter_id[-8:]}",
                "revision": 1,
                "parts": PARTS,
                "mode": "online",
                "reviews": [
                    {
                        "step": "office_leader",
                        "decision": "approved",
                        "by": actor,
                        "at": "2026-10-11T02:00:00Z",
                    }
                ],
            },
            "reply_history": [],
            "publications": [
                {"upload_id": u, "platform": PLATFORM, "kind": "reply", "visibility": "public"}
                for u in upload_ids
            ],
        },
        "audit": [
            {
                "id": f"aud_{letter_id[-6:]}_1",
                "at": "2026-10-09T01:00:00Z",
                "actor": {**actor, "role": "office_clerk"},
                "action": "slip_drafted",
                "target_type": "letter",
                "target_id": letter_id,
                "letter_id": letter_id,
            },
        ],
    }


def case_app(double: CaseDouble) -> FastAPI:
    """The two endpoints the archiver calls, answering from the double; service tokens only."""
    app = FastAPI()
    codec = TokenCodec(TEST_SECRET)

    def caller(authorization: str | None) -> None:
        if not authorization or not authorization.startswith("Bearer "):
            raise HTTPException(401)
        principal = codec.verify(authorization.removeprefix("Bearer "))
        if principal.role != Role.service:
            raise HTTPException(403)
        double.callers.append((principal.user_id, principal.role.value))

    @app.get("/letters/{letter_id}/dossier")
    async def get_dossier(letter_id: str, authorization: str | None = Header(None)) -> Any:
        caller(authorization)
        if letter_id not in double.dossiers:
            return JSONResponse({"error": "not_found"}, status_code=404)
        return double.dossiers[letter_id]

    @app.get("/letters/{letter_id}/clocks")
    async def get_clocks(
        letter_id: str, request: Request, authorization: str | None = Header(None)
    ) -> Any:
        caller(authorization)
        if letter_id not in double.clocks:
            return JSONResponse({"error": "not_found"}, status_code=404)
        return {"items": double.clocks[letter_id], "next_cursor": None}

    return app


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@asynccontextmanager
async def serve(app: FastAPI, *, lifespan: bool = True) -> AsyncIterator[str]:
    """Serve an app with uvicorn in this event loop on a free loopback port; yield its URL.

    `lifespan=False` serves an app whose lifespan already runs (under `running`).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = _Server(
        uvicorn.Config(app, log_level="warning", lifespan="on" if lifespan else "off", ws="none")
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(30):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


# ---- the stack a test module runs against ----------------------------------------------------


@dataclass
class Stack:
    """Simulator, SMTP sink, case double, probe, and names; builds settings and apps."""

    sim: RunningSimulator
    smtp: SmtpSink
    cases: CaseDouble
    probe: EventProbe
    db: str
    exchange: str
    tmp: Path

    def settings(self, **overrides: Any) -> PublishingSettings:
        """Fast loops, short back-off, the sink as mail server, the double as routing/deadlines."""
        platform_overrides = overrides.pop("platform", {})
        platforms = self.tmp / f"platforms-{new_id('p').lower()}.json"
        configs = self.sim.configs(
            **{"timeout_s": 2.0, "max_attempts": 1, "backoff_base_s": 0.01, **platform_overrides}
        )
        platforms.write_bytes(dump_platform_configs(configs, reveal_tokens=True))
        values: dict[str, Any] = {
            **common_settings(db=self.db, exchange=self.exchange),
            "platforms_file": platforms,
            "routing_url": self.cases.url,
            "deadlines_url": self.cases.url,
            "smtp_host": self.smtp.host,
            "smtp_port": self.smtp.port,
            "smtp_timeout_s": 5.0,
            "upload_poll_interval_s": 0.1,
            "upload_backoff_base_s": 0.05,
            "upload_backoff_max_s": 0.2,
            "upload_max_attempts": 30,
            "upload_claim_s": 10.0,
            "archiver_enabled": False,
            **overrides,
        }
        return PublishingSettings(**values)

    @asynccontextmanager
    async def service(
        self, clock: Clock | None = None, **overrides: Any
    ) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
        """The publishing app running (lifespan) with an in-process client."""
        app = create_app(self.settings(**overrides), clock=clock or FixedClock(NOW))
        async with running(app) as client:
            yield app, client

    async def letter(
        self,
        client: httpx.AsyncClient,
        *,
        person: Person = WRITER,
        title: str = TITLE,
        text: str = TEXT,
        wait: bool = True,
    ) -> tuple[str, str]:
        """A letter on the simulator and `letter.received` published; (letter id, external id)."""
        external_id = f"T{new_id('x')[-12:]}"
        response = await self.sim.admin.post(
            "/_admin/letters",
            json={
                "platform_id": PLATFORM,
                "letters": [
                    {
                        "external_id": external_id,
                        "title": title,
                        "text": text,
                        "submitted_at": NOW.isoformat(),
                        "person": person.model_dump(exclude_none=True),
                    }
                ],
            },
        )
        response.raise_for_status()
        letter_id = new_id("ltr")
        await self.probe.publish(
            received(letter_id, external_id=external_id, person=person, title=title, text=text)
        )
        if wait:
            await self.known(client, letter_id)
        return letter_id, external_id

    async def known(self, client: httpx.AsyncClient, letter_id: str) -> None:
        """Wait until publishing has its copy of the letter."""
        for _ in range(500):
            if (await client.get(f"/letters/{letter_id}", headers=CLERK)).status_code == 200:
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"letter {letter_id} never became known")

    async def uploads(self, external_id: str | None = None) -> list[dict[str, Any]]:
        """What arrived at the simulator (for one letter)."""
        response = await self.sim.admin.get("/_admin/uploads", params={"platform_id": PLATFORM})
        response.raise_for_status()
        items: list[dict[str, Any]] = response.json()["uploads"]
        return [u for u in items if external_id is None or u["external_id"] == external_id]

    async def upload_state(
        self, client: httpx.AsyncClient, upload_id: str, state: str, *, timeout_s: float = 20.0
    ) -> dict[str, Any]:
        """Wait until an upload reaches a state; its view then."""
        seen: dict[str, Any] = {}

        async def check() -> bool:
            nonlocal seen
            response = await client.get(f"/uploads/{upload_id}", headers=CLERK)
            seen = response.json() if response.status_code == 200 else {}
            return seen.get("state") == state

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not await check():
            if loop.time() > deadline:
                raise AssertionError(f"upload {upload_id} not {state} in {timeout_s} s: {seen}")
            await asyncio.sleep(0.05)
        return seen

    async def faults(self, **faults: Any) -> None:
        """Set the simulator's faults on the platform."""
        response = await self.sim.admin.put(
            "/_admin/faults", json={"platform_id": PLATFORM, "faults": faults}
        )
        response.raise_for_status()


@asynccontextmanager
async def stack(tmp: Path) -> AsyncIterator[Stack]:
    """Everything a publishing test module needs, cleaned up afterwards."""
    db, exchange = unique_name("publishing"), unique_name("publishing")
    probe = EventProbe(exchange)
    await probe.start()
    cases = CaseDouble()
    try:
        async with (
            running_simulator() as sim,
            smtp_sink() as sink,
            serve(case_app(cases)) as url,
        ):
            cases.url = url
            yield Stack(
                sim=sim, smtp=sink, cases=cases, probe=probe, db=db, exchange=exchange, tmp=tmp
            )
    finally:
        await probe.close()
        await drop_database(db)
        await delete_exchange_and_queues(exchange)


__all__ = ["eventually"]
