"""Redaction on the labelled dev letters and on hand-written letters of other shapes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from services.publishing.redaction.leak_scan import leak_scan
from services.publishing.redaction.service import PersonData, Redaction, redact, redact_fields
from tests.publishing.letters_data import LETTERS, Letter

pytestmark = pytest.mark.unit  # needs no server

DEV_LETTERS = Path(__file__).resolve().parents[3] / "shared" / "data" / "dev-letters.jsonl"


def _dev_letters() -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in DEV_LETTERS.read_bytes().splitlines() if line.strip()]


def _covered(result: Redaction) -> set[int]:
    return {i for span in result.spans for i in range(span.start, span.end)}


def _redact_letter(letter: Letter) -> Redaction:
    person = PersonData(**letter.person) if letter.person else None
    return redact(letter.text, person=person)


def test_dev_letters_every_secret_span_is_masked() -> None:
    missed = []
    total = 0
    for letter in _dev_letters():
        result = redact(letter["text"], person=PersonData(**letter["person"]))
        covered = _covered(result)
        for pii in letter["pii"]:
            if not pii["secret"]:
                continue
            total += 1
            inside = all(i in covered for i in range(pii["start"], pii["end"]))
            if not inside or pii["text"] in result.text:
                missed.append((letter["id"], pii["kind"], result.text))
    print(f"dev recall: {total - len(missed)}/{total}")
    assert total > 0
    assert missed == []


def test_dev_letters_every_keep_string_survives() -> None:
    damaged = []
    total = 0
    for letter in _dev_letters():
        result = redact(letter["text"], person=PersonData(**letter["person"]))
        for keep in letter["keep"]:
            total += 1
            if keep not in result.text:
                damaged.append((letter["id"], keep, result.text))
    print(f"dev keep-rate: {total - len(damaged)}/{total}")
    assert total > 0
    assert damaged == []


@pytest.mark.parametrize("letter", LETTERS, ids=lambda letter: letter.text[:12])
def test_handwritten_letter_secrets_are_masked(letter: Letter) -> None:
    result = _redact_letter(letter)
    covered = _covered(result)
    for secret in letter.secrets:
        assert secret not in result.text
        start = letter.text.find(secret)
        if start != -1:  # a metadata-only secret may not be in the text at all
            assert all(i in covered for i in range(start, start + len(secret))), secret


@pytest.mark.parametrize("letter", LETTERS, ids=lambda letter: letter.text[:12])
def test_handwritten_letter_keeps_survive_and_nothing_else_is_masked(letter: Letter) -> None:
    result = _redact_letter(letter)
    for keep in letter.keeps:
        assert keep in result.text
    for span in result.spans:
        masked = letter.text[span.start : span.end]
        assert any(masked in s or s in masked for s in letter.secrets), (masked, span.kind)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("小区物业经理王建国说下周处理", "小区物业经理王某说下周处理"),
        ("联系人：诸葛亮亮", "联系人：诸葛某"),
        ("落款 欧阳娜娜", "落款 欧阳某"),
        ("经办人刘洋来电解释", "经办人刘某来电解释"),
        ("感谢王芳老师的帮助", "感谢王某老师的帮助"),
        ("王建国经理表示会赔偿", "王某经理表示会赔偿"),
        ("店长李四告诉我们", "店长李某告诉我们"),
        ("投诉人：司马相如。", "投诉人：司马某。"),
        ("我去找了物业的张建华和王小明", "我去找了物业的张某和王某"),
        ("昨天下午，李建国在店里和顾客吵了起来。", "昨天下午，李某在店里和顾客吵了起来。"),
        ("后来我又找到了冯晓梅和谭国庆。", "后来我又找到了冯某和谭某。"),
        ("杜建平收了钱，听说是唐小龙在背后搞鬼。", "杜某收了钱，听说是唐某在背后搞鬼。"),
        ("此致\n敬礼！\n陈红梅\n2026年10月1日", "此致\n敬礼！\n陈某\n2026年10月1日"),
        ("保安队长马六动手打人。", "保安队长马某动手打人。"),
        ("我和邻居赵大海吵了一架。", "我和邻居赵某吵了一架。"),
        ("该公司的法人代表孙红雷拒不露面。", "该公司的法人代表孙某拒不露面。"),
        ("承办人：王小二 联系电话：12345", "承办人：王某 联系电话：12345"),
        ("店里的销售顾问蒯晓峰之前说没问题", "店里的销售顾问蒯某之前说没问题"),
        ("李主任另请科员焦海洋跟进复查。", "李主任另请科员焦某跟进复查。"),
        ("执法人员冉建波、谯红于10月8日到店", "执法人员冉某、谯某于10月8日到店"),
        ("候选人（公孙丽、单建华）的票数", "候选人（公孙某、单某）的票数"),
        ("我和舒婷婷、和平安等十几位业主", "我和舒某、和某等十几位业主"),
        ("当时业务员邢志刚138 8345 1234拍胸口", "当时业务员邢某138 **** 1234拍胸口"),
        ("2. 于海 13896005678", "2. 于某 138****5678"),
        ("联系人：\n向艳丽 13000000000", "联系人：\n向某 130****0000"),
        ("（2）于美丽 13896005678", "（2）于某 138****5678"),
        ("与总队谷雨辰联系，电话：023-63152207。", "与总队谷某联系，电话：023-******07。"),
        ("医务科的付强说要等院长签字。", "医务科的付某说要等院长签字。"),
        ("同一批买家电的祝文龙说他的补贴到了", "同一批买家电的祝某说他的补贴到了"),
        ("中介“链家”的温可欣当时做的交接", "中介“链家”的温某当时做的交接"),
        ("老板傅明还说只要给钱", "老板傅某还说只要给钱"),
        ("平台显示司机姓名任浩然。", "平台显示司机姓名任某。"),
        ("我母亲张淑珍，86岁", "我母亲张某，86岁"),
        ("当事人许磊磊、上官军勇等人到场。", "当事人许某、上官某等人到场。"),
        ("团长包玉琴：可能是路上损耗", "团长包某：可能是路上损耗"),
        ("群聊记录：\n郑晓雯：土豆又少了\n老李：同意", "群聊记录：\n郑某：土豆又少了\n老李：同意"),
        ("我叫李明（英文名 Li Ming），她叫Nguyen Thi Lan", "我叫李某（英文名 某某），她叫某某"),
    ],
)
def test_names_next_to_cues_become_surname_mou(text: str, expected: str) -> None:
    assert redact(text).text == expected


@pytest.mark.parametrize(
    "text",
    [
        "张先生和李女士都去过现场。",
        "当事人李某某已经道歉，张某也来了。",
        "老板赵总说不退，小刘和老王都在。",
        "我从张家界回来，在王府井买了东西，又去了黄桷坪和高新区。",
        "江北区观音桥的龙湖天街和南坪万达广场人很多。",
        "物业公司的工作人员于当天下午到场。",
        "本人向贵委反映一个问题。",
        "请转告向张经理，问题没解决。",
        "老师傅说这个不行，负责人和相关人员都在。",
        "我们在周黑鸭买了东西，希望你们管一管。",
        "银行卡号丢了怎么办？",
        "老板娘金口玉言，司机师傅绕路了。",
        "此致敬礼！全体业主",
        "工作人员常常不在岗，经理马上就来，老板何时退款？",
        "客服高度重视，医生建议住院，业主们很生气。",
        "他是我的邻居，姓王。",
        "校验数字签名时出错，使用标记高亮匹配的字符串，拉取公钥的地址。",
        "这张卡在一周后过期，阿富汗和夏威夷的西门子。",
        "处理单转交承办单位，承办单位收到处理单后办理。",
        "我的同事说不行，他的房东说不退，小区的保安说不知道，我们的代表说再等等。",
        "平台的客服回复说会处理，街道的答复说已转办，社区的干部说没时间。",
        "参加的有市场科、信访办、安全科，带了身份证、户口本、结婚证。",
        "时间：2026年10月1日\n单位：市商务委\n原因：不详\n方式：电话\n答复：已转办",
        "品牌叫Apple Store，型号叫Model Y，店名叫Happy Home。",
    ],
)
def test_words_that_are_not_full_names_stay(text: str) -> None:
    assert redact(text).text == text


@pytest.mark.parametrize(
    "text",
    [
        "微信同号13812345678，对方号码是17098765432，请拨打13912345678。",
        "张经理13812345678，王先生：13912345678，小李13712345678。",
        "监督电话是023-12328，请联系市场科，电话023-63211234。",
        # A preposition or conjunction before a word, mid-sentence or opening a line.
        "我多次打电话，向商家13812345678反映",
        "我于3月5日，向物业电话13912345678报修",
        "投诉：向商场 023-63801234 反映无果",
        "请尽快处理，和物业 13912345678 沟通过多次",
        "之后，和商家联系13812345678",
        "情况如下：\n向商家 13812345678 反映过\n于今日 13912345678 再次致电",
    ],
)
def test_words_before_a_phone_number_are_not_taken_for_names(text: str) -> None:
    result = redact(text)
    assert [span.kind for span in result.spans if span.kind == "name"] == []
    assert "某" not in result.text


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("张三", "张某"),
        ("欧阳娜娜", "欧阳某"),
        ("司马光明", "司马某"),
        ("诸葛亮亮", "诸葛某"),
        ("上官婉儿", "上官某"),
        ("东方明珠", "东方某"),
        ("皇甫嵩", "皇甫某"),
        ("尉迟恭", "尉迟某"),
        ("慕容复", "慕容某"),
        ("令狐冲", "令狐某"),
        ("夏侯惇", "夏侯某"),
        ("呼延灼", "呼延某"),
    ],
)
def test_writer_name_from_metadata_keeps_its_whole_surname(name: str, expected: str) -> None:
    spaced = name[:1] + " " + name[1:]
    result = redact(f"来信人{name}说，{spaced}再次来信。", person=PersonData(name=name))
    assert result.text.count(expected) == 2
    assert name not in result.text
    assert spaced not in result.text


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("13812345678", "138****5678"),
        ("138 1234 5678", "138 **** 5678"),
        ("138-1234-5678", "138-****-5678"),
        ("+86 138 1234 5678", "+86 138 **** 5678"),
        ("+86-13812345678", "+86-138****5678"),
        ("+8613812345678", "+86138****5678"),
        ("１３８１２３４５６７８", "138****5678"),
        ("023-68881234", "023-******34"),
        ("(023)68881234", "(023)******34"),
        ("（023）68881234", "（023）******34"),
        ("(028)8765-4321", "(028)****-**21"),
        ("139.1234.5678", "139.****.5678"),
        ("023—68881234", "023—******34"),
        ("010-12345678", "010-******78"),
    ],
)
def test_phone_numbers_in_any_spacing(raw: str, masked: str) -> None:
    result = redact(f"我的电话是{raw}，请联系。")
    assert result.text == f"我的电话是{masked}，请联系。"
    assert result.spans[0].kind in {"phone", "landline"}


@pytest.mark.parametrize(
    "text",
    [
        "根据渝办发〔2008〕108号文件和第二十四条、第3条规定。",
        "2026年10月1日晚上8点消费了500元，占比15%，约1.5万元，日期2026-10-01 20:30。",
        "订单号2024031512345678901，订单号 2026100112345678。",
        "客服电话12315，拨打12345或110，也可致电023-12345，或4008123123。",
        "市商务委和渝中区商务委员会已经受理，解放碑步行街的好再来火锅店。",
        "地铁1号线在10月1号停运，3室2厅的房子，第3期，建了两栋楼。",
        "家住在小区，根据108号文件处理；住在解放碑，3号线地铁站旁边。",
        "物业费每平方米2.5元，已缴纳三年，总计12000元。",
    ],
)
def test_non_personal_text_is_not_damaged(text: str) -> None:
    result = redact(text)
    assert result.text == text
    assert result.spans == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("家住重庆市渝中区解放碑民族路118号。", "家住重庆市渝中区解放碑民族路×××。"),
        ("渝北区龙溪街道金龙路28号附3号", "渝北区龙溪街道金龙路×××"),
        ("住在阳光小区5-2-301，", "住在阳光小区×××，"),
        ("家住12栋3单元502室，", "家住×××，"),
        ("某某小区3号楼停电", "某某小区×××停电"),
        ("金科世界城8栋2786室", "金科世界城×××"),
        ("杨家坪正街2号2栋2单元1808室", "杨家坪正街×××"),
        ("华润二十四城22栋698室", "华润二十四城×××"),
        ("北城天街A座1203", "北城天街×××"),
        ("春晖路26号17栋4单元1702室", "春晖路×××"),
        ("新华村5组12号", "新华村5组×××"),
        ("谢家湾正街49号华润二十四城6期8栋12-3", "谢家湾正街×××华润二十四城6期×××"),
        ("建新东路3号2-5-1", "建新东路×××"),
        ("门牌号：88号，请核实。", "门牌号：×××，请核实。"),
        ("阳光小区三栋二单元", "阳光小区×××"),
        ("住在阳光花园2-3-1号", "住在阳光花园×××"),
    ],
)
def test_house_numbers_go_district_and_street_stay(text: str, expected: str) -> None:
    result = redact(text)
    assert result.text == expected
    assert {span.kind for span in result.spans} == {"house_number"}


def test_id_numbers_cards_and_emails() -> None:
    from tests.publishing.letters_data import CARD, ID_X, bank_card

    card_spaced = " ".join(CARD[i : i + 4] for i in range(0, 16, 4)) + " " + CARD[16:]
    other_card = bank_card("436742123456789")
    text = (
        f"身份证{ID_X}，旧证110105491231002，卡号{card_spaced}，另一张卡{other_card}，"
        "邮箱Zhang.San_88@qq.com。"
    )
    result = redact(text)
    kinds = [span.kind for span in result.spans]
    assert kinds == ["id_number", "id_number", "bank_card", "bank_card", "email"]
    assert f"{ID_X[:6]}********{ID_X[-4:]}" in result.text
    assert "110105*****1002" in result.text
    digits_seen = 0
    expected_card = ""
    for ch in reversed(card_spaced):
        digits_seen += ch.isdigit()
        expected_card = (ch if not ch.isdigit() or digits_seen <= 4 else "*") + expected_card
    assert expected_card in result.text
    assert "*" * 12 + other_card[-4:] in result.text
    assert "Z***@qq.com" in result.text


def test_an_id_number_in_any_grouping_and_messaging_accounts() -> None:
    from tests.publishing.letters_data import ID_X, spaced

    grouped = spaced(ID_X, (4, 4, 4, 4, 2))
    result = redact(f"身份证 {grouped}，QQ：123456789，微信号：zhangsan_1988。")
    assert [span.kind for span in result.spans] == ["id_number", "account", "account"]
    assert grouped not in result.text
    assert "123456789" not in result.text
    assert "zhangsan_1988" not in result.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("车牌号渝A·T3856，司机姓刘", "车牌号渝A·*****，司机姓刘"),
        ("同车队的渝AD12345也被投诉过", "同车队的渝A******也被投诉过"),
        ("白色SUV川A·3H2K7和渝D88K21", "白色SUV川A·*****和渝D*****"),
        ("教练车渝B1234学", "教练车渝B*****"),
    ],
)
def test_licence_plates_keep_only_province_and_office(text: str, expected: str) -> None:
    result = redact(text)
    assert result.text == expected
    assert {span.kind for span in result.spans} == {"plate"}


@pytest.mark.parametrize(
    "text",
    ["新MATE60手机和京A级景区", "渝ABC景区", "2026年新款X5车型"],
)
def test_words_that_only_look_like_plates_stay(text: str) -> None:
    assert redact(text).text == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("银行账号：3100 0123 4567 8901 2345", "银行账号：**** **** **** **** 2345"),
        ("卡号6217003120004567894123", "卡号******************4123"),
    ],
)
def test_an_account_number_after_its_cue_is_masked_whole(text: str, expected: str) -> None:
    result = redact(text)
    assert result.text == expected
    assert leak_scan(text) != []


def test_kept_digits_of_two_touching_masks_never_join_into_a_number() -> None:
    text = "以+86-13416090253510104-20180120-2895了"
    person = PersonData(phone="13416090253", id_number="510104201801202895")
    result = redact(text, person=person)
    assert result.text == "以+86-134********510104-********-2895了"
    assert leak_scan(result.text, person=person) == []


def test_a_disability_certificate_number_is_an_id_number() -> None:
    from tests.publishing.letters_data import ID_X

    result = redact(f"我的残疾证号是{ID_X}11（二级）。")
    assert [span.kind for span in result.spans] == ["id_number"]
    assert ID_X not in result.text
    assert result.text.endswith("（二级）。")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("她的微信号是wxy_kaipiao168。", "她的微信号是w************8。"),
        ("QQ号码为865432109", "QQ号码为8*******9"),
        ("Tel：6788 5210", "Tel：**** **10"),
        ("座机 6886-2211", "座机 ****-**11"),
    ],
)
def test_accounts_and_local_numbers_after_their_cue(text: str, expected: str) -> None:
    assert redact(text).text == expected


@pytest.mark.parametrize(
    "text",
    [
        "发票代码050001900111，发票号码：23456789。",
        "营业执照注册号：500383600123456。",
        "菜鸟驿站的取件码6-2-1135，取货码 3-1-2201。",
        "南坪万达广场3号门、1号门，时代天街3号馆，轨道交通5号口。",
        "空港工业园8号路与5号路交叉口。",
        "酒店8016房间，3房2厅的户型。",
        "可向区人民调解委员会申请调解（地址：渝中区人和街74号）。",
    ],
)
def test_business_numbers_and_public_places_stay(text: str) -> None:
    assert redact(text).text == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我住腾龙大道12-3号，", "我住腾龙大道×××，"),
        ("楼上602住的是一家三口", "楼上×××住的是一家三口"),
        ("隔壁的1203天天装修", "隔壁的×××天天装修"),
        ("公司位于空港工业园8号路26号", "公司位于空港工业园8号路×××"),
        ("住在九龙坡区鹅公岩社区6栋3-2", "住在九龙坡区鹅公岩社区×××"),
        ("长乐路123弄45号", "长乐路×××"),
        ("兴华中路28号附3号", "兴华中路×××"),
        ("住在康乐养老院3楼312房。", "住在康乐养老院×××。"),
        ("红锦大道68号1幢2单元3-1", "红锦大道×××"),
    ],
)
def test_more_house_number_shapes(text: str, expected: str) -> None:
    assert redact(text).text == expected


def test_an_id_number_with_a_wrong_check_digit_is_not_an_id() -> None:
    from tests.publishing.letters_data import ID_X

    wrong = ID_X[:17] + ("0" if ID_X[17] != "0" else "1")
    kinds = {span.kind for span in redact(f"编号{wrong}").spans}
    assert "id_number" not in kinds


def test_spans_are_on_the_original_sorted_and_disjoint() -> None:
    letter = LETTERS[0]
    result = _redact_letter(letter)
    ends = 0
    rebuilt = []
    for span in result.spans:
        assert span.start >= ends
        assert span.end > span.start
        rebuilt.append(letter.text[ends : span.start] + span.replacement)
        ends = span.end
    assert "".join(rebuilt) + letter.text[ends:] == result.text


def test_redact_fields_masks_a_name_found_in_one_field_in_all() -> None:
    fields = {
        "title": "关于王建国的投诉",
        "text": "物业经理王建国说管不了。",
        "reply": "经核实，王建国已被约谈。",
    }
    results = redact_fields(fields, person=PersonData(phone="13812345678"))
    assert set(results) == set(fields)
    for result in results.values():
        assert "王建国" not in result.text
        assert "王某" in result.text


def test_config_changes_what_survives() -> None:
    from services.publishing.redaction.service import RedactionConfig
    from tests.publishing.letters_data import ID_X

    config = RedactionConfig(
        mobile_keep_head=0,
        mobile_keep_tail=2,
        landline_keep_tail=0,
        id_keep_head=2,
        id_keep_tail=0,
        house_number_marker="（门牌号略）",
        mask_other_names=False,
    )
    text = f"经理王建国，电话13812345678，座机023-68881234，身份证{ID_X}，家住民族路118号。"
    result = redact(text, config=config)
    assert result.text == (
        f"经理王建国，电话*********78，座机023-********，身份证{ID_X[:2]}{'*' * 16}，"
        "家住民族路（门牌号略）。"
    )
    own = redact(text, person=PersonData(name="王建国"), config=config)
    assert "王某" in own.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A mistyped check digit, a digit short: after the cue they are the writer's all the same.
        ("身份证号：510102198001011234", "身份证号：510102********1234"),
        ("身份证号：51010219800101123，", "身份证号：510102*******1123，"),
        ("证件号码 51010219800101123X", "证件号码 510102********123X"),
        ("手机：1381234567", "手机：138***4567"),
        ("联系电话：138 1234 567。", "联系电话：138 ***4 567。"),
        ("座机：6888123", "座机：*****23"),
        ("微信：1381234567", "微信：1********7"),
    ],
)
def test_a_number_after_its_cue_is_masked_whatever_its_checksum(text: str, expected: str) -> None:
    result = redact(text)
    assert result.text == expected
    assert leak_scan(result.text) == []


@pytest.mark.parametrize(
    "text",
    [
        "身份证号：510102198001011234",
        "身份证号：51010219800101123",
        "手机：1381234567",
        "号码是12345678901的那位",
    ],
)
def test_the_leak_scan_catches_numbers_the_patterns_miss(text: str) -> None:
    from services.publishing.redaction.leak_scan import crude_number_leaks
    from services.publishing.redaction.patterns import normalise

    assert leak_scan(text) != []
    # The crude rule alone, without the redaction's patterns, sees them too.
    assert crude_number_leaks(normalise(text)) != []


@pytest.mark.parametrize(
    "text",
    [
        "订单号2024031512345678901，运单号：SF1234567890123。",
        "案号（2024）渝0105民初12345号，受理编号20240315001。",
        "电话费1234567元，合计12,345,678.90元，手机话费23456789.50元。",
        "电话：2024-03-15上午联系过，手机2024.03.15停机。",
        "拨打12345热线，服务电话：400-820-1234，客服电话 800-810-8888，电话023-12328。",
        "电话95533转人工，电话96096。",
        "发票代码050001900111，电梯注册代码31105001232026。",
    ],
)
def test_business_numbers_dates_amounts_and_hotlines_stay_and_pass_the_scan(text: str) -> None:
    assert redact(text).text == text
    assert leak_scan(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("地址：九龙坡区杨家坪正街十八号", "地址：九龙坡区杨家坪正街×××"),
        ("住在解放路二十三号", "住在解放路×××"),
        ("红锦大道一百零八号旁边", "红锦大道×××旁边"),
        ("家住石桥铺二十号", "家住石桥铺×××"),
        ("西南大学宿舍区29舍302", "西南大学宿舍区×××"),
        ("住在学生公寓5栋412", "住在学生公寓×××"),
    ],
)
def test_house_numbers_in_chinese_numerals_and_dormitory_rooms(text: str, expected: str) -> None:
    assert redact(text).text == expected


@pytest.mark.parametrize(
    "text",
    [
        "我知道十五号要交，家里15号停水，这里二十号开会。",
        "十月一号放假，人民路二号线，四舍五入。",
        "渝办发〔2008〕一百零八号文件。",
    ],
)
def test_chinese_numeral_dates_and_documents_stay(text: str) -> None:
    assert redact(text).text == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("本人夏侯惇投诉", "本人夏侯某投诉"),
        ("我叫令狐冲", "我叫令狐某"),
        ("我叫宇文化及，", "我叫宇文某，"),
        ("签名：王小明 张三 李四", "签名：王某 张某 李某"),
        ("署名 欧阳娜娜 司马光", "署名 欧阳某 司马某"),
    ],
)
def test_names_after_a_self_naming_cue(text: str, expected: str) -> None:
    assert redact(text).text == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("本人第五次投诉，本人东方红小区业主。", "本人第五次投诉，本人东方红小区业主。"),
        ("签名：王小明 2024年3月1日", "签名：王某 2024年3月1日"),
        ("落款 王小明 重庆市民", "落款 王某 重庆市民"),
    ],
)
def test_self_naming_cues_leave_words_and_dates(text: str, expected: str) -> None:
    assert redact(text).text == expected
