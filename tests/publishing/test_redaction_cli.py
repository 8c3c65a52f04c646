"""`mailbox redact` (one text, --jsonl) and the leak scan's refusals."""

from __future__ import annotations

import orjson
import pytest
import typer
from typer.testing import CliRunner

from services.publishing.cli import register
from services.publishing.redaction.leak_scan import leak_scan
from services.publishing.redaction.service import PersonData, redact
from tests.publishing.letters_data import CARD, ID_X

pytestmark = pytest.mark.unit  # needs no server


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    root = typer.Typer()
    register(root)
    return root


def test_jsonl_in_order_with_spans_and_a_bad_line(app: typer.Typer) -> None:
    lines = [
        {"id": "a", "text": "我叫欧阳娜娜，电话138 1234 5678。", "person": {"name": "欧阳娜娜"}},
        "not json",
        {"id": "b", "text": "家住民族路118号", "person": None},
        {"id": "c", "text": 5},
        {"id": "d", "text": "联系我", "person": {"phone": 13812345678}},
        {"id": "e", "text": "根据渝办发〔2008〕108号文件"},
    ]
    stdin = "\n".join(x if isinstance(x, str) else orjson.dumps(x).decode() for x in lines) + "\n"
    result = CliRunner().invoke(app, ["redact", "--jsonl"], input=stdin)
    assert result.exit_code == 1
    out = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert [o.get("line", o.get("id")) for o in out] == ["a", 2, "b", 4, 5, "e"]
    first = out[0]
    assert first["text"] == "我叫欧阳某，电话138 **** 5678。"
    assert [s["kind"] for s in first["spans"]] == ["name", "phone"]
    source = lines[0]["text"]  # type: ignore[index]
    name_span = first["spans"][0]
    assert source[name_span["start"] : name_span["end"]] == "欧阳娜娜"
    assert name_span["replacement"] == "欧阳某"
    assert out[1]["error"].startswith("not JSON")
    assert out[2]["text"] == "家住民族路×××"
    assert "text" in out[3]["error"]
    assert "person.phone" in out[4]["error"]
    assert out[3]["id"] == "c"  # an error record names the letter when it can
    assert out[5] == {"id": "e", "text": "根据渝办发〔2008〕108号文件", "spans": []}


def test_jsonl_all_good_exits_zero(app: typer.Typer) -> None:
    stdin = orjson.dumps({"id": "1", "text": "经办人刘洋"}).decode() + "\n\n"
    result = CliRunner().invoke(app, ["redact", "--jsonl"], input=stdin)
    assert result.exit_code == 0
    assert orjson.loads(result.stdout)["text"] == "经办人刘某"


def test_jsonl_needs_a_string_id_reads_past_a_bom_and_names_a_bad_byte(
    app: typer.Typer,
) -> None:
    stdin = (
        b"\xef\xbb\xbf"
        + orjson.dumps({"id": "bom", "text": "你好"})
        + b"\n"
        + orjson.dumps({"text": "没有编号"})
        + b"\n"
        + orjson.dumps({"id": 7, "text": "编号是数字"})
        + b"\n"
        + b'{"id": "x", "text": "\xff\xfe"}\n'
    )
    result = CliRunner().invoke(app, ["redact", "--jsonl"], input=stdin)
    assert result.exit_code == 1
    out = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert out[0] == {"id": "bom", "text": "你好", "spans": []}
    assert out[1] == {"line": 2, "error": '"id" must be a non-empty string'}
    assert out[2] == {"line": 3, "error": '"id" must be a non-empty string'}
    assert out[3]["line"] == 4
    assert out[3]["error"].startswith("not UTF-8: byte 0xff")


def test_one_text_with_metadata_options(app: typer.Typer) -> None:
    result = CliRunner().invoke(
        app, ["redact", "张 三的电话是023-68881234", "--name", "张三", "--phone", "023-68881234"]
    )
    assert result.exit_code == 0
    assert result.stdout.strip() == "张某的电话是023-******34"
    as_json = CliRunner().invoke(app, ["redact", "--json", "经理王建国说"])
    assert orjson.loads(as_json.stdout)["spans"][0]["kind"] == "name"


def test_text_and_jsonl_together_are_refused(app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["redact", "x", "--jsonl"], input="")
    assert result.exit_code != 0


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        (f"身份证{ID_X}", "id_number"),
        ("电话138 1234 5678", "phone"),
        ("座机(023)68881234", "landline"),
        ("邮箱a.b@qq.com", "email"),
        (f"卡{CARD}", "bank_card"),
    ],
)
def test_leak_scan_names_the_pattern_and_place(text: str, pattern: str) -> None:
    leaks = leak_scan(text)
    assert [leak.pattern for leak in leaks] == [pattern]
    assert leaks[0].end == len(text)
    assert pattern in leaks[0].describe()
    assert leak_scan(redact(text).text) == []


def test_leak_scan_refuses_the_writers_own_data_even_spaced() -> None:
    person = PersonData(name="欧阳娜娜", phone="+86 13812345678", id_number=ID_X.lower())
    text = f"欧阳 娜娜，1381234 5678，{ID_X[:6]} {ID_X[6:]}"
    patterns = {leak.pattern for leak in leak_scan(text, person=person)}
    assert {"person_name", "person_phone", "person_id_number"} <= patterns
    assert leak_scan(redact(text, person=person).text, person=person) == []
