"""What the office's own inputs can do: formulas in report CSVs, backtracking in the rules.

- A unit's label in a report comes from the directory, never from the reply's free-text
  承办单位; and every CSV cell a spreadsheet would run as a formula is neutralised.
- The classifier's filler patterns are matched by RE2 (linear time): what needs
  backtracking is refused when saved (422 naming the field); `(a+a+)+b`, which froze
  routing under Python's `re`, classifies a 100,000-character letter.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any

import pytest

from services.deadlines.reports.service import FORMULA_STARTS, csv_cell
from services.routing.classify.classifier import classify
from services.routing.classify.matching import compiled_rules
from services.routing.classify.rules import load_rules
from services.routing.classify.suggestion import LetterInput
from services.routing.directory.models import load_directory
from shared.auth import Role
from shared.events.catalog import ReplyApproved
from shared.events.vocabulary import PublicationMode
from tests.deadlines.harness import Harness, at, until
from tests.routing.admin_harness import admin, admin_stack
from tests.routing.harness import Desk, Stack, received
from tests.support import auth

OFFICE = auth(Role.office_clerk)
CALC = "=cmd|' /C calc'!A0"
CATASTROPHIC = "(a+a+)+b"


@pytest.fixture(scope="module")
async def reports() -> AsyncIterator[Harness]:
    h = Harness(now=at("2026-10-12T10:00:00"))
    await h.start()
    try:
        yield h
    finally:
        await h.stop()


@pytest.fixture(scope="module")
async def routing() -> AsyncIterator[Stack]:
    async with admin_stack() as running_stack:
        yield running_stack


async def _csv_rows(h: Harness) -> list[list[str]]:
    response = await h.client.get(
        "/reports/monthly", params={"month": "2026-10", "format": "csv"}, headers=OFFICE
    )
    assert response.status_code == 200, response.text
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


async def test_a_report_names_units_from_the_directory_not_the_reply(reports: Harness) -> None:
    h = reports
    letter_id = h.letter_id()
    await h.received(letter_id, received_at=at("2026-10-12T10:00:00"), platform="cq_gov")
    await h.accepted(
        letter_id, handed_over_at=at("2026-10-13T09:00:00"), unit_id="unit_t", unit_name="商贸处"
    )
    # The unit types its 承办单位 freely in the reply; this one is a spreadsheet formula.
    await h.publish(
        ReplyApproved(
            reply_id=f"rpl-{letter_id}",
            revision=1,
            unit_id="unit_t",
            unit_name=CALC,
            handler_name="李四",
            investigation="经现场核查。",
            policy_basis="《条例》第十条。",
            result="已整改。",
            publication_mode=PublicationMode.online,
            approved_at=at("2026-10-14T10:00:00"),
        ),
        letter_id=letter_id,
    )

    async def approved() -> bool:
        facts = await h.app.state.facts.get(letter_id)
        return facts is not None and facts.get("approved_at") is not None

    await until(approved, what="the approval")
    report = await h.client.get("/reports/monthly", params={"month": "2026-10"}, headers=OFFICE)
    units = {u["unit_id"]: u for u in report.json()["units"]}
    assert units["unit_t"]["unit_name"] == "商贸处"
    cells = [cell for row in await _csv_rows(h) for cell in row]
    assert "商贸处" in cells
    assert not [c for c in cells if "cmd|" in c]


async def test_no_csv_cell_starts_a_formula(reports: Harness) -> None:
    h = reports
    letter_id = h.letter_id()
    # A directory entry an admin named oddly: its label still lands in the CSV as text.
    await h.received(letter_id, received_at=at("2026-10-12T11:00:00"), platform="cq_gov")
    await h.accepted(
        letter_id, handed_over_at=at("2026-10-13T09:00:00"), unit_id="unit_f", unit_name=CALC
    )

    async def named() -> bool:
        names: dict[str, str] = await h.app.state.facts.unit_names()
        return names.get("unit_f") == CALC

    await until(named, what="the unit's name")
    rows = await _csv_rows(h)
    assert not [c for row in rows for c in row if c.startswith(FORMULA_STARTS)]
    labels = {row[3] for row in rows if row[0] == "units" and row[1] == "unit_f"}
    assert labels == {"'" + CALC}


@pytest.mark.unit
@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_each_formula_start_is_neutralised(start: str) -> None:
    assert csv_cell(f"{start}1+1") == f"'{start}1+1"
    assert csv_cell("市场处") == "市场处"
    assert csv_cell(-3) == -3  # numbers are numbers, not text a spreadsheet evaluates


async def _rules(stack: Stack) -> dict[str, Any]:
    response = await stack.client.get("/admin/rules", headers=OFFICE)
    assert response.status_code == 200, response.text
    rules: dict[str, Any] = response.json()["rules"]
    return rules


async def test_a_pattern_that_needs_backtracking_is_refused_when_saved(routing: Stack) -> None:
    rules = await _rules(routing)
    index = len(rules["filler_patterns"])
    for pattern in (r"(a+)\1", r"(?<=我)叫.{1,4}", r"(?=.*电话).*"):
        edited = {**rules, "filler_patterns": [*rules["filler_patterns"], pattern]}
        response = await routing.client.put("/admin/rules", json=edited, headers=admin())
        assert response.status_code == 422, (pattern, response.text)
        error = response.json()["details"]["errors"][0]
        assert error["field"] == f"filler_patterns.{index}", error
        assert "RE2" in error["reason"], error
    assert (await _rules(routing))["version"] == rules["version"]


async def test_a_catastrophic_pattern_is_saved_and_the_next_letter_classified(
    routing: Stack,
) -> None:
    rules = await _rules(routing)
    edited = {**rules, "filler_patterns": [*rules["filler_patterns"], CATASTROPHIC]}
    saved = await routing.client.put("/admin/rules", json=edited, headers=admin())
    assert saved.status_code == 200, saved.text
    # 24 characters froze Python's `re` for seconds, 30 for minutes; RE2 takes microseconds.
    letter_id = await Desk(routing).register(received(title="反映问题", text="a" * 5000 + "。"))
    assert routing.probe.of_type("letter.classified", letter_id=letter_id)
    assert (await routing.client.get("/healthz")).status_code == 200


@pytest.mark.unit
def test_a_catastrophic_pattern_classifies_a_long_letter() -> None:
    rules = load_rules()
    rules = rules.model_copy(update={"filler_patterns": [*rules.filler_patterns, CATASTROPHIC]})
    letter = LetterInput(title="反映问题", text="a" * 100_000)
    suggestion = classify(letter, rules=rules, directory=load_directory())
    assert suggestion.rules_version == rules.version
    # The pattern still works as a filler: a clause it matches whole is dropped.
    assert compiled_rules(rules).substantive("aaab。楼上噪音扰民。") == "楼上噪音扰民。"
