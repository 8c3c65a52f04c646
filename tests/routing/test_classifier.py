"""Suggestions for letters written in many ways: nature, scope, competence, and their reasons."""

from __future__ import annotations

import pytest

from services.routing.classify.classifier import classify
from services.routing.classify.matching import normalise
from services.routing.classify.rules import RuleSet, load_rules
from services.routing.classify.suggestion import EvidenceKind, LetterInput, Suggestion
from services.routing.directory.models import Directory, load_directory
from shared.events.vocabulary import Nature, NotAcceptedReason, Person, Route

pytestmark = pytest.mark.unit  # needs no server


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules()


@pytest.fixture(scope="module")
def directory() -> Directory:
    return load_directory()


def _classify(text: str, rules: RuleSet, directory: Directory, *, title: str = "") -> Suggestion:
    return classify(LetterInput(title=title, text=text), rules=rules, directory=directory)


@pytest.mark.parametrize(
    ("text", "nature"),
    [
        ("我在超市买到过期牛奶，要求退换被拒，我要投诉这家超市。", Nature.complaint),
        ("健身房老板卷款跑路，会员卡里的钱无法退还，我们损失惨重。", Nature.complaint),
        ("我要举报：我家附近有人无证经营加油点，存在安全隐患。", Nature.report),
        ("楼下小店在卖散装白酒，我怀疑是假酒，请查一下。", Nature.report),
        ("建议在观音桥商圈多设置一些共享充电宝和休息座椅。", Nature.suggestion),
        ("希望能否在我们社区增设一个标准化菜市场，方便老年人买菜。", Nature.suggestion),
        ("我们公司出口订单被取消，资金周转困难，恳请帮助我们渡过难关。", Nature.help),
        ("请问今年汽车以旧换新补贴怎么申请？需要哪些材料？", Nature.consultation),
        ("想了解一下对外贸易经营者备案如何办理。", Nature.consultation),
        ("感谢市商务委的工作人员耐心解答，给你们点赞。", Nature.other),
    ],
)
def test_nature(text: str, nature: Nature, rules: RuleSet, directory: Directory) -> None:
    suggestion = _classify(text, rules, directory)

    assert suggestion.nature.value is nature
    assert suggestion.nature.reasons[0].words
    # Words are reported as matched: full-width punctuation normalised (？ → ?).
    assert all(word in normalise(text) for word in suggestion.nature.reasons[0].words)
    assert 0 < suggestion.nature.confidence < 1


def test_nature_without_any_cue_is_the_default_with_low_confidence(
    rules: RuleSet, directory: Directory
) -> None:
    suggestion = _classify("关于本市步行街改造的一些情况说明。", rules, directory)

    # A letter of substance without a cue is most often a complaint (the rules' choice).
    assert suggestion.nature.value is (rules.nature.substantive_default or rules.nature.default)
    assert suggestion.nature.reasons[0].kind is EvidenceKind.default
    assert suggestion.nature.confidence < 0.5


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("你好。谢谢！", NotAcceptedReason.repetitive_or_empty),
        ("测试测试测试", NotAcceptedReason.repetitive_or_empty),
        ("无抵押贷款当天放款，代开发票，有意者加微信。", NotAcceptedReason.advertising),
        ("你们这些狗官不得好死！", NotAcceptedReason.malicious),
        ("区法院的判决明显不公，我要求再审。", NotAcceptedReason.other_authority),
        ("我反映的问题人大代表也知道，请政协委员关注。", NotAcceptedReason.other_authority),
        (
            "请把贵委去年印发的红头文件原文发给我，我要核对公文文号。",
            NotAcceptedReason.administrative_document,
        ),
        ("我想咨询一下外地户口的孩子在重庆怎么办理落户。", NotAcceptedReason.outside_duties),
        ("我的社保断缴了三个月，现在怎么补缴？", NotAcceptedReason.outside_duties),
    ],
)
def test_not_accepted(
    text: str, reason: NotAcceptedReason, rules: RuleSet, directory: Directory
) -> None:
    suggestion = _classify(text, rules, directory)

    assert suggestion.scope.accepted is False
    assert suggestion.scope.reason is reason
    assert suggestion.scope.reasons
    assert suggestion.scope.alternatives[-1].accepted is True


def test_empty_letter_with_only_greetings_and_personal_data(
    rules: RuleSet, directory: Directory
) -> None:
    text = (
        "尊敬的领导：您好！我叫王小明，家住渝中区解放碑88号3栋1201室。"
        "我的联系电话是13800138000。谢谢！"
    )

    suggestion = _classify(text, rules, directory, title="你好")

    assert suggestion.scope.reason is NotAcceptedReason.repetitive_or_empty
    assert suggestion.scope.reasons[0].kind is EvidenceKind.empty


def test_an_advert_is_of_nature_other_whatever_its_words(
    rules: RuleSet, directory: Directory
) -> None:
    suggestion = _classify(
        "建议各位老板了解我们的代开发票服务，价格优惠，加微信详谈。", rules, directory
    )

    assert suggestion.scope.reason is NotAcceptedReason.advertising
    assert suggestion.nature.value is Nature.other
    assert suggestion.nature.alternatives[0].value is Nature.suggestion


def test_a_commerce_matter_stays_accepted_despite_a_personal_word(
    rules: RuleSet, directory: Directory
) -> None:
    text = "我在商场办的预付卡，商家跑路了，钱退不回来，我的社保卡也在里面绑定了。"

    suggestion = _classify(text, rules, directory)

    assert suggestion.scope.accepted is True
    assert any(
        alt.reason is NotAcceptedReason.outside_duties for alt in suggestion.scope.alternatives
    )


@pytest.mark.parametrize(
    ("text", "unit_id"),
    [
        ("请问外贸企业申请出口信用保险保费补助需要什么材料？", "foreign-trade"),
        ("我们是一家港资企业，项目落地遇到困难，希望外资主管部门协调。", "foreign-investment"),
        ("在商场办的储值卡，商家关门跑路，卡里还有三千元。", "market-order"),
        ("建议简化二手车交易的过户登记手续。", "market-building"),
        ("想了解跨境电商出口有哪些扶持政策。", "e-commerce"),
        ("请问家电以旧换新补贴的标准是多少？", "consumption"),
        ("家政公司派来的保姆不称职，公司拒绝更换。", "service-industry"),
        ("有人在路边流动加油，这种黑加油站很危险。", "enforcement-corps"),
    ],
)
def test_direct_to_the_right_unit(
    text: str, unit_id: str, rules: RuleSet, directory: Directory
) -> None:
    suggestion = _classify(text, rules, directory)

    assert suggestion.scope.accepted is True
    assert suggestion.competence.route is Route.direct
    assert suggestion.competence.lead_unit_id == unit_id
    assert suggestion.competence.recipient_id is None
    assert suggestion.competence.reasons[0].rule == unit_id
    assert suggestion.competence.reasons[0].words


def test_direct_with_assisting_units(rules: RuleSet, directory: Directory) -> None:
    text = "举报有商家在步行街附近无证经营成品油零售，还开了流动加油车，属于黑加油站。"

    competence = _classify(text, rules, directory).competence

    assert competence.route is Route.direct
    assert competence.lead_unit_id is not None
    assert competence.assisting_unit_ids
    assert competence.lead_unit_id not in competence.assisting_unit_ids


def test_nothing_matched_but_the_commission_named_goes_to_the_default_unit(
    rules: RuleSet, directory: Directory
) -> None:
    competence = _classify("感谢市商务委一直以来的辛勤工作。", rules, directory).competence

    assert competence.route is Route.direct
    assert competence.lead_unit_id == rules.competence.default_unit_id
    assert competence.reasons[0].kind is EvidenceKind.default


@pytest.mark.parametrize(
    ("text", "recipient_id"),
    [
        ("在超市买的食品过期变质，商家拒绝赔偿。", "market-regulation"),
        ("我在餐馆打工三个月，老板一直拖欠工资。", "human-resources"),
        ("开发商延期交房快一年了，我们要求赔偿违约金。", "housing"),
        ("楼下火锅店油烟直排进我家窗户，实在受不了。", "ecology-environment"),
        ("昨天坐网约车被司机绕路多收钱。", "transport"),
        ("綦江区某小区物业公司乱收停车费，业主多次反映无果。", "district-qijiang"),
        ("彭水县城我们小区楼下的路灯坏了半年没人修。", "district-pengshui"),
        # Named by the writer: the department, even for a matter in a named district.
        ("巴南区某小区里有人搞传销，请公安部门去查。", "public-security"),
    ],
)
def test_forward_to_the_right_recipient(
    text: str, recipient_id: str, rules: RuleSet, directory: Directory
) -> None:
    suggestion = _classify(text, rules, directory)

    assert suggestion.scope.accepted is True
    assert suggestion.competence.route is Route.forward
    assert suggestion.competence.recipient_id == recipient_id
    assert suggestion.competence.lead_unit_id is None
    assert suggestion.competence.reasons


def test_a_district_in_the_writers_address_does_not_route(
    rules: RuleSet, directory: Directory
) -> None:
    text = "我家住万州区高笋塘88号。我们小区的物业公司乱收费，多次反映无果。"

    competence = _classify(text, rules, directory).competence

    assert competence.route is Route.forward
    assert competence.recipient_id == "housing"


@pytest.mark.parametrize(
    "text",
    [
        "我们村旁的养殖场污水横流，找了好几个部门，各部门互相推诿，没人管。",
        "这件事涉及多个部门，我不知道该找哪个部门。",
        # No cue, but three departments' matters at once.
        "小区门口烧烤摊占道经营，油烟扰民，还把消防通道堵了。",
    ],
)
def test_escalate_to_the_city_office(text: str, rules: RuleSet, directory: Directory) -> None:
    competence = _classify(text, rules, directory).competence

    assert competence.route is Route.escalate
    assert competence.recipient_id == directory.city_office.id
    assert competence.reasons[0].summary


def test_the_suggestion_says_why(rules: RuleSet, directory: Directory) -> None:
    suggestion = _classify("购买的食品有质量问题，商家拒绝赔偿，请相关部门查处。", rules, directory)

    why = suggestion.why()

    assert "投诉" in why
    assert "转阅" in why
    assert "质量问题" in why
    assert suggestion.rules_version == rules.version
    assert suggestion.competence.alternatives or suggestion.nature.alternatives


def test_same_input_same_suggestion(rules: RuleSet, directory: Directory) -> None:
    letter = LetterInput(
        title="预付卡", text="商家跑路，预付卡无法退还。", person=Person(name="张三")
    )

    first = classify(letter, rules=rules, directory=directory)
    second = classify(letter, rules=rules, directory=directory)

    assert first == second
