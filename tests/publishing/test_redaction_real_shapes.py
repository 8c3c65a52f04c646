"""Shapes the real citizens' letters showed, in sentences of our own (no real text here)."""

from __future__ import annotations

import threading

import pytest

from services.publishing.redaction.persons import find_persons, person_finder
from services.publishing.redaction.service import RedactionConfig, redact

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "text",
    [
        "谢谢你们的帮助",  # 谢 starts the word: nothing says a person is meant
        "地下储藏室被人占用了",
        "当天有三百余人参加",
        "往前向东300米左右有个路口",
        "孩子年纪尚小，需要照顾",
        "杨书记说会处理",  # a surname with a title says no more than 杨某
        "这些业主边住边建，影响通行",  # a role word before a verb phrase: the NER sees no one
        "护士管着十几位病人",
        "小区由邵安房地产公司开发，此后邵安一直拖延交房",  # a company's name, twice
        "电话：0000-00000000",  # a number the platform had already blanked
    ],
)
def test_words_that_only_begin_with_a_surname_stay(text: str) -> None:
    assert redact(text).text == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("教师刘芳同志反映了情况", "教师刘某同志反映了情况"),
        ("邻居孔祥瑞每天在楼道堆放杂物", "邻居孔某每天在楼道堆放杂物"),
        ("那个保安叫郝文博，态度很差", "那个保安叫郝某，态度很差"),
        ("我叫方和平，今年70岁", "我叫方某，今年70岁"),  # the given name is also a word
        ("昨天下午，李建国在店里和顾客吵了起来。", "昨天下午，李某在店里和顾客吵了起来。"),
    ],
)
def test_private_names_with_or_without_a_cue_are_masked(text: str, expected: str) -> None:
    assert redact(text).text == expected


def test_traditional_characters_are_read_and_kept_in_the_output() -> None:
    result = redact("聯繫人：陳大文，電話13812345678")
    assert result.text == "聯繫人：陳某，電話138****5678"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("车牌渝a12345停在门口", "车牌渝a*****停在门口"),
        ("车牌湘e 98325停在门口", "车牌湘e *****停在门口"),
    ],
)
def test_lower_case_and_spaced_plates_are_masked(text: str, expected: str) -> None:
    assert redact(text).text == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A floor in the clause that says where the writer lives.
        (
            "我家住在五区三栋靠公园那头的三楼，晚上很吵。",
            "我家住在×××靠公园那头的×××，晚上很吵。",
        ),
        # A number with 房 alone is a flat, with the building glued before it too.
        ("楼上1203房每晚装修到深夜。", "楼上×××每晚装修到深夜。"),
        ("恢复502房通道原状。", "恢复×××通道原状。"),
        ("我在某某楼盘买了3#1602房，至今没有交房。", "我在某某楼盘买了×××，至今没有交房。"),
        # ... not a subsidy's year or a layout.
        ("按2005房补文件执行，住房为二合一户（6080房）型。", None),
        # A firm's own address: in brackets after it, registered, or a shop just opened there.
        ("我作为某某物流的员工（某某东路12号），对仓库管理有疑问。", None),
        ("举报某某贸易有限公司（地址：某某区某某路26号b栋）噪音扰民。", None),
        ("该网吧注册地址为：某某市某某路15号某某大厦二期B栋五层。", None),
        ("在某某商业广场b栋112新开了一家饭店，油烟很大。", None),
        # A building with a snack bar in it is a landmark.
        ("小区7栋重庆小吃旁边有一家麻将馆。", None),
    ],
)
def test_house_number_shapes_the_real_letters_showed(text: str, expected: str | None) -> None:
    assert redact(text).text == (text if expected is None else expected)


def test_officials_in_their_public_role_follow_the_setting() -> None:
    text = "乡长陈建国同志来过我们村，邻居孔祥瑞也在"
    assert redact(text).text == "乡长陈某同志来过我们村，邻居孔某也在"
    kept = redact(text, config=RedactionConfig(mask_officials=False))
    assert kept.text == "乡长陈建国同志来过我们村，邻居孔某也在"


def test_the_person_finder_is_loaded_once_across_threads() -> None:
    seen: list[object] = []
    threads = [threading.Thread(target=lambda: seen.append(person_finder())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(finder) for finder in seen}) == 1


def test_persons_come_with_offsets_on_the_whole_text() -> None:
    text = "情况如下。\n联系人：王冬梅，电话另告。"
    spans = [text[p.start : p.end] for p in find_persons(text)]
    assert "王冬梅" in spans
