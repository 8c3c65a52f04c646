"""Word lists for telling person names from other words: surnames, cues, titles, stop characters."""

from __future__ import annotations

import functools
import re
from pathlib import Path

SURNAMES_FILE = Path(__file__).resolve().parent / "data" / "surnames.txt"


@functools.cache
def surnames() -> tuple[frozenset[str], frozenset[str]]:
    """(single, compound) surnames from the shipped data file."""
    single: set[str] = set()
    compound: set[str] = set()
    for line in SURNAMES_FILE.read_text(encoding="utf-8").splitlines():
        word = line.strip()
        if not word or word.startswith("#"):
            continue
        (compound if len(word) == 2 else single).add(word)
    return frozenset(single), frozenset(compound)


def surname_len(text: str, pos: int) -> int:
    """Length of the surname starting at `pos` (2 for 欧阳, 1 for 张), 0 if none."""
    single, compound = surnames()
    if text[pos : pos + 2] in compound:
        return 2
    return 1 if text[pos : pos + 1] in single else 0


def is_cjk(ch: str) -> bool:
    """A CJK unified ideograph."""
    return "\u4e00" <= ch <= "\u9fff"


# Cues after which a name follows and recall wins: the writer says who someone is.
STRONG_CUES = (
    "我叫", "我名叫", "名叫", "本人叫", "本人姓名", "姓名", "联系人", "落款",
    "举报人", "投诉人", "反映人", "反应人", "来信人", "写信人", "申请人", "当事人", "收件人",
    "经办人",
    "承办人", "负责人", "办理人", "受理人", "接待人", "记录人", "审核人", "签发人", "答复人",
    "法定代表人", "法人代表", "企业法人", "法人", "此致敬礼", "敬礼",
)  # fmt: skip
# Roles after which a name often follows; the candidate must also look like a name.
ROLE_CUES = (
    "本人", "我是", "经理", "总经理", "店长", "老板", "老板娘", "师傅", "主任", "科长", "处长",
    "局长", "队长", "组长", "书记", "村长", "站长", "所长", "院长", "校长", "厂长", "老师", "医生",
    "护士", "律师", "民警", "警官", "保安", "司机", "快递员", "业务员", "销售", "会计", "员工",
    "工作人员", "客服", "邻居", "同事", "丈夫", "妻子", "老公", "老婆", "儿子", "女儿", "父亲",
    "母亲", "爱人", "朋友", "房东", "业主", "租户", "租客", "网格员", "社工", "专员", "职员",
    "董事长", "主管", "领班", "前台", "中介", "户主", "同志", "居民", "村民", "市民", "代理人",
    "委托人", "工程师", "老人", "家属", "学生", "患者", "顾客", "消费者",
    "顾问", "科员", "干部", "店员", "群主", "摊主", "骑手", "教练", "设计师", "催收员", "安检员",
    "包工头", "车主", "班主任", "副校长", "家长", "二房东", "售货员", "收银员", "服务员", "导购",
    "技师", "厨师", "保洁", "保姆", "城管", "协管员", "辅警", "执法人员", "执法队员", "副主任",
    "副局长", "副经理", "经纪人", "推销员", "维修工", "乘客", "学员", "住户", "嫌疑人", "团长",
    "楼长", "班长", "医师", "大师",
)  # fmt: skip
# Titles after a name: 王建国经理, 刘洋先生. Also stop a given name: 张先生 has none.
TITLES = (
    "先生", "女士", "小姐", "同志", "经理", "总经理", "店长", "老板", "师傅", "主任", "科长",
    "处长", "局长", "书记", "老师", "医生", "大夫", "护士", "律师", "警官", "阿姨", "大爷", "大妈",
    "叔叔", "大叔", "大姐", "大哥", "教授", "工程师", "会计", "老总", "董事长", "厂长", "院长",
    "校长", "所长", "站长", "队长", "组长", "村长", "部长", "主管", "专员", "女儿", "儿子", "夫妇",
    "一家", "家属", "本人", "同学", "老人", "老太", "老汉", "某", "主席", "总理", "总书记",
    "市长", "县长", "区长", "镇长", "乡长", "省长", "厅长", "大师",
)  # fmt: skip
TITLE_RE = re.compile("|".join(sorted(TITLES, key=len, reverse=True)))
_CUE_GAP = r"(?:[:：]|\s|是|为|叫|名叫|姓名)*"
STRONG_CUE_RE = re.compile(
    "(?:"
    + "|".join(sorted(STRONG_CUES, key=len, reverse=True))
    + r")[!！,，。.]?"
    + _CUE_GAP
    # 签名时出错 is not a signature: these words count as cues only before a colon or a space.
    + r"|(?:签名|署名|具名)[:：\s]+"
)
ROLE_CUE_RE = re.compile(
    "(?:" + "|".join(sorted(ROLE_CUES, key=len, reverse=True)) + ")" + _CUE_GAP
)

# Characters that cannot start (or continue) a given name: grammar words, kinship and rank
# words (张总, 李姐), 姓 (李姓女士: the surname alone), and 某 of already masked names (李某某
# stays).
NOT_GIVEN = frozenset(
    "某的了是在和与及等说讲称问们氏也就又还不没很太更最已曾将要会能可把被让给向对从跟同于为以而但却"
    "并或之其这那此每各该本我你他她它谁啥么呢吗吧啊呀哦嗯到去来说道讲姓"
    "，。！？；：、,.!?;:（）()【】《》“”\"' \t\n"
)
# ... except inside a name the segmenter's HMM read as one unknown word: 温可欣, 李以琳, 王之恒.
SOFT_GIVEN = frozenset("可以之其若亦如然")
# 促, 办 alone: 催促, 催办 misspelt with the surname 崔.
NOT_GIVEN_ALONE = frozenset("家总工局处科姐哥叔姨伯婆爷奶嫂妹弟老师生女某经主副促办")

# A candidate followed by one of these is a place or an organisation: 金开大道, 杨家坪步行街.
PLACE_AFTER = re.compile(
    r"(?:区|县|市|省|州|镇|乡|村|路|街|巷|大道|广场|步行街|天街|商场|超市|公司|集团|小区|花园|"
    r"大厦|中心|医院|学校|大学|中学|小学|银行|市场|酒店|宾馆|饭店|餐厅|火锅|店|城|桥|站|坪|坝|湾|"
    r"家园|公寓|苑|园|郡|寺|庙|山|湖|港|机场|码头|景区|新区|片区|街道|社区|委员会|语|"
    # ... or a document's issuer: 某农发〔2020〕7号 (not round brackets: 张某（1965）)
    r"[〔［\[【]\d{4}[〕］\]】])"
)
# A candidate that ends in one of these is itself a place: 张家界, 王府井, 高新区.
PLACE_END = frozenset(
    "区县市省州镇乡村庄屯路街道巷桥坪坝井界湖山河江海湾港岛城园苑站场寺庙宫塔门口沟岭峰坡洞溪塘池泉"
    "林台阁楼院所厂店馆堂府营关铺沱塅"
)
# Brands, estates and places a surname list would take for people.
NOT_NAMES = frozenset(
    "万达 万科 金科 龙湖 融创 鲁能 华润 恒大 保利 中海 苏宁 国美 永辉 李宁 王老吉 周黑鸭 "
    "张亮麻辣烫 "
    "杨国福 海底捞 刘一手 秦妈 德庄 华为 小米 钱大妈 黄桷坪 黄桷垭 石桥铺 杨家坪 沙坪坝 李家沱 "
    "陈家桥 张家界 王府井 高新区 江北 江北区 南坪 万州 黄山 金佛山 武隆 白市驿 龙门阵 谢谢 "
    "马上 高兴 江南 白色 黄金 方便 程序 任何 安全 文件 司马 欧阳 诸葛 上官 东方 皇甫 尉迟 "
    "麦克风 公孙 慕容 令狐 长孙 宇文 司徒 夏侯 轩辕 端木 独孤 南宫 西门 百里 呼延 国家 国务院 "
    "万元 千元 百元 余元 余额 余款 白天 黄色 蓝色 金额 金融 金牌 高速 高铁 高中 高校 高层 "
    "马路 车辆 车主 车位 石油 石材 文化 文明 文旅 方案 方面 方式 常规 常务 史上 时间 时候 "
    "毛病 牛奶 江湖 钱款 钟点 钟表 尚未 关于 关键 连续 连锁 申请 申报 包装 包括 华润万家 "
    "区块链 时祺 商祺 近祺 台祺 钧安"
    .split()
)  # fmt: skip
# Leaders and historical figures a letter quotes; the NER knows them as persons, but they are
# no private data (落实习近平总书记…, 张飞奉刘备之命). A cue that names someone (我叫…) wins.
PUBLIC_FIGURES = frozenset(
    "习近平 习大大 李克强 李强 毛泽东 毛主席 邓小平 周恩来 江泽民 胡锦涛 温家宝 朱镕基 马云 "
    "马化腾 孙中山 鲁迅 孔子 孟子 老子 庄子 朱熹 屈原 李白 杜甫 苏轼 王安石 曾国藩 左宗棠 "
    "刘备 关羽 张飞 曹操 诸葛亮 岳飞 雷锋 焦裕禄 袁隆平 钟南山"
    .split()
)  # fmt: skip
# After a person the NER proposes, these make it a person whatever its margin (以侯强为首,
# 王刚等人, 王刚等3人): a group is led by or counted from a person; 周某您好 greets one.
PERSON_AFTER = re.compile(r"为首|等人|等[0-9一二三四五六七八九十几多]+人|一伙|一行|您好|你好")
# A word that one of these follows anywhere in the letter is an organisation's or a place's
# name throughout (邵安房地产 … 开发商邵安; 罗滋村 … 罗滋进行的销售; 卫计生委; 韦基小吃).
ORG_AFTER = re.compile(
    PLACE_AFTER.pattern
    + r"|房地产|置业|物业|实业|科技|小吃|中路|北路|南路|东路|西路|世家|委(?![托屈婉派任])"
)
# A candidate in a list that these close is a place or a firm: 黄辰、鸭嘴铺等地.
PLACE_LIST_AFTER = re.compile(
    r"(?:[、，,][\u4e00-\u9fff]{2,6}){1,8}等(?:地|区域|地区|片区|村|乡镇|镇|小区|街道|社区|"
    r"楼盘|单位|公司|企业|厂家|品牌|厂|商家)"
)
# Single-character tags that mark a grammar word, not a surname: 向(p) 和(c) 于(p).
GRAMMAR_FLAGS = frozenset("p c d u uj ul uz ud ug uv r m q y e o f t".split())
# 小刘, 老王, 阿张: a surname with one of these before it is a nickname, not a full name.
NICKNAME_PREFIXES = frozenset("小老阿")
# Surnames that are also everyday words (处理单, 时未, 方面, 路过): without a cue they need more
# than the segmenter's say-so, so the cue-less paths skip them.
AMBIGUOUS_SURNAMES = frozenset(
    "单时和于向从同常能将才为以开关查管解区过连应宁全安成明文方平相利国由信付代计冷强元初云花水路车"
    "门那都来东南西北上下中左右前原先师商司曲麻谷包甘党公项位吉"
)
# What comes right after a two-character name found without a cue (王刚带着…, 王刚说).
NAME_FOLLOW = frozenset(
    "说和与在带等是也把给对打来去让告表称讲问找跟同又就都还却已曾将要会能可被向从，、。；！？："
)
# A "surname" right after these is a measure word or part of a phrase: 这张卡, 一周后.
NOT_BEFORE_NAME = frozenset("这那一两几每哪某此该")
