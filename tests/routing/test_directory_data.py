"""The sample directory: complete, consistent, and checked on load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from services.routing.directory.models import (
    SAMPLE_DIRECTORY_PATH,
    Directory,
    RecipientKind,
    UnitKind,
    load_directory,
)

pytestmark = pytest.mark.unit  # needs no server

# 26 districts, 8 counties and 4 autonomous counties (国务院批复的现行区划).
CHONGQING_DISTRICTS = {
    f"{name}区"
    for name in (
        "万州 涪陵 渝中 大渡口 江北 沙坪坝 九龙坡 南岸 北碚 綦江 大足 渝北 巴南"
        " 黔江 长寿 江津 合川 永川 南川 璧山 铜梁 潼南 荣昌 开州 梁平 武隆"
    ).split()
}
CHONGQING_COUNTIES = {"城口县", "丰都县", "垫江县", "忠县", "云阳县", "奉节县", "巫山县", "巫溪县"}
CHONGQING_AUTONOMOUS = {
    "石柱土家族自治县",
    "秀山土家族苗族自治县",
    "酉阳土家族苗族自治县",
    "彭水苗族土家族自治县",
}


@pytest.fixture(scope="module")
def directory() -> Directory:
    return load_directory()


def test_the_file_says_it_is_a_sample() -> None:
    raw = json.loads(SAMPLE_DIRECTORY_PATH.read_text(encoding="utf-8"))

    assert raw["sample"] is True
    assert "示例" in raw["note"]


def test_the_38_district_and_county_governments(directory: Directory) -> None:
    governments = [r for r in directory.recipients if r.kind is RecipientKind.district_government]
    names = {r.name.removesuffix("人民政府") for r in governments}

    assert len(CHONGQING_DISTRICTS) == 26
    assert len(governments) == len(names) == 38
    assert names == CHONGQING_DISTRICTS | CHONGQING_COUNTIES | CHONGQING_AUTONOMOUS


def test_ids_are_unique_across_the_directory(directory: Directory) -> None:
    ids = [entry.id for entry in directory.entries()]

    assert len(ids) == len(set(ids))


def test_every_entry_has_topics_and_every_unit_keywords(directory: Directory) -> None:
    assert all(entry.topics for entry in directory.entries())
    assert all(unit.keywords for unit in directory.units)


def test_both_kinds_of_commission_unit_and_the_city_office(directory: Directory) -> None:
    kinds = {unit.kind for unit in directory.units}

    assert kinds == {UnitKind.department, UnitKind.affiliated}
    assert directory.unit("office") is not None
    assert directory.city_office.name == "重庆市人民政府公开信箱办公室"
    assert directory.recipient(directory.city_office.id) == directory.city_office
    assert any(r.kind is RecipientKind.municipal_department for r in directory.recipients)


def test_lookups_by_id(directory: Directory) -> None:
    assert directory.name_of("foreign-trade") == "对外贸易处"
    assert directory.name_of("district-pengshui") == "彭水苗族土家族自治县人民政府"
    assert directory.name_of("nowhere") == "nowhere"


def test_round_trips_through_json(directory: Directory) -> None:
    assert Directory.model_validate_json(directory.model_dump_json()) == directory


def test_a_duplicate_id_is_refused(tmp_path: Path) -> None:
    raw = json.loads(SAMPLE_DIRECTORY_PATH.read_text(encoding="utf-8"))
    raw["units"].append({**raw["units"][0], "name": "另一个办公室"})
    path = tmp_path / "directory.json"
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")

    with pytest.raises(ValidationError, match="duplicate ids: office"):
        load_directory(path)


def test_a_unit_without_topics_is_refused() -> None:
    raw = json.loads(SAMPLE_DIRECTORY_PATH.read_text(encoding="utf-8"))
    raw["units"][0]["topics"] = []

    with pytest.raises(ValidationError, match="topics"):
        Directory.model_validate(raw)
