"""What the words around a found house number say: a dwelling, or a building, a count, a shop.

`addresses.py` finds the number shapes; this module reads their context. A lone building
number (`5栋`) names a building of dozens of households and stays when the sentence treats it
as a building (its front, its lift, a shop in it, a range of buildings, a count); it is masked
whenever someone is said to live there, and whenever nothing tells (Art. 24: a private
address left in clear is worse than a false mask).
"""

from __future__ import annotations

import re

_CLAUSE_STOP = "，。！？；,!?;\n"
_CLAUSE_REACH = 30

# Someone lives there: 家住/住在 …, 我是 …… 的住户, 我们是 …… 业主.
_RESIDENCE_BEFORE = re.compile(
    r"(?:住(?![宅户建房院])|我家|我们家|他家|她家|我是|我们是|本人是|本人系|我系)"
)
_FIRST_PERSON = re.compile(r"(?:我|本人|咱)")
_DWELLERS_AFTER = re.compile(r"的?(?:住户|业主|居民|户主|租户|房东)")
# The sentence treats the number as a building: its parts and surroundings, people or shops
# in it, another building next to it (18栋和19栋, 14栋到18栋, 9栋5栋).
_BUILDING_AFTER = re.compile(
    r"(?:楼下|楼前|楼后|楼上|楼顶|楼道|楼梯|顶层|对面|旁边|附近|后面|前面|侧面|之间|门口|"
    r"车道|电梯|地下|住宅楼|大楼|高层|(?:[A-Da-d]级)?危房|危楼|外墙|的?车主|的?业主们|业主所有|"
    r"(?:为|是)一栋|"
    # ... or as a body of households that acts or is dealt with (与19栋协商, 19栋多次封堵)
    r"多次|没有地下|协商|达成|商量|谈判|"
    r"(?:[和与及、到至]|\s)?[\dA-Za-z一二三四五六七八九十]{1,3}[栋幢])"
)
# A count or a plan, not a place: 共8栋, 一期5栋已建成, 规划16栋, 开了2栋.
_COUNT_BEFORE = re.compile(r"(?:共|总共|一共|合计|计|有|建成|建了|规划|开了|[到至和、])$")
_COUNT_AFTER = re.compile(r"(?:已建成|已建|在建|建成|已交付|交付|未建)")
# A shop, an office or a firm in that building: its place is on its signboard.
_BUSINESS_AFTER = re.compile(
    r"[^，。！？；,!?;\n]{0,10}?(?:商铺|门面|门店|铺面|住改商|新?开了?一家|有一家|店|馆|公司|会所|"
    r"餐厅|饭店|酒店|宾馆|超市|药房|诊所|餐饮|小吃|摊|厂)"
)
# On a floor or in a numbered unit only the words of a shop unit or a firm count: a 麻将馆 in
# 17栋1楼 may well be someone's flat.
_SHOP_FLOOR_AFTER = re.compile(
    r"[^，。！？；,!?;\n]{0,10}?(?:商铺|门面|门店|铺面|底商|住改商|新?开了?一家|公司|超市|酒店|宾馆)"
)
# ... and a unit that a shop has just opened in (b栋112新开了一家…) is that shop's.
_SHOP_UNIT_AFTER = re.compile(r"的?(?:商铺|门面|门店|铺面|底商)|新?开了?一家")
# The street number of a named estate, building or firm (东风路382号上园小区, 白沙路10号某某
# 大药房) says no more than the name, which stays.
_NAME_CHAR = r"(?:[\u4e00-\u9fffA-Za-z0-9](?<![的了是在我你他她们家住有和与及被把对向从]))"
_NAMED_PLACE_AFTER = re.compile(
    rf"(?:的|[（(]原?)?{_NAME_CHAR}{{1,8}}?(?:小区|花园|家园|公寓|大厦|广场|中心|商城|商场|"
    r"市场|宿舍|药房|药店|超市|酒店|宾馆|公司|工厂|工地|厂|商行|门诊|诊所|医院|学校|幼儿园|"
    r"大楼|写字楼|苑|园|城|府)"
)
_ADDRESS_WORD = re.compile(r"门牌|地址|住址|家住|住在|居住|户籍")
_FLAT_LATER = re.compile(
    r"[^，。！？；,!?;\n]*?(?:[\dA-Za-z一二三四五六七八九十] ?(?:栋|幢|座|单元|室)|\d-\d)"
)
# What follows makes the run no address: a flat's layout (05户型), an item of a document
# (2-2-1项), a list of document numbers (37号55号77号文件).
_NOT_ADDRESS_AFTER = re.compile(
    r"(?:型|项|条|款|(?:[、，,和及与]?\d{1,5}号)*(?:文件|文|令|通知|公告))"
)
# A house number renamed in passing: 23号（后改为28号）, 原18号.
_RENAMED_BEFORE = re.compile(r"(?:[（(]|^)(?:原|现|后|已)?(?:改为|改成|更名为|原为|现为|原)$")


def _clause_start(norm: str, start: int) -> int:
    reach = max(0, start - _CLAUSE_REACH)
    stops = [norm.rfind(ch, reach, start) for ch in _CLAUSE_STOP]
    return max([reach - 1, *stops]) + 1


def lived_in(norm: str, start: int, end: int) -> bool:
    """Whether the clause says someone lives at the number (家住…, 我是…的住户)."""
    before = norm[_clause_start(norm, start) : start]
    if _RESIDENCE_BEFORE.search(before):
        return True
    return bool(_FIRST_PERSON.search(before)) and _DWELLERS_AFTER.match(norm, end) is not None


def building_kept(norm: str, start: int, end: int) -> bool:
    """Whether a lone building number is spoken of as a building, a count or a shop's place."""
    if lived_in(norm, start, end):
        return False
    if _BUILDING_AFTER.match(norm, end) or _COUNT_AFTER.match(norm, end):
        return True
    clause = norm[_clause_start(norm, start) : start]
    if _COUNT_BEFORE.search(clause) or _BUSINESS_AFTER.match(norm, end):
        return True
    # 18栋和[19栋]: the second building of a pair or a range
    return re.search(r"[\dA-Za-z一二三四五六七八九十][栋幢][和与及、到至]$", clause) is not None


def business_at(norm: str, start: int, end: int, *, unit_number: bool) -> bool:
    """Whether a shop or a firm is said to be at the number, and no one to live there.

    Only for a building's unit or floor (5栋105商铺, 49号一楼住改商), and with a unit's number
    (5栋105) only a shop unit's own word counts: a bare street number with a shop
    (某路16号附9号有一家诊所) may be a private house with a shop front, and is masked.
    """
    shop = (_SHOP_UNIT_AFTER if unit_number else _SHOP_FLOOR_AFTER).match(norm, end)
    return shop is not None and not lived_in(norm, start, end)


def estate_number(norm: str, start: int, end: int) -> bool:
    """Whether a street number is only that of the named estate, building or firm after it.

    Not when the clause gives it as an address (地址：…, 家住…) or goes on to a flat in that
    estate (…某某城6期8栋12-3): then it is part of someone's address.
    """
    name = _NAMED_PLACE_AFTER.match(norm, end)
    if name is None or _ADDRESS_WORD.search(norm[_clause_start(norm, start) : start]):
        return False
    return _FLAT_LATER.match(norm, name.end()) is None


def not_an_address_after(norm: str, end: int) -> bool:
    """Whether what follows makes the run a layout, an item or a document number."""
    return _NOT_ADDRESS_AFTER.match(norm, end) is not None


def renamed_number(norm: str, start: int) -> bool:
    """Whether a lone `N号` gives a house number's other name: （后改为28号）."""
    return _RENAMED_BEFORE.search(norm, max(0, start - 6), start) is not None


def dwellers_after(norm: str, end: int) -> bool:
    """Whether the owners or tenants of the number follow it (304房业主)."""
    return _DWELLERS_AFTER.match(norm, end) is not None


def same_home_clause(norm: str, start: int, spans: list[tuple[int, int]]) -> bool:
    """Whether the clause says someone lives at an address it has just masked (住在5栋…的三楼)."""
    clause = _clause_start(norm, start)
    earlier = any(clause <= s and e <= start for s, e in spans)
    return earlier and _RESIDENCE_BEFORE.search(norm, clause, start) is not None


def counted(norm: str, start: int) -> bool:
    """Whether a count or a range leads to the number (共 …, 14栋到18栋966户)."""
    return _COUNT_BEFORE.search(norm[_clause_start(norm, start) : start]) is not None
