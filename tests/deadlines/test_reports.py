"""Reports count a small scripted month correctly (JSON, CSV, chart)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import typer
import uvicorn
from typer.testing import CliRunner

from services.deadlines import cli as deadlines_cli
from services.deadlines.clocks.models import (
    acceptance_clock_id,
    handling_clock_id,
    upload_clock_id,
)
from services.deadlines.supervision.models import (
    reminder_id,
)
from shared.auth import Role
from shared.events.catalog import (
    ExtensionApproved,
    ExtensionRequested,
    LetterClassified,
    LetterForwarded,
    LetterNotAccepted,
    LetterPublished,
    ReplyReturned,
)
from shared.events.vocabulary import (
    ClockState,
    Nature,
    NotAcceptedReason,
    PublicationMode,
    ReturnReason,
)
from tests.deadlines.harness import Harness, at, until
from tests.support import auth, token

OFFICE = auth(Role.office_clerk)


@pytest.fixture(scope="module")
async def month() -> AsyncIterator[Harness]:
    """October 2026, scripted: five letters on three platforms, every kind of happening."""
    h = Harness(now=at("2026-10-12T10:00:00"))
    await h.start()
    a, b, c, d, e = (h.letter_id() for _ in range(5))
    h.letters = {"a": a, "b": b, "c": c, "d": d, "e": e}  # type: ignore[attr-defined]

    # A: complaint to 商贸处, answered, returned once, answered again, published online.
    await h.received(a, received_at=at("2026-10-12T10:00:00"), platform="cq_gov")
    await h.accepted(
        a, handed_over_at=at("2026-10-13T09:00:00"), unit_id="unit_a", unit_name="商贸处"
    )
    # B: an advertisement, not accepted.
    await h.received(b, received_at=at("2026-10-14T10:00:00"), platform="mayor_line")
    await h.publish(
        LetterClassified(
            nature=Nature.suggestion,
            accepted=False,
            not_accepted_reason=NotAcceptedReason.advertising,
        ),
        letter_id=b,
    )
    await h.publish(
        LetterNotAccepted(
            slip_id="slip-b",
            reason=NotAcceptedReason.advertising,
            reply_text="推销广告，不予受理。",
            decided_at=at("2026-10-15T10:00:00"),
        ),
        letter_id=b,
    )
    # C: help wanted from another department: forwarded.
    await h.received(c, received_at=at("2026-10-14T11:00:00"), platform="cq_gov")
    await h.publish(LetterClassified(nature=Nature.help, accepted=True, route=None), letter_id=c)
    await h.publish(
        LetterForwarded(
            slip_id="slip-c",
            recipient_id="dept_housing",
            recipient_name="市住房城乡建委",
            notice_text="已转市住房城乡建委办理。",
            decided_at=at("2026-10-14T16:00:00"),
        ),
        letter_id=c,
    )
    # D: consultation to 市场处, never answered in time: overdue, reminder answered in time.
    await h.received(d, received_at=at("2026-10-12T10:00:00"), platform="service_platform")
    await h.accepted(
        d,
        handed_over_at=at("2026-10-13T09:00:00"),
        unit_id="unit_b",
        nature=Nature.consultation,
        unit_name="市场处",
    )
    # E: complaint to 商贸处, extended into November.
    await h.received(e, received_at=at("2026-10-12T10:00:00"), platform="cq_gov")
    await h.accepted(e, handed_over_at=at("2026-10-13T09:00:00"), unit_id="unit_a")
    for letter in (a, d, e):
        await h.wait_clock(handling_clock_id(letter))
    for letter in (b, c):
        await h.wait_clock(acceptance_clock_id(letter), lambda cl: cl.closed_at is not None)

    h.clock.set(at("2026-10-16T15:00:00"))
    await h.submitted(a, submitted_at=at("2026-10-16T15:00:00"), unit_id="unit_a")
    await h.wait_clock(upload_clock_id(a, reply_id=f"rpl-{a}", revision=1))

    h.clock.set(at("2026-10-19T08:00:00"))
    await h.service.sweep()  # D's handling clock went overdue on 10-16 at night
    await h.publish(
        ReplyReturned(
            reply_id=f"rpl-{a}",
            revision=1,
            unit_id="unit_a",
            reason=ReturnReason.perfunctory,
            comment="调查经过过于简单",
            returned_at=at("2026-10-19T09:00:00"),
        ),
        letter_id=a,
    )
    await h.publish(
        ExtensionRequested(
            extension_id="ext-e",
            unit_id="unit_a",
            reason="涉及多家企业",
            extra_working_days=10,
            requested_at=at("2026-10-19T10:00:00"),
        ),
        letter_id=e,
    )
    await h.wait_clock(handling_clock_id(a), lambda cl: cl.state == ClockState.running)

    h.clock.set(at("2026-10-20T10:00:00"))
    rid = reminder_id(handling_clock_id(d), number=1)
    answered = await h.client.post(
        f"/reminders/{rid}/answer",
        json={"text": "已答复来信人，书面答复今日提交。"},
        headers=auth(Role.unit_handler, unit_id="unit_b"),
    )
    assert answered.status_code == 200, answered.text
    await h.publish(
        ExtensionApproved(
            extension_id="ext-e",
            unit_id="unit_a",
            extra_working_days=10,
            decided_at=at("2026-10-20T11:00:00"),
        ),
        letter_id=e,
    )
    await h.submitted(a, submitted_at=at("2026-10-20T15:00:00"), unit_id="unit_a", revision=2)
    await h.wait_clock(upload_clock_id(a, reply_id=f"rpl-{a}", revision=2))
    await h.wait_clock(handling_clock_id(e), lambda cl: cl.working_days == 20)

    h.clock.set(at("2026-10-21T10:00:00"))
    await h.publish(
        LetterPublished(
            upload_id="upl-a",
            platform="cq_gov",
            kind="reply",
            visibility="public",
            mode=PublicationMode.online,
            published_at=at("2026-10-21T10:00:00"),
        ),
        letter_id=a,
        producer="publishing",
    )
    await h.wait_clock(
        upload_clock_id(a, reply_id=f"rpl-{a}", revision=2), lambda cl: cl.closed_at is not None
    )

    h.clock.set(at("2026-10-30T10:00:00"))
    recorded = await h.client.post(
        "/assessment",
        json={
            "unit_id": "unit_b",
            "kind": "manual",
            "reason": "答复质量差，群众不满意",
            "letter_id": d,
        },
        headers=auth(Role.office_head),
    )
    assert recorded.status_code == 201
    h.clock.set(at("2026-10-31T10:00:00"))
    await h.service.sweep()
    yield h
    await h.stop()


async def _report(h: Harness, **params: Any) -> dict[str, Any]:
    response = await h.client.get("/reports/monthly", params=params, headers=OFFICE)
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


async def test_letters_by_platform_nature_scope_route_and_unit(month: Harness) -> None:
    letters = (await _report(month, month="2026-10"))["letters"]
    assert letters["total"] == 5
    assert letters["by_platform"] == {"cq_gov": 3, "mayor_line": 1, "service_platform": 1}
    assert letters["by_nature"] == {"complaint": 2, "consultation": 1, "help": 1, "suggestion": 1}
    assert letters["by_scope"] == {"accepted": 4, "not_accepted": 1}
    assert letters["not_accepted_by_reason"] == {"advertising": 1}
    assert letters["by_route"] == {"direct": 3, "forward": 1}
    assert letters["by_unit"] == {"none": 2, "unit_a": 2, "unit_b": 1}


async def test_on_time_rates_and_supervision_figures(month: Harness) -> None:
    report = await _report(month, month="2026-10")
    by_kind = report["on_time_by_kind"]
    assert by_kind["acceptance"]["met"] == 5
    assert by_kind["acceptance"]["on_time_rate"] == 1.0
    assert by_kind["handling"]["met"] == 1  # A (its returned reply kept the due)
    assert by_kind["handling"]["overdue"] == 1  # D
    assert by_kind["handling"]["on_time_rate"] == 0.5
    assert by_kind["upload"]["stopped"] == 1
    assert by_kind["upload"]["met"] == 1
    assert by_kind["reminder_answer"]["met"] == 1
    assert report["extensions"] == {"requested": 1, "approved": 1, "refused": 0}
    assert report["reminders"] == {
        "issued": 1,
        "answered": 1,
        "answered_in_time": 1,
        "unanswered": 0,
    }
    assert report["returns"] == {"total": 1, "perfunctory": 1}
    assert report["deductions"]["items"] == 1
    assert report["deductions"]["points"] == month.settings.weight("manual")
    assert report["publication_modes"] == {"online": 1}
    units = {u["unit_id"]: u for u in report["units"]}
    assert units["unit_a"]["unit_name"] == "商贸处"
    assert units["unit_a"]["clocks"]["on_time_rate"] == 1.0
    assert units["unit_a"]["extensions_approved"] == 1
    assert units["unit_a"]["returns"] == 1
    assert units["unit_b"]["clocks"]["met"] == 1
    assert units["unit_b"]["clocks"]["overdue"] == 1
    assert units["unit_b"]["reminders"] == 1
    assert units["unit_b"]["deduction_items"] == 1


async def test_annual_summary_and_an_empty_month(month: Harness) -> None:
    response = await month.client.get("/reports/annual", params={"year": 2026}, headers=OFFICE)
    assert response.status_code == 200
    assert response.json()["letters"]["total"] == 5
    empty = await _report(month, month="2026-09")
    assert empty["letters"]["total"] == 0
    assert empty["units"] == []


async def test_csv_has_the_same_figures_with_chinese_labels(month: Harness) -> None:
    response = await month.client.get(
        "/reports/monthly", params={"month": "2026-10", "format": "csv"}, headers=OFFICE
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["section", "dimension", "key", "label", "value"]
    assert ["letters", "by_platform", "cq_gov", "", "3"] in rows
    assert ["letters", "by_nature", "complaint", "投诉", "2"] in rows
    assert ["on_time", "handling", "on_time_rate", "办理", "0.5"] in rows
    assert ["units", "unit_a", "returns", "商贸处", "1"] in rows


async def test_chart_is_svg_with_readable_unit_names(month: Harness) -> None:
    response = await month.client.get(
        "/reports/monthly/chart.svg", params={"month": "2026-10"}, headers=OFFICE
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    text = response.content.decode("utf-8")
    assert "商贸处" in text
    assert "市场处" in text
    root = ET.fromstring(response.content)
    assert root.tag.endswith("svg")


async def test_units_cannot_read_reports(month: Harness) -> None:
    unit = auth(Role.unit_head, unit_id="unit_a")
    response = await month.client.get("/reports/monthly", params={"month": "2026-10"}, headers=unit)
    assert response.status_code == 403
    for wrong in ("2026-13", "0001-01", "2026-1"):
        bad = await month.client.get("/reports/monthly", params={"month": wrong}, headers=OFFICE)
        assert bad.status_code == 422


async def test_report_command_prints_the_report_and_writes_the_chart(
    month: Harness, tmp_path: Path
) -> None:
    # The command speaks HTTP to a real server: serve the running app on a free port.
    server = uvicorn.Server(
        uvicorn.Config(month.app, host="127.0.0.1", port=0, lifespan="off", log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    try:
        await until(_started(server), what="uvicorn started")
        port = server.servers[0].sockets[0].getsockname()[1]
        root = typer.Typer()
        deadlines_cli.register(root)
        chart = tmp_path / "october.svg"
        args = ["report", "--month", "2026-10", "--url", f"http://127.0.0.1:{port}"]
        env = {"MAILBOX_TOKEN": token(Role.office_head)}
        runner = CliRunner()
        result = await asyncio.to_thread(
            runner.invoke, root, [*args, "--chart", str(chart)], env=env
        )
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["letters"]["total"] == 5
        assert "商贸处" in chart.read_text(encoding="utf-8")
        as_csv = await asyncio.to_thread(runner.invoke, root, [*args, "--format", "csv"], env=env)
        assert as_csv.exit_code == 0
        assert "letters,by_platform,cq_gov,,3" in as_csv.stdout
        refused = await asyncio.to_thread(
            runner.invoke, root, args, env={"MAILBOX_TOKEN": token(Role.unit_head, unit_id="u")}
        )
        assert refused.exit_code == 1
        assert "403" in refused.output
    finally:
        server.should_exit = True
        await serving


def _started(server: uvicorn.Server) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return server.started

    return check
