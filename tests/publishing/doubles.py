"""Stand-ins over the network: a local SMTP sink (aiosmtpd), and an HTTP server answering
for intake's letter as received, routing's dossier and deadlines' clocks and supervision,
served by uvicorn in the test's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import socket
from collections.abc import AsyncIterator, Generator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import orjson
import uvicorn
from aiosmtpd.controller import Controller
from fastapi import FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse

from shared.auth import Role, TokenCodec
from shared.events.vocabulary import ClockKind
from tests.publishing.case_data import PARTS, PLATFORM, TEXT, TITLE, WRITER
from tests.support import TEST_SECRET

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


# ---- intake's letter, routing's dossier, deadlines' clocks and supervision, over HTTP --------


@dataclass
class CaseDouble:
    """What intake, routing and deadlines would answer for each letter (a double of their HTTP)."""

    url: str = ""
    originals: dict[str, dict[str, Any]] = field(default_factory=dict)
    dossiers: dict[str, dict[str, Any]] = field(default_factory=dict)
    clocks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    supervisions: dict[str, dict[str, Any]] = field(default_factory=dict)
    callers: list[tuple[str, str]] = field(default_factory=list)

    def done(self, letter_id: str, *, upload_ids: list[str]) -> None:
        """Intake has the original; routing recorded the publications; every clock closed,
        with no reminder."""
        self.originals.setdefault(letter_id, original(letter_id))
        self.dossiers[letter_id] = dossier(letter_id, upload_ids=upload_ids)
        self.clocks[letter_id] = [
            clock(letter_id, ClockKind.acceptance, "met"),
            clock(letter_id, ClockKind.handling, "met"),
            clock(letter_id, ClockKind.upload, "met"),
        ]
        self.supervisions.setdefault(letter_id, supervision(letter_id))


ATTACHMENTS: list[dict[str, str | None]] = [
    {"name": "预付卡收据.jpg", "url": "https://www.cq.gov.cn/att/9f1c/receipt.jpg"},
    {"name": "会员合同.pdf", "url": None},
]


def original(letter_id: str, *, raw: bytes | None = None) -> dict[str, Any]:
    """Intake's letter as its API shows it: the platform's record verbatim, its sha256."""
    raw = raw or orjson.dumps(
        {
            "id": f"GOV{letter_id[-8:]}",
            "title": TITLE,
            "content": TEXT,
            "submitTime": "2026-10-09 09:15:00",
            "name": WRITER.name,
            "phone": WRITER.phone,
            "files": [a["name"] for a in ATTACHMENTS],
        }
    )
    return {
        "id": letter_id,
        "platform": PLATFORM,
        "raw_json": raw.decode("utf-8", errors="replace"),
        "raw_sha256": hashlib.sha256(raw).hexdigest(),
        "attachments": ATTACHMENTS,
    }


def supervision(
    letter_id: str,
    *,
    reminders: list[dict[str, Any]] | None = None,
    items: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Deadlines' reminders and deduction items of a letter, in the shape of its API."""
    return {"letter_id": letter_id, "reminders": reminders or [], "assessment_items": items or []}


def reminder(letter_id: str, *, number: int = 1, in_time: bool | None = True) -> dict[str, Any]:
    """A reminder (催办) of the letter's handling; `in_time=None`: not answered."""
    answer = (
        None
        if in_time is None
        else {
            "text": "已联系来信人，答复稿正在审核，明日提交。",
            "answered_at": "2026-10-20T02:00:00Z",
            "by": "u_unit_head_wang",
            "by_name": "王处长",
            "in_time": in_time,
        }
    )
    return {
        "id": f"{letter_id}.handling.reminder{number}",
        "letter_id": letter_id,
        "clock_id": f"{letter_id}.handling",
        "unit_id": "unit_market",
        "issued_at": "2026-10-17T00:00:00Z",
        "answer_due": "2026-10-19T23:59:59+08:00",
        "text": f"催办：来信 {letter_id} 的办理已超过期限，请于一个工作日内反馈。",
        "answered": answer is not None,
        "answer": answer,
    }


def deduction(letter_id: str, *, reminder_id: str) -> dict[str, Any]:
    """The deduction item for a reminder answered late or never."""
    return {
        "id": f"asm_{reminder_id}",
        "unit_id": "unit_market",
        "kind": "reminder_unanswered",
        "points": 2.0,
        "year": 2026,
        "reason": f"催办 {reminder_id} 未在 1 个工作日内反馈",
        "letter_id": letter_id,
        "reminder_id": reminder_id,
        "recorded_at": "2026-10-20T00:00:05Z",
        "recorded_by": "service:deadlines",
    }


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
    """The endpoints the archiver calls, answering from the double; service tokens only."""
    app = FastAPI()
    codec = TokenCodec(TEST_SECRET)

    def caller(authorization: str | None) -> None:
        if not authorization or not authorization.startswith("Bearer "):
            raise HTTPException(401)
        principal = codec.verify(authorization.removeprefix("Bearer "))
        if principal.role != Role.service:
            raise HTTPException(403)
        double.callers.append((principal.user_id, principal.role.value))

    def answer(found: dict[str, Any], letter_id: str) -> Any:
        if letter_id not in found:
            return JSONResponse({"error": "not_found"}, status_code=404)
        return found[letter_id]

    @app.get("/letters/{letter_id}")
    async def get_original(letter_id: str, authorization: str | None = Header(None)) -> Any:
        caller(authorization)
        return answer(double.originals, letter_id)

    @app.get("/letters/{letter_id}/supervision")
    async def get_supervision(letter_id: str, authorization: str | None = Header(None)) -> Any:
        caller(authorization)
        return answer(double.supervisions, letter_id)

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
