"""Property-based redaction tests: generated secrets in random surroundings always go."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from services.publishing.redaction.leak_scan import CRUDE_PATTERNS, leak_scan
from services.publishing.redaction.name_lexicon import surnames
from services.publishing.redaction.name_reading import word_freq
from services.publishing.redaction.service import PersonData, Redaction, apply_spans, redact
from tests.publishing.letters_data import id_number

pytestmark = pytest.mark.unit  # needs no server

# Everyday characters of complaint letters, and punctuation; no digits, so that a generated
# number keeps its own boundaries.
_HAN = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下"
    "过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都"
    "两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重"
    "新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想"
    "已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知"
    "较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处理府研质"
)
_PUNCT = "，。！？、：；（）“” \n"
surroundings = st.text(alphabet=st.sampled_from(_HAN + _PUNCT), max_size=40)

_SEPARATORS = ("", " ", "-")


@st.composite
def id_numbers(draw: st.DrawFn) -> str:
    """A valid 18-digit ID number (check digit X included when it falls so)."""
    region = draw(st.sampled_from(["110105", "500103", "500106", "510104", "440305", "320102"]))
    born = draw(st.dates(min_value=date(1920, 1, 1), max_value=date(2025, 12, 31)))
    serial = draw(st.integers(min_value=0, max_value=999))
    return id_number(f"{region}{born:%Y%m%d}{serial:03d}")


@st.composite
def mobiles(draw: st.DrawFn) -> str:
    """A mobile number as 11 digits."""
    second = draw(st.sampled_from("3456789"))
    rest = draw(st.text(alphabet="0123456789", min_size=9, max_size=9))
    return f"1{second}{rest}"


@st.composite
def written_mobiles(draw: st.DrawFn) -> tuple[str, str]:
    """(digits, as written): 3-4-4 with a separator, with or without a country code."""
    digits = draw(mobiles())
    sep = draw(st.sampled_from(_SEPARATORS))
    written = sep.join((digits[:3], digits[3:7], digits[7:]))
    prefix = draw(st.sampled_from(["", "+86 ", "+86-", "+86", "0086 ", "(+86)"]))
    return digits, prefix + written


@st.composite
def written_ids(draw: st.DrawFn) -> tuple[str, str]:
    """(ID number, as written): plain or spaced 6-8-4."""
    number = draw(id_numbers())
    sep = draw(st.sampled_from(_SEPARATORS))
    if draw(st.booleans()):
        number = number.lower()
    return number.upper(), sep.join((number[:6], number[6:14], number[14:]))


@st.composite
def chinese_names(draw: st.DrawFn) -> str:
    """A surname from the list (single or compound) and a one- or two-character given name."""
    single, compound = surnames()
    surname = draw(st.sampled_from(sorted(single | compound)))
    given_name = draw(
        st.text(
            alphabet=st.sampled_from("伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞"), min_size=1, max_size=2
        )
    )
    return surname + given_name


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit() or ch in "Xx").upper()


def _assert_well_formed(original: str, result: Redaction) -> None:
    previous_end = 0
    for span in result.spans:
        assert previous_end <= span.start < span.end <= len(original)
        previous_end = span.end
    assert apply_spans(original, result.spans) == result.text


# Derandomised: a suite run must not pass or fail by the draw. A new draw's find (向艳丽 on a
# contact line) becomes an explicit @example below.
_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


@_SETTINGS
@given(before=surroundings, after=surroundings, phone=written_mobiles())
def test_generated_mobiles_are_always_masked(
    before: str, after: str, phone: tuple[str, str]
) -> None:
    digits, written = phone
    text = before + written + after
    result = redact(text)
    start = len(before)
    number_start = start + written.rindex(digits[0], 0, len(written) - 10)
    [span] = [s for s in result.spans if s.start <= number_start < s.end]
    assert span.kind == "phone"
    assert span.end == start + len(written)
    assert span.replacement.count("*") == 4
    assert _digits(span.replacement).endswith(digits[:3] + digits[7:])
    assert written not in result.text
    assert leak_scan(result.text) == []
    _assert_well_formed(text, result)


@_SETTINGS
@given(before=surroundings, after=surroundings, id_written=written_ids())
def test_generated_id_numbers_are_always_masked(
    before: str, after: str, id_written: tuple[str, str]
) -> None:
    number, written = id_written
    text = before + written + after
    result = redact(text)
    assert written not in result.text
    [span] = [s for s in result.spans if s.kind == "id_number"]
    assert (span.start, span.end) == (len(before), len(before) + len(written))
    assert span.replacement.count("*") == 8
    assert _digits(span.replacement) == number[:6] + number[14:]
    assert leak_scan(result.text) == []
    _assert_well_formed(text, result)


@_SETTINGS
@given(
    parts=st.lists(surroundings, min_size=4, max_size=4),
    name=chinese_names(),
    phone=written_mobiles(),
    id_written=written_ids(),
)
# Found by this test: a lone 一 between a phone's kept tail and an ID's kept head was read as
# a digit by the leak scan, joining them into a long number.
@example(
    parts=["", "", "一", ""],
    name="丁丽",
    phone=("13000000000", "130 0000 0000"),
    id_written=("110105200001010008", "110105 20000101 0008"),
)
def test_the_writers_own_secrets_never_reach_the_output(
    parts: list[str], name: str, phone: tuple[str, str], id_written: tuple[str, str]
) -> None:
    digits, phone_written = phone
    number, id_text = id_written
    text = parts[0] + name + parts[1] + phone_written + parts[2] + id_text + parts[3] + name
    person = PersonData(name=name, phone=digits, id_number=number)
    result = redact(text, person=person)
    for secret in (name, digits, number, phone_written, id_text):
        assert secret not in result.text
    assert leak_scan(result.text, person=person) == []
    assert leak_scan(text, person=person) != []
    _assert_well_formed(text, result)


# Given names without 明: 明说 and 简明 are words that would cut a name there.
FREQUENT_WORD = 50
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛超秀霞"


# Surnames that are also grammar words (但 but, 和 and, 于 at, 向 towards …): right after a
# cue and before a word (当事人但秀丽、…) they read as the grammar word, as in 负责人和相关人员.
# A known limit (docs/redaction.md); the list property draws other surnames.
GRAMMAR_SURNAMES = frozenset("于但况初向和尚尤常曾莫边")


@st.composite
def listed_names(draw: st.DrawFn, *, grammar_surnames: bool = True) -> str:
    """A surname from the list (single or compound) and a given name of one or two characters.

    Not a frequent word, nor starting with one: 陆军 (army), 明丽 (bright) and 陆军杰 read as
    the word wherever they stand, unless a cue says otherwise.
    """
    single, compound = surnames()
    if not grammar_surnames:
        single = single - GRAMMAR_SURNAMES
    surname = draw(st.sampled_from(sorted(single | compound)))
    given_name = draw(st.text(alphabet=st.sampled_from(_GIVEN), min_size=1, max_size=2))
    name = surname + given_name
    assume(all(word_freq(name[:k]) < FREQUENT_WORD for k in range(2, len(name) + 1)))
    return name


@_SETTINGS
@given(name=listed_names(), phone=written_mobiles(), marker=st.sampled_from(["", "1. ", "（2）"]))
@example(name="向艳丽", phone=("13000000000", "130 0000 0000"), marker="")  # 向 + 艳丽 (a word)
def test_a_name_on_a_contact_line_is_always_masked(
    name: str, phone: tuple[str, str], marker: str
) -> None:
    text = f"反映情况如下：\n{marker}{name} {phone[1]}\n请核实。"
    result = redact(text)
    assert name not in result.text
    assert leak_scan(result.text) == []
    _assert_well_formed(text, result)


@_SETTINGS
@given(
    first=listed_names(grammar_surnames=False),
    second=listed_names(grammar_surnames=False),
    third=listed_names(grammar_surnames=False),
)
def test_every_item_of_a_list_with_a_name_in_it_is_masked(
    first: str, second: str, third: str
) -> None:
    text = f"当事人{first}、{second}、{third}等人到场。"
    result = redact(text)
    for name in (first, second, third):
        assert name not in result.text
    assert result.text.endswith("等人到场。")
    _assert_well_formed(text, result)


_PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"


@st.composite
def plates(draw: st.DrawFn) -> str:
    """A licence plate as written: province, office letter, optional dot, five or six characters."""
    province = draw(st.sampled_from("渝川京沪粤苏浙鄂湘贵云陕"))
    region = province + draw(st.sampled_from(_PLATE_LETTERS))
    digits = draw(st.text(alphabet="0123456789", min_size=3, max_size=6))
    letters = draw(st.text(alphabet=_PLATE_LETTERS, max_size=6 - len(digits)))
    serial = "".join(draw(st.permutations(digits + letters)))
    if len(serial) < 5:
        serial += "0" * (5 - len(serial))
    return region + draw(st.sampled_from(["", "·", " "])) + serial


@_SETTINGS
@given(before=surroundings, after=surroundings, plate=plates())
def test_generated_plates_are_always_masked(before: str, after: str, plate: str) -> None:
    text = before + plate + after
    result = redact(text)
    assert plate not in result.text
    [span] = [s for s in result.spans if s.kind == "plate"]
    assert (span.start, span.end) == (len(before), len(before) + len(plate))
    assert span.replacement.startswith(plate[:2])
    assert leak_scan(result.text) == []
    _assert_well_formed(text, result)


@_SETTINGS
@given(
    before=surroundings,
    after=surroundings,
    number=id_numbers(),
    grade=st.tuples(st.sampled_from("1234567"), st.sampled_from("1234")),
)
def test_generated_disability_certificate_numbers_are_always_masked(
    before: str, after: str, number: str, grade: tuple[str, str]
) -> None:
    written = number + "".join(grade)
    text = before + written + after
    result = redact(text)
    assert written not in result.text
    assert number not in result.text
    assert leak_scan(result.text) == []
    _assert_well_formed(text, result)


_ANY_TEXT = st.text(
    alphabet=st.sampled_from(_HAN[:80] + _PUNCT + "0123456789Xx@.-+()（）号栋室单元楼路 abc渝AD·"),
    max_size=120,
)


@_SETTINGS
@given(text=_ANY_TEXT)
def test_any_redacted_text_passes_the_leak_scan(text: str) -> None:
    result = redact(text)
    _assert_well_formed(text, result)
    # Only the crude rule may still object: a long digit run no pattern reads as personal
    # (12345678901 without a cue) is left by the redaction and refused for a person to see.
    leaks = leak_scan(result.text)
    assert {leak.pattern for leak in leaks} <= CRUDE_PATTERNS
    assert all(result.text[leak.start : leak.end] in text for leak in leaks)


@_SETTINGS
@given(text=_ANY_TEXT)
def test_redaction_is_idempotent_on_its_own_output(text: str) -> None:
    once = redact(text).text
    assert {leak.pattern for leak in leak_scan(redact(once).text)} <= CRUDE_PATTERNS
