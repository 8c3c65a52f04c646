"""Hand-written letters for the redaction tests, unlike the templated dev set.

Each letter lists its secrets (must be masked: covered by spans and absent from the output)
and its keeps (must survive unchanged). Numbers get valid check digits from `id_number` and
`bank_card`, so the letters stay readable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(first17: str) -> str:
    """An 18-digit ID number with its ISO 7064 MOD 11-2 check digit."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return first17 + "10X98765432"[total % 11]


def bank_card(body: str) -> str:
    """A card number with its Luhn check digit appended."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


def spaced(number: str, groups: tuple[int, ...], sep: str = " ") -> str:
    """`number` split into groups of the given sizes."""
    out, pos = [], 0
    for size in groups:
        out.append(number[pos : pos + size])
        pos += size
    return sep.join(out)


@dataclass(frozen=True)
class Letter:
    """A letter with what must go and what must stay."""

    text: str
    secrets: tuple[str, ...]
    keeps: tuple[str, ...] = ()
    person: dict[str, str] = field(default_factory=dict)


ID_X = next(n for i in range(100) if (n := id_number(f"500103198506211{i:02d}")).endswith("X"))
ID_SPACED = id_number("51010219900101123")
ID_OWN = id_number("50010619550101123")
CARD = bank_card("622202123456789012")
CARD_SPACED = spaced(bank_card("621700001001234567"), (4, 4, 4, 4, 3))

LETTERS: tuple[Letter, ...] = (
    Letter(
        text=(
            "市商务委领导：\n  你们好！本人系渝北区龙溪街道金龙路28号附3号住户，今年3月在小区门口的"
            "“好再来”超市购买了一箱牛奶（订单号202603150001），回家发现已经过期。当时店长李国强"
            "态度恶劣，拒绝退换。我拨打12315投诉后，工作人员陈晓东说会转给你们处理，但至今没有消息。"
            f"请尽快处理！\n联系电话：139-2345-6789\n身份证：{ID_X}\n落款 欧阳娜娜\n2026年10月1日"
        ),
        secrets=("28号附3号", "李国强", "陈晓东", "139-2345-6789", ID_X, "欧阳娜娜"),
        keeps=("渝北区龙溪街道金龙路", "订单号202603150001", "12315", "2026年10月1日", "好再来"),
    ),
    Letter(
        text=(
            "张先生：您好！您反映的问题已收悉。经查，重庆某某商贸有限公司确实存在销售过期食品行为。"
            "我局执法人员刘洋、王建军于2026年10月8日到现场核查，依据《中华人民共和国食品安全法》"
            "第一百二十四条，对该公司处以罚款5000元。如有疑问，可拨打12345热线咨询。"
            "渝中区市场监督管理局 2026年10月10日"
        ),
        secrets=("刘洋", "王建军"),
        keeps=(
            "张先生", "第一百二十四条", "5000元", "12345", "2026年10月8日", "渝中区市场监督管理局",
            "重庆某某商贸有限公司", "《中华人民共和国食品安全法》",
        ),
    ),
    Letter(
        text=(
            "我家住在南岸区南坪东路阳光小区5-2-301，楼上邻居叫黄志勇，天天半夜装修。物业经理王建国说"
            "管不了。我老公打了他电话18623456789也没人接。隔壁王阿姨也被吵得睡不着。希望你们管一管！"
            f"我的邮箱：nanping_resident@163.com，银行卡{CARD}（补偿款打这里）。"
        ),
        secrets=(
            "5-2-301", "黄志勇", "王建国", "18623456789", "nanping_resident@163.com", CARD,
        ),
        keeps=("南岸区南坪东路阳光小区", "王阿姨"),
    ),
    Letter(
        text=(
            "尊敬的领导：我公司主营家电销售。2026年9月起，按照《关于开展家电以旧换新工作的通知》"
            "（渝商务发〔2026〕12号）申报补贴，共计1.5万元，至今未到账，占应收款的15%。"
            "联系人：诸葛亮亮，手机 +86 135 0000 1234，座机（023）67891234。"
        ),
        secrets=("诸葛亮亮", "135 0000 1234", "67891234"),
        keeps=("渝商务发〔2026〕12号", "1.5万元", "15%", "2026年9月"),
    ),
    Letter(
        text=(
            "我父亲张德明今年78岁，住在沙坪坝区三峡广场附近的12栋3单元502室。他在一家保健品店被推销员"
            "小刘骗买了3000元的保健品，店老板赵总说不退。我是他女儿，电话15912345678，"
            f"身份证号码{ID_OWN}。"
        ),
        secrets=("张德明", "12栋3单元502室", "15912345678", ID_OWN, "张丽"),
        keeps=("沙坪坝区三峡广场", "3000元", "78岁", "小刘", "赵总"),
        person={"name": "张丽", "phone": "159 1234 5678", "id_number": ID_OWN},
    ),
    Letter(
        text=(
            f"投诉人：上官婉儿 身份证 {spaced(ID_SPACED, (6, 8, 4))} 电话 (028)8765-4321 "
            f"旧证号 510102900101123 卡号 {CARD_SPACED}。某某小区3号楼的电梯坏了一个月。"
        ),
        secrets=(
            "上官婉儿", spaced(ID_SPACED, (6, 8, 4)), "8765-4321", "510102900101123", CARD_SPACED,
            "3号楼",
        ),
        keeps=("某某小区",),
    ),
    Letter(
        text=(
            "经查，当事人李某某于2026年3月在小区违规搭建，执法队员张某已责令整改，"
            "并依据第3条、第二十四条处理。"
        ),
        secrets=(),
        keeps=("李某某", "张某", "第3条", "第二十四条", "2026年3月"),
    ),
    Letter(
        text=(
            "感谢社区医院的陈红梅医生和代理律师孙立平的帮助，也感谢网格员周杰同志。"
            "经办人刘洋已于10月1号回访。"
        ),
        secrets=("陈红梅", "孙立平", "周杰", "刘洋"),
        keeps=("社区医院", "10月1号"),
    ),
    Letter(
        text=(
            "我从张家界旅游回来，在王府井买的东西，又去了黄桷坪和高新区，江北区的朋友推荐了龙湖天街"
            "和万达广场。渝中区商务委员会和市商务委都说这不归他们管，地铁1号线也停了。"
        ),
        secrets=(),
        keeps=(
            "张家界", "王府井", "黄桷坪", "高新区", "江北区", "龙湖天街", "万达广场",
            "渝中区商务委员会", "市商务委", "1号线",
        ),
    ),
    Letter(
        text=(
            "我叫司马光明，住址：九龙坡区杨家坪正街2号2栋2单元1808室。2026-10-01 20:30在步行街"
            "的火锅店吃饭，账单1288元，店长说可以打八折。电话：+86-13712345678，"
            "邮箱 SIMA.GM@Example.COM。"
        ),
        secrets=("司马光明", "2号2栋2单元1808室", "13712345678", "SIMA.GM@Example.COM"),
        keeps=("九龙坡区杨家坪正街", "2026-10-01", "20:30", "1288元"),
        person={"name": "司马光明", "email": "sima.gm@example.com", "address": "杨家坪正街2号"},
    ),
)  # fmt: skip
