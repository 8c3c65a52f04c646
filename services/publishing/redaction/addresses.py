"""House-number parts of addresses (门牌号码): Art. 24 hides them, district and street stay.

`民族路118号` loses `118号`; `金科世界城8栋2786室` loses `8栋2786室`; `渝办发〔2008〕108号`,
`108号文件`, `10月1号` and `3号线` keep theirs, because a lone `N号` counts only right after a
street-like word.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

from services.publishing.redaction.address_context import (
    building_kept,
    business_at,
    counted,
    dwellers_after,
    estate_number,
    lived_in,
    not_an_address_after,
    renamed_number,
    same_home_clause,
)
from services.publishing.redaction.patterns import Hit, after_business_cue

# A number, a letter, both (a14栋, 5B栋) or Chinese numerals; one space may stand before the
# unit (5 栋 201 房, 门面148 号).
_NUM = (
    r"(?:(?<![\d.A-Za-z])[A-Za-z]?\d{1,5}[A-Za-z]?(?![\dA-Za-z])|(?<![A-Za-z])[A-Za-z]"
    r"|[一二三四五六七八九十百零〇两]{1,4})"
)
UNIT_RE = re.compile(
    rf"(?P<pre>附|之)?(?P<num>{_NUM}) ?"
    r"(?P<suf>号楼|号院|号栋|号|栋|幢|座|单元|楼|层|室|房间|房|户|弄|舍|区(?=\s?[\dA-Za-z一二三四五六七八九十]{1,3}[栋幢座]))"
    r"(?P<tail>(?:-\d{1,4}){0,2})"
)
# Building number and flat glued by a hash: 6#4401.
HASH_RE = re.compile(r"(?<![\dA-Za-z#])\d{1,3}#\d{3,4}(?![\d#])")
TRIPLE_RE = re.compile(r"(?<![\d\-.])(\d{1,3})-(\d{1,2})-(\d{1,4})(?![\d\-])(?:号|室)?")
DOUBLE_RE = re.compile(r"(?<![\d\-.])\d{1,3}-\d{1,4}(?![\d\-])(?:号|室)?")
# A flat named only by its number, next to the writer's: `楼上602住的是…`, `隔壁1203`.
NEIGHBOUR_ROOM_RE = re.compile(
    r"(?:楼上|楼下|隔壁|对门|对面|斜对门)的?"
    r"(?P<room>[1-9]\d{2,3})(?![\d.%元万千百号栋幢座楼层室户年月日岁个人次米平分秒])"
)
# A room number written bare after a building or unit: `A座1203`, `3单元502`.
BARE_ROOM_RE = re.compile(
    r" ?\d{1,5}(?:-\d{1,4}){0,2}(?![\d.%元万千百号栋幢座楼层室户年月日岁个人次])"
)

# A lone `N号` is a house number only after one of these (the end of a street or estate name).
_STREET_END = frozenset("路街道巷里村社组队弄院苑园城庭府寓厦墅湾居坊镇乡庄屯坝坪湖桥舍宅")
_STREET_END_WORDS = (
    *("小区", "花园", "家园", "公寓", "大厦", "广场", "新村", "社区", "胡同", "大道"),
    *("居民点", "安置点", "门面", "门市", "铺面"),
)
# A house number in Chinese numerals (正街十八号) only after a street's own ending or an address
# cue: 十八号 alone is far more often a date.
_CHINESE_STREET_END = frozenset("路街道巷里弄")
_CHINESE_GROUP_END = re.compile(r"[\d一二三四五六七八九十]组$")  # 村五组十八号: a village group
# Words that end like a street but are none: 家里15号停水, 知道二十号要交.
_NOT_STREET = re.compile(r"(?:[这那哪家心夜屋手梦眼店]里|[知报难频渠味]道|[逛满过]街)$")
_ADDRESS_CUE = re.compile(r"(?:门牌|地址|住址|家住|住在|居住在|户籍地)[^，。！？；,.!?;\n]*$")
_ADDRESS_CUE_REACH = 24
_PUBLIC_ADDRESS_REACH = 40
# The address of a public body is published on purpose: 调解委员会（地址：人和街74号）,
# 向调解委员会申请调解（地址：…）.
_PUBLIC_ADDRESS_CUE = re.compile(
    r"(?:委员会|管委会|局|中心|医院|法院|检察院|政府|办事处|派出所|大厅|支行|分行|营业厅|服务站)"
    r"(?:[^，。！？；,!?;\n]{0,10}[（(]|[（(]?)(?:办公)?(?:地址|地点)(?:[:：]|在|位于|为)?"
    r"[^，。！？；,!?;\n（）()]*$"
)
# ... and not when what follows makes it a line, a document, a count or a part of a building
# open to the public (3号门, 2号馆, 5号口); `8号路` is a street's own name.
_NOT_HOUSE_AFTER = re.compile(
    r"(?:文件|文|令|线|公告|通知|字|档|窗口|台风|码头|口岸|仓|球员|场次|选手|门(?!面|市)|馆|厅|"
    r"口|车厢|站台|泊位|地块|展位|摊位|柜台|床|桌|机位|路|街|巷|大道|公路)"
)
# A firm's own address (公司（地址：…）, 注册地址：…, 某物流的员工（…路12号）) is on its licence.
_FIRM_ADDRESS_CUE = re.compile(
    r"(?:(?:注册|经营|营业|办公)(?:地址|地点|场所)|注册地|"
    r"(?:公司|厂|店|物流|集团|超市|酒店|宾馆|商行)(?:的(?:员工|职工))?[（(](?:(?:店铺|公司)?地址)?)"
    r"[:：]?(?:为|是|在|位于)?[:：]?[^，。！？；,!?;\n（）()]*$"
)
_FIRM_ADDRESS_REACH = 50
_ROOM_DIGITS = re.compile(r"\d{3,4}(?=\D*$)")
_AFTER_ROOM = (
    r"(?![\dA-Za-z.%元万千百号栋幢座楼层室户年月日岁个人次米平分秒多余来块床吨斤辆台套间级])"
    r"(?!医院|[中小]学|厂|部队|公交|路|车)"
)
_FLAT_AFTER = re.compile(rf" ?[1-9]\d{{2,3}}{_AFTER_ROOM}")
_BARE_AFTER = frozenset({"栋", "幢", "座", "单元", "楼", "号楼", "号栋", "舍"})
# Units that stand alone as a house number; 楼/层/户/号 alone are floors, counts or dates.
_ALONE_OK = frozenset({"栋", "幢", "单元", "室", "号楼", "号院", "弄", "舍"})
_LAYOUT_AFTER = re.compile(r"\d?[一二两三四五]?厅")  # 3室2厅 is a flat's layout, not a room
# A number with 房 alone (1203房每晚装修, 恢复502房通道) is a flat; 2005房补, 6080房型 are not.
_FLAT_ROOM = re.compile(r"[A-Za-z]?\d{3,4}房(?![补改型源价租产贷款屋东子]|[）)]型)")
# ... with its building glued before it (3#1602房, 6-2301房).
_BUILDING_GLUED_BEFORE = re.compile(r"(?<![\dA-Za-z\-#])[A-Za-z]?\d{1,3}[#\-]$")


class _Unit(NamedTuple):
    start: int
    end: int
    suffix: str
    arabic: bool


def _units(norm: str) -> list[_Unit]:
    found: list[_Unit] = []
    for m in UNIT_RE.finditer(norm):
        num = m.group("num")
        if m.group("suf") == "号" and _NOT_HOUSE_AFTER.match(norm, m.end()):
            continue  # 8号路, 3号门: not a unit of any address, even next to one
        found.append(_Unit(m.start(), m.end(), m.group("suf"), not _is_chinese_numeral(num)))
    for m in TRIPLE_RE.finditer(norm):
        if _date_like(m.group(1), m.group(2), m.group(3)) or after_business_cue(norm, m.start()):
            continue  # 取件码6-2-1135 is a pick-up code
        found.append(_Unit(m.start(), m.end(), "-", True))
    found.sort()
    return found


def _is_chinese_numeral(num: str) -> bool:
    return not num.isascii()


def _date_like(a: str, b: str, c: str) -> bool:
    return len(c) == 4 and c[:2] in {"19", "20"} and int(a) <= 31 and int(b) <= 12


def _street_before(norm: str, start: int) -> bool:
    if start == 0:
        return False
    if norm[start - 1] in _STREET_END:
        return True
    if any(norm.endswith(w, 0, start) for w in _STREET_END_WORDS):
        return True
    # 门牌号：88号, 住址是88号: an address cue earlier in the same clause.
    return _ADDRESS_CUE.search(norm, max(0, start - _ADDRESS_CUE_REACH), start) is not None


def _runs(norm: str, units: list[_Unit]) -> Iterator[list[_Unit]]:
    """Chains of units that touch (or are one space apart): `26号17栋4单元1702室`."""
    run: list[_Unit] = []
    for unit in units:
        if run and unit.start < run[-1].end:
            continue  # overlapping alternative reading of the same characters
        gap = norm[run[-1].end : unit.start] if run else ""
        if run and len(gap) <= 1 and gap.strip(" \t\u3000-") == "":
            run.append(unit)
            continue
        if run:
            yield run
        run = [unit]
    if run:
        yield run


def _chinese_house_number(norm: str, unit: _Unit) -> bool:
    """`正街十八号`, `地址：…一百零八号`: a lone Chinese-numeral 号 after a street or a cue."""
    if unit.suffix != "号" or unit.start == 0 or _NOT_HOUSE_AFTER.match(norm, unit.end):
        return False
    if norm.endswith("大道", 0, unit.start) or norm[unit.start - 1] in _CHINESE_STREET_END:
        return _NOT_STREET.search(norm, max(0, unit.start - 2), unit.start) is None
    if _CHINESE_GROUP_END.search(norm, max(0, unit.start - 2), unit.start):
        return True
    reach = max(0, unit.start - _ADDRESS_CUE_REACH)
    return _ADDRESS_CUE.search(norm, reach, unit.start) is not None


def _alone_is_house(norm: str, unit: _Unit) -> bool:
    if not unit.arabic:
        # 二号栋405: a flat's number makes the Chinese-numeral building an address
        flat = unit.suffix in _BARE_AFTER and _FLAT_AFTER.match(norm, unit.end) is not None
        return flat or _chinese_house_number(norm, unit)
    if unit.suffix == "-":
        return True
    if unit.suffix in {"室", "房"} and _LAYOUT_AFTER.match(norm, unit.end):
        return False
    if unit.suffix in _ALONE_OK:
        return True
    room = _FLAT_ROOM.match(norm, unit.start) if unit.suffix == "房" else None
    if room is not None and room.end() == unit.end:
        return True
    if unit.suffix in {"室", "房", "房间", "户"}:
        return dwellers_after(norm, unit.end)  # 304房业主: a household, not a lone room
    if unit.suffix == "座":
        return norm[unit.start].isalpha()
    if unit.suffix == "号":
        if _NOT_STREET.search(norm, max(0, unit.start - 2), unit.start):
            return False  # 家里15号停水: a date
        if _NOT_HOUSE_AFTER.match(norm, unit.end):
            return False
        return _street_before(norm, unit.start) or renamed_number(norm, unit.start)
    return False


def _public_address(norm: str, start: int) -> bool:
    reach = max(0, start - _PUBLIC_ADDRESS_REACH)
    if _PUBLIC_ADDRESS_CUE.search(norm, reach, start) is not None:
        return True
    firm_reach = max(0, start - _FIRM_ADDRESS_REACH)
    return _FIRM_ADDRESS_CUE.search(norm, firm_reach, start) is not None


_BUILDING_UNITS = frozenset({"栋", "幢", "座", "号楼", "号栋", "区"})
_ROOM_UNITS = frozenset({"单元", "室", "房间", "房", "户", "舍", "弄", "-"})
_SHOP_UNITS = frozenset({"栋", "幢", "座", "号楼", "号栋", "楼", "层"})
# A flat right after an estate's name: 龙湖源著1203, 学府花园A502.
ESTATE_ROOM_RE = re.compile(
    rf"(?:小区|花园|家园|公寓|新村|大厦|苑|庭|府|湾|居)(?P<room>[A-Za-z]?[1-9]\d{{2,3}}){_AFTER_ROOM}"
)
# ... or after any estate name in an address clause: 住在某某源著1203.
CUED_ROOM_RE = re.compile(rf"(?<=[\u4e00-\u9fff])(?P<room>[A-Za-z]?[1-9]\d{{2,3}}){_AFTER_ROOM}")


def _storeys(run: list[_Unit]) -> bool:
    """一栋32层: one building of 32 storeys, a description, not an address."""
    return (
        len(run) == 2
        and not run[0].arabic
        and run[0].suffix in {"栋", "幢"}
        and run[1].suffix in {"层", "楼"}
    )


def _run_span(norm: str, run: list[_Unit]) -> tuple[int, int] | None:
    """The span of a run of units, or None where the context says it is no dwelling's number."""
    if len(run) == 1 and not _alone_is_house(norm, run[0]):
        return None
    start, end = run[0].start, run[-1].end
    if _public_address(norm, start):
        return None
    bare = BARE_ROOM_RE.match(norm, end) if run[-1].suffix in _BARE_AFTER else None
    if bare:
        end = bare.end()
    if not any(u.arabic for u in run) and not bare and not _street_before(norm, start):
        return None  # 两栋楼 is a count; 阳光小区三栋二单元 and 二号栋405 are addresses
    if not_an_address_after(norm, end):
        return None  # 05户型, 2-2-1项, 37号55号77号文件
    suffixes = {u.suffix for u in run}
    if not bare and suffixes <= _BUILDING_UNITS:
        several = sum(u.suffix != "区" for u in run) > 1  # 9栋5栋3栋: a list of buildings
        kept = (several and not lived_in(norm, start, end)) or building_kept(norm, start, end)
        return None if kept else (start, end)
    if not suffixes & _ROOM_UNITS and _storeys(run):
        return None  # 一栋32层
    if (
        suffixes & _SHOP_UNITS
        and not suffixes & _ROOM_UNITS
        and business_at(norm, start, end, unit_number=bool(bare))
    ):
        return None  # 5栋105商铺, 49号一楼住改商
    if suffixes == {"号"} and len(run) == 1 and estate_number(norm, start, end):
        return None  # 东风路382号某某小区: the estate's number, its name stays anyway
    if run[-1].suffix == "户" and counted(norm, start):
        return None  # 14栋到18栋966户
    return start, end


_LONE_ROOM_RE = re.compile(rf"(?<![\dA-Za-z.\-#*])\d{{3,4}}{_AFTER_ROOM}")


def _repeated_rooms(norm: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A flat's number standing alone later in the letter (31栋103 …, 103承诺): the same flat."""
    rooms = {m.group() for s, e in spans if (m := _ROOM_DIGITS.search(norm, s, e))}
    if not rooms:
        return []
    return [
        (m.start(), m.end())
        for m in _LONE_ROOM_RE.finditer(norm)
        if m.group() in rooms and not any(s < m.end() and m.start() < e for s, e in spans)
    ]


def house_number_spans(norm: str) -> list[tuple[int, int]]:
    """(start, end) of every house-number run in a normalised text."""
    spans: list[tuple[int, int]] = []
    for run in _runs(norm, _units(norm)):
        span = _run_span(norm, run)
        if span:
            glued = _BUILDING_GLUED_BEFORE.search(norm, max(0, span[0] - 5), span[0])
            spans.append((glued.start(), span[1]) if glued else span)
    for m in DOUBLE_RE.finditer(norm):
        if _public_address(norm, m.start()):
            continue
        if _street_before(norm, m.start()) and not any(s <= m.start() < e for s, e in spans):
            spans.append((m.start(), m.end()))
    for pattern, group in ((NEIGHBOUR_ROOM_RE, "room"), (ESTATE_ROOM_RE, "room"), (HASH_RE, 0)):
        for m in pattern.finditer(norm):
            if pattern is ESTATE_ROOM_RE and _public_address(norm, m.start()):
                continue
            if not any(s < m.end() and m.start(group) < e for s, e in spans):
                spans.append((m.start(group), m.end()))
    for m in CUED_ROOM_RE.finditer(norm):
        cue = _ADDRESS_CUE.search(norm, max(0, m.start() - _ADDRESS_CUE_REACH), m.start())
        taken = any(s < m.end() and m.start() < e for s, e in spans)
        if cue and not taken and not _public_address(norm, m.start()):
            spans.append((m.start(), m.end()))
    spans.extend(_home_floors(norm, spans))
    spans.extend(_repeated_rooms(norm, spans))
    return sorted(spans)


def _home_floors(norm: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A floor in the clause that says someone lives at an address (住在5栋…的三楼)."""
    return [
        (u.start, u.end)
        for u in _units(norm)
        if u.suffix in {"楼", "层"}
        and not any(s < u.end and u.start < e for s, e in spans)
        and same_home_clause(norm, u.start, spans)
    ]


def find_house_numbers(norm: str, *, marker: str) -> Iterator[Hit]:
    """House-number runs, each replaced whole by the marker."""
    for start, end in house_number_spans(norm):
        yield Hit(start, end, "house_number", marker)


def own_address_hits(norm: str, address: str, *, marker: str) -> Iterator[Hit]:
    """In each occurrence of the writer's own address, the number part (any unit, any digits)."""
    address = address.strip()
    if len(address) < 4:
        return
    start = norm.find(address)
    while start != -1:
        end = start + len(address)
        runs = list(_runs(address, _units(address)))
        for run in runs:
            yield Hit(start + run[0].start, start + run[-1].end, "address", marker)
        if not runs:
            for m in re.finditer(r"\d[\d\-]*", address):
                yield Hit(start + m.start(), start + m.end(), "address", marker)
        start = norm.find(address, end)
    yield from _own_units_elsewhere(norm, address, marker=marker)


def _own_units_elsewhere(norm: str, address: str, *, marker: str) -> Iterator[Hit]:
    """The writer's own `38号`, `5栋` or `5栋1单元` wherever the letter names it on its own.

    A lone building number may stay when the sentence treats it as a building (楼下, 对面);
    the writer's own building never does.
    """
    pieces: set[str] = set()
    for run in _runs(address, _units(address)):
        pieces.update(address[u.start : u.end] for u in run if u.arabic)
        pieces.add(address[run[0].start : run[-1].end])
    for piece in sorted(pieces, key=len, reverse=True):
        if not any(ch.isdigit() for ch in piece):
            continue
        for m in re.finditer(rf"(?<![\dA-Za-z]){re.escape(piece)}(?![\d])", norm):
            yield Hit(m.start(), m.end(), "address", marker)
