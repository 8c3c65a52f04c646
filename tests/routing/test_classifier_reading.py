"""Cues read as words and where they stand: the shapes real letters take, in our own sentences."""

from __future__ import annotations

import pytest

from services.routing.classify.classifier import classify
from services.routing.classify.matching import CueTable
from services.routing.classify.reading import match_words, read_letter
from services.routing.classify.rules import RuleSet, load_rules
from services.routing.classify.suggestion import EvidenceKind, LetterInput, Suggestion
from services.routing.classify.variants import simplified
from services.routing.directory.models import Directory, load_directory
from shared.events.vocabulary import Nature, NotAcceptedReason, Route

pytestmark = pytest.mark.unit  # needs no server


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules()


@pytest.fixture(scope="module")
def directory() -> Directory:
    return load_directory()


def _classify(text: str, rules: RuleSet, directory: Directory, *, title: str = "") -> Suggestion:
    return classify(LetterInput(title=title, text=text), rules=rules, directory=directory)


def test_a_cue_across_a_word_boundary_is_not_that_cue() -> None:
    table = CueTable.build({"代开": 2.0, "投诉": 3.0})

    across = match_words(table, read_letter("", "这条街从九十年代开始就很热闹。"))
    with_affix = match_words(table, read_letter("", "投诉人至今没有收到回复。"))

    assert across.score == 0
    assert with_affix.words == ("投诉",)


def test_a_cue_at_the_head_of_the_title_weighs_more() -> None:
    table = CueTable.build({"投诉": 3.0})

    in_title = match_words(table, read_letter("投诉某店", "详情如下。"), title_weight=3)
    in_body = match_words(table, read_letter("某店的问题", "我要投诉。"), title_weight=3)

    assert in_title.score == 9
    assert in_body.score == 3


@pytest.mark.parametrize(
    ("title", "text", "nature"),
    [
        (
            "投诉某小区物业乱收停车费",
            "物业凭空多收我们每月两百元，难道这样合理吗？谁来管管呢？",
            Nature.complaint,
        ),
        (
            "举报某厂夜间偷排污水",
            "工厂每晚把污水排进河里，能否派人去看一看？",
            Nature.report,
        ),
        (
            "请求帮助解决孩子上学问题",
            "孩子随我们来城里打工，学校说名额满了，我们不知道怎么办。",
            Nature.help,
        ),
        (
            "咨询外贸企业出口信用保险补助",
            "今年的保费补助什么时候开始申报？我们对流程有些不清楚的地方。",
            Nature.consultation,
        ),
    ],
)
def test_the_title_says_what_the_letter_is(
    title: str, text: str, nature: Nature, rules: RuleSet, directory: Directory
) -> None:
    suggestion = _classify(text, rules, directory, title=title)

    assert suggestion.nature.value is nature
    assert suggestion.nature.reasons[0].words
    assert 0 < suggestion.nature.confidence < 1


@pytest.mark.parametrize(
    "text",
    [
        "这条老街从九十年代开始就有集贸市场，现在卫生太差，希望整治。",
        "工地夜间施工，我们请人做了噪音测试，结果远超标准，严重影响休息。",
        "孩子刚参加完学业水平测试，学校又要求统一购买昂贵的复习资料。",
        "饭店老板对我说“再来闹就弄死你”，我要投诉这家店态度恶劣。",
        "在饭店吃饭要求开发票，老板拒绝，还说有本事去法院告他。",
    ],
)
def test_a_word_in_passing_does_not_reject_the_letter(
    text: str, rules: RuleSet, directory: Directory
) -> None:
    suggestion = _classify(text, rules, directory)

    assert suggestion.scope.accepted, suggestion.why()


def test_a_court_judgment_is_still_another_authority(rules: RuleSet, directory: Directory) -> None:
    suggestion = _classify("法院的判决不公，我要求再审。", rules, directory)

    assert suggestion.scope.reason is NotAcceptedReason.other_authority


@pytest.mark.parametrize(
    ("text", "recipient_id"),
    [
        ("地铁站的出口指示牌太少，很多乘客找不到换乘的路。", "transport"),
        ("有人打着连锁经营的幌子搞传销，拉人头发展下线，请公安查处。", "public-security"),
        ("小区这个月已经停电五次了，家里的冰箱都坏了。", "power-grid"),
        ("我们公司拖欠工资半年，老板说等招商引资的项目到了再发。", "human-resources"),
    ],
)
def test_another_departments_matter_is_forwarded_not_kept(
    text: str, recipient_id: str, rules: RuleSet, directory: Directory
) -> None:
    competence = _classify(text, rules, directory).competence

    assert competence.route is Route.forward, competence.reasons
    assert competence.recipient_id == recipient_id
    assert competence.reasons[0].words


def test_nothing_matched_goes_to_the_city_office_with_low_confidence(
    rules: RuleSet, directory: Directory
) -> None:
    text = "我们村口那座老桥的栏杆松动了，走过去心里发慌。"
    competence = _classify(text, rules, directory).competence

    assert competence.route is Route.escalate
    assert competence.recipient_id == directory.city_office.id
    assert competence.confidence <= 0.2
    assert competence.reasons[0].kind is EvidenceKind.default
    # The clerk is offered nothing that looks like a confident own unit.
    assert all(a.route is not Route.direct for a in competence.alternatives)


@pytest.mark.parametrize(
    ("text", "unit_id"),
    [
        ("健身房老板跑路了，预付卡里的钱退不回来。", "market-order"),
        ("我们外贸企业的出口订单被取消，资金周转困难。", "foreign-trade"),
        ("建议在新区多开几家连锁便利店，方便居民买东西。", "service-industry"),
    ],
)
def test_a_commerce_matter_stays_with_its_unit(
    text: str, unit_id: str, rules: RuleSet, directory: Directory
) -> None:
    competence = _classify(text, rules, directory).competence

    assert competence.route is Route.direct
    assert competence.lead_unit_id == unit_id
    assert competence.confidence > 0.2


def test_traditional_characters_are_read(rules: RuleSet, directory: Directory) -> None:
    text = "我要投訴這家健身房，老闆跑路了，會員卡裡的錢無法退還。"

    suggestion = _classify(text, rules, directory)

    assert simplified(text) != text
    assert suggestion.nature.value is Nature.complaint
    assert suggestion.competence.lead_unit_id == "market-order"
