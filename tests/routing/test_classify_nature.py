"""Nature on the shapes real letters take (our own sentences): what the writer wants, not
the words they pass on the way; each suggestion says why and how sure it is."""

from __future__ import annotations

import pytest

from services.routing.classify.classifier import classify
from services.routing.classify.rules import RuleSet, load_rules
from services.routing.classify.suggestion import EvidenceKind, LetterInput, Suggestion
from services.routing.directory.models import Directory, load_directory
from shared.events.vocabulary import Nature

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
    ("title", "text"),
    [
        (
            "",
            "公交站牌为什么总是被广告遮住？谁来管管呢？难道这样合理吗？",
        ),
        (
            "新城小区门口的路灯坏了半年",
            "我们业主晚上回家只能摸黑走，物业说不归他们管，严重影响正常生活，这合理吗？",
        ),
    ],
)
def test_a_rhetorical_question_does_not_make_a_complaint_a_consultation(
    title: str, text: str, rules: RuleSet, directory: Directory
) -> None:
    nature = _classify(text, rules, directory, title=title).nature

    assert nature.value is Nature.complaint, nature.reasons
    assert nature.reasons[0].words


@pytest.mark.parametrize(
    ("title", "text"),
    [
        (
            "某路口夜市长期占道经营",
            "每天晚上十几个摊位占道经营，车辆乱停乱放，请城管部门严查并取缔。",
        ),
        (
            "某公司打着投资旗号非法集资",
            "该公司在多个小区发传单，承诺高额回报，已有上百名老人参与，请有关部门调查。",
        ),
    ],
)
def test_someone_elses_wrong_is_a_report(
    title: str, text: str, rules: RuleSet, directory: Directory
) -> None:
    nature = _classify(text, rules, directory, title=title).nature

    assert nature.value is Nature.report, nature.reasons


def test_a_plea_for_help_is_the_writers_own() -> None:
    rules, directory = load_rules(), load_directory()
    own = _classify("我家老人卧病在床，我又下岗了，生活困难，请求帮助。", rules, directory).nature
    others = _classify(
        "村口老桥的栏杆断了，请求有关部门尽快修好，以免有人落水。", rules, directory
    ).nature

    assert own.value is Nature.help
    assert others.value is not Nature.help
    assert Nature.help not in {a.value for a in others.alternatives}


def test_thanks_at_the_end_is_politeness_thanks_in_the_title_is_the_letter(
    rules: RuleSet, directory: Directory
) -> None:
    polite = _classify(
        "在超市买的牛奶有质量问题，店长只肯换一盒，感谢您抽空看完。", rules, directory
    ).nature
    thanks = _classify(
        "上个月反映的退款已经到账。", rules, directory, title="感谢市商务委帮忙协调"
    ).nature

    assert polite.value is Nature.complaint, polite.reasons
    assert thanks.value is Nature.other, thanks.reasons


@pytest.mark.parametrize(
    ("title", "text", "nature", "word"),
    [
        (
            "新区的农贸市场什么时候开业？",
            "新区入住的人越来越多，附近一直没有买菜的地方。",
            Nature.consultation,
            "?",  # as normalised (NFKC) for matching
        ),
        (
            "望在地铁站旁增设公共自行车点",
            "地铁站离小区有两公里，早晚高峰很难打到车。",
            Nature.suggestion,
            "望",
        ),
    ],
)
def test_a_cue_read_in_the_title_only(
    title: str, text: str, nature: Nature, word: str, rules: RuleSet, directory: Directory
) -> None:
    suggestion = _classify(text, rules, directory, title=title).nature
    in_body = _classify(f"{title}{text}", rules, directory).nature

    assert suggestion.value is nature, suggestion.reasons
    assert any(
        word in e.words and (e.rule or "").startswith("nature.title_cues")
        for e in suggestion.reasons
    )
    assert not any((e.rule or "").startswith("nature.title_cues") for e in in_body.reasons)


def test_no_cue_at_all_is_said_with_low_confidence(rules: RuleSet, directory: Directory) -> None:
    nature = _classify("沿江大道那一段的情况大家都看到了。", rules, directory).nature

    assert nature.reasons[0].kind is EvidenceKind.default
    assert nature.confidence <= 0.2


@pytest.mark.parametrize(
    "text",
    [
        "超市卖过期食品，店长说他亲戚在纪委，投诉也没用，我要投诉这家超市。",
        "我是一名退休教师，听人大代表讲过预付卡要实名，可健身房跑路后钱退不回来。",
        "商场的促销海报写着法院拍卖品低价处理，实际是普通库存，涉嫌虚假宣传。",
    ],
)
def test_naming_another_authority_in_passing_keeps_the_letter(
    text: str, rules: RuleSet, directory: Directory
) -> None:
    scope = _classify(text, rules, directory).scope

    assert scope.accepted, scope.reasons
