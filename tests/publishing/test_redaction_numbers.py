"""Numbers, plates and house numbers in the shapes real letters showed (our own sentences)."""

from __future__ import annotations

import pytest

from services.publishing.redaction.leak_scan import leak_scan
from services.publishing.redaction.service import PersonData, redact

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "text",
    [
        "这个小区共8栋，一期5栋已建成，二期还在规划。",  # counts of buildings
        "开发商规划建成一栋32层的高楼。",  # one building of 32 storeys
        "从12栋到15栋680户都停水了。",  # a range and a count of households
        "6栋楼下新开了一家烧烤店，油烟很大。",  # the building, not a flat
        "3栋和4栋之间的路面坑坑洼洼。",
        "东区8栋是一栋18层的住宅。",
        "小区里7栋4栋2栋都有人开棋牌室。",  # a list of buildings
        "B栋电梯经常停运。",
        "物业与19栋协商期间，社区又与19栋达成协议。",  # a building's households as one party
        "因开发原因12栋没有地下车库，12栋多次封堵车库出口。",
        "临街的6栋5号商铺和9栋108商铺都在装修。",
        "河西大道88号锦绣小区的业主反映物业乱收费。",  # the estate's own number
        "滨江路16号某某大药房私自占道经营。",
        "南湖路20号（原某某局宿舍）的住户们都很着急。",
        "户型图上，一栋05户型的卧室朝北。",  # a layout
        "按照《招标公告》3-1-2项的规定执行。",  # an item of a document
        "先后下发了12号46号58号文件。",  # document numbers
        "项目预售证号2021-118，已在网上公示。",  # a permit, not a person's ID
        "如有疑问，请拨打区政务服务中心电话：0739-5261234。",  # a public body's line
        "也可以联系区信访局（电话：0739-5261234）。",
    ],
)
def test_buildings_counts_documents_and_public_lines_stay(text: str) -> None:
    result = redact(text)
    assert result.text == text
    assert result.spans == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我是枫林苑a12栋的住户。", "我是枫林苑×××的住户。"),  # someone lives there
        ("我们是青松小区7B栋业主。", "我们是青松小区×××业主。"),
        ("某某小区3号楼停电", "某某小区×××停电"),  # nothing tells: still masked
        ("我家住在翠湖湾一号栋605，二号栋605也漏水。", "我家住在翠湖湾×××，×××也漏水。"),
        ("我住8 栋 302 房，楼上很吵。", "我住×××，楼上很吵。"),
        ("他在门面226 号开了店。", "他在门面×××开了店。"),
        ("住址：3#1502，请核实。", "住址：×××，请核实。"),
        ("老家在桃源村四组二十六号。", "老家在桃源村四组×××。"),
        ("我家住在金桂源著1702，楼下有狗。", "我家住在金桂源著×××，楼下有狗。"),
        (  # the flat's number alone later in the letter
            "丽景苑9栋402的业主在家开麻将馆，402每晚吵到两点。",
            "丽景苑×××的业主在家开麻将馆，×××每晚吵到两点。",
        ),
        ("同楼506房业主也投诉过。", "同楼×××业主也投诉过。"),
        ("我家在安置点58号，", "我家在安置点×××，"),
        ("我住在德馨园三区二栋，孩子在附近上学。", "我住在德馨园×××，孩子在附近上学。"),
        ("原住桥头坪15号（后改为21号）。", "原住桥头坪×××（后改为×××）。"),
        ("阳光城二期3栋1楼麻将馆吵到半夜。", "阳光城二期×××麻将馆吵到半夜。"),  # a flat may be it
        ("家住建设路8号锦绣小区5栋2单元302。", "家住建设路×××锦绣小区×××。"),
    ],
)
def test_dwellings_are_masked(text: str, expected: str) -> None:
    assert redact(text).text == expected


def test_the_writers_own_building_is_masked_even_where_a_building_would_stay() -> None:
    person = PersonData(address="河东区滨江路12号6栋")
    result = redact("滨江路12号锦绣小区的垃圾站就在6栋楼下。", person=person)
    assert result.text == "滨江路×××锦绣小区的垃圾站就在×××楼下。"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("停着楚A12345和蜀B6K789两辆车", "停着楚A*****和蜀B*****两辆车"),  # stand-in provinces
        ("1、湘A5K2P3比亚迪2、湘AD12345（绿牌）", "1、湘A*****比亚迪2、湘A******（绿牌）"),
        ("3、湘A3K52P4、湘A72H5C5、粤B8Z1U26、无牌", "3、湘A*****4、湘A*****5、粤B*****6、无牌"),
        ("网约车（楚DD2468，）拒载", "网约车（楚D*****，）拒载"),
        ("车牌号是06381的车一直停在那里", "车牌号是*****的车一直停在那里"),
        ("车牌渝a12345停在门口", "车牌渝a*****停在门口"),
    ],
)
def test_plates_with_any_province_and_list_numbers_glued_on(text: str, expected: str) -> None:
    assert redact(text).text == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我的电话138 - 2468 - 1357，", "我的电话138 - **** - 1357，"),
        ("手机：139 – 1357 – 2468。", "手机：139 – **** – 2468。"),
        ("联系人：王某，电话0739-5261234", "联系人：王某，电话0739-*****34"),  # a person's line
        ("城管局刘科长电话13924681357", "城管局刘科长电话139****1357"),  # a mobile never stays
        # the kept country code and head of a masked mobile are no cued number of their own
        ("手机0086 160 2468 1357", "手机0086 160 **** 1357"),
    ],
)
def test_phones_split_with_spaced_dashes_and_persons_lines_are_masked(
    text: str, expected: str
) -> None:
    result = redact(text)
    assert result.text == expected
    assert leak_scan(result.text) == []


def test_a_public_bodys_line_passes_the_leak_scan() -> None:
    text = "请拨打市民服务中心电话：0739-52612345咨询。"
    assert redact(text).text == text
    assert leak_scan(text) == []


def test_a_spaced_mobile_left_in_clear_is_refused() -> None:
    assert leak_scan("号码138 - 2468 - 1357")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The platform starred the serial: the digits left at the end are the birth date.
        ("身份证号：43010519850612****，请核实", "身份证号：430105************，请核实"),
        ("我的身份证2310051984*******。", "我的身份证231005***********。"),
        # A whole ID keeps its region and the last digits of its serial, as before.
        ("身份证号码430105********1234。", "身份证号码430105********1234。"),
    ],
)
def test_an_id_the_platform_cut_shows_no_birth_date(text: str, expected: str) -> None:
    assert redact(text).text == expected
