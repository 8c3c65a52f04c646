"""Name shapes the annotated real letters showed, in sentences of our own (no real text here).

Each case stands for a class of misses or false masks found by `mailbox eval redact` on the
annotated development letters (see docs/redaction.md, *Names*).
"""

from __future__ import annotations

import pytest

from services.publishing.redaction.service import RedactionConfig, redact

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # 阿 + a given name the NER reads as a person: the given name names, 阿某 does not.
        (
            "我们的导游阿彪一路上都在催大家购物，阿彪还威胁游客。",
            "我们的导游阿某一路上都在催大家购物，阿某还威胁游客。",
        ),
        # A group's leader or head count: a person however unsure the NER is (traditional too).
        ("当晚以賴強為首的幾個人衝進了店裡。", "当晚以賴某為首的幾個人衝進了店裡。"),
        ("当晚侯强等人又来闹事，侯强还动手打人。", "当晚侯某等人又来闹事，侯某还动手打人。"),
        # A closed name after a strong cue wins over a shorter reading (丽会 is no word).
        ("我叫邱丽会，女，今年40岁。", "我叫邱某，女，今年40岁。"),
        # 反应人 (a common slip for 反映人) and 法人 name someone; trailing spaces are no name.
        ("此致　　反应人：龚磊      ", "此致　　反应人：龚某      "),
        ("公司法人覃建邦，拒不退款。", "公司法人覃某，拒不退款。"),
        # 本人 + a name that punctuation closes.
        ("本人晏光明，家住某某县。", "本人晏某，家住某某县。"),
        # A third character the NER cut off: a preposition before punctuation has no object.
        (
            "平台爆雷后，董事长邢立向（化名）和法定代表人逃往国外。",
            "平台爆雷后，董事长邢某（化名）和法定代表人逃往国外。",
        ),
        # ... or one before an adverb.
        ("隔壁饭店老板余连三竟然把招牌换了。", "隔壁饭店老板余某竟然把招牌换了。"),
        # A name that ends a signature line after a wide gap, before the date.
        (
            "以上情况请核实。\n某某县人\xa0\xa0龚平\xa0\xa0\xa0\u30002026年1月2日",
            "以上情况请核实。\n某某县人\xa0\xa0龚某\xa0\xa0\xa0\u30002026年1月2日",
        ),
        # A name that is also a word, after a strong cue: still a name.
        ("联系人：高峰，电话13812345678", "联系人：高某，电话138****5678"),
        ("物业经理吴云回复称电梯已修好。", "物业经理吴某回复称电梯已修好。"),
        # 登高 is a verb.
        ("给我看病的孙登高医生安排我做了检查。", "给我看病的孙某医生安排我做了检查。"),
        # An official addressed with the office after the name (县 starts no place here).
        ("尊敬的邹康健县长：您好！", "尊敬的邹某县长：您好！"),
        # The NER reads the surname alone: the name it starts is read from the text.
        ("请政府追究跑黑车客运吴存立的法律责任。", "请政府追究跑黑车客运吴某的法律责任。"),
        ("隔壁新华村徐开立代代占用集体土地。", "隔壁新华村徐某代代占用集体土地。"),
        # A given name in pinyin after a role or 化名: the surname stays, as for any name.
        (
            "平台实际控制人于xiao一直在群里承诺兑付，于xiao至今未露面。",
            "平台实际控制人于某一直在群里承诺兑付，于某至今未露面。",
        ),
        ("董事长邢立向（化名邢yu）逃往国外。", "董事长邢某（化名邢某）逃往国外。"),
        # A full name that cues point at in two different places (大师 before, 大师 after).
        (
            "你还记得刺绣大师单海燕吗？这些图案都是单海燕大师没有画过的。",
            "你还记得刺绣大师单某吗？这些图案都是单某大师没有画过的。",
        ),
        # A name glued between two names found elsewhere, where the NER reads one run.
        (
            "主犯吴迪已经出逃，帮手孙凯还在拉人。而主管部门对吴迪唐小孙凯默许纵容。",
            "主犯吴某已经出逃，帮手孙某还在拉人。而主管部门对吴某唐某孙某默许纵容。",
        ),
        # A year in round brackets after a name is no document's issuer.
        ("邻居张建国（1965）常年占道。", "邻居张某（1965）常年占道。"),
        # A body's name, a full name, the body's office: whether or not the NER sees it.
        ("后来新华村石国庆书记打来电话。", "后来新华村石某书记打来电话。"),
        # A signature with the writer's school between the name and the date.
        (
            "以上建议供参考。\u3000\u3000向文  某某理工大学  机械专业\u3000\u30002020年3月2日",
            "以上建议供参考。\u3000\u3000向某  某某理工大学  机械专业\u3000\u30002020年3月2日",
        ),
    ],
)
def test_names_the_real_letters_showed_are_masked(text: str, expected: str) -> None:
    assert redact(text).text == expected


@pytest.mark.parametrize(
    "text",
    [
        # An organisation's or a place's ending after one occurrence clears the word throughout.
        "楼下新开的韦基小吃油烟很大，韦基每天营业到凌晨。",
        "罗滋村的村民反映，罗滋进行的销售活动欺骗老人。",
        "区卫计生委的答复没解决问题，只好再找卫计生委。",
        # Places in a list that 等地 closes.
        "河东岸的黄辰、梅林、鸭嘴铺等地防汛压力大。",
        # Doubled words and everyday words missing from the dictionary.
        "全国有许许多多的志愿者在帮忙。",
        "他们假借区块链之名非法集资。",
        "此致，顺颂时祺！",
        # Leaders and historical figures, on every path (总书记 is also a title).
        "我们要认真落实习近平总书记的指示。",
        "传说张飞奉刘备之命曾来此地。",
        # A scholar quoted in a public statement with their institution.
        "中国某某学会赵启明教授指出，长期辐射有害健康。",
        # After 本人 or 法人, a conjunction or a preposition before a word is no surname.
        "作为本人和家人，我们都不同意。",
        "本人于今年 2月12号去办事。",
        "只能用银行卡缴纳本人党费，很不方便。",
        # A verb after a strong cue is no name; a surname with an office's title says no more
        # than the mask; a hamlet's name (X家冲) is a place.
        "多次与该厂负责人商讨不得结果。",
        "李市长：您好！我是某某区的居民。",
        "我们是某某村陈家冲组的组民。",
        # A surname and 姓 names no one; 催促 misspelt with the surname 崔; 塅 ends a place.
        "工作人员态度很好，一位李姓女士接待了我。",
        "我们多次催促未果，电话询问崔促至今没有回复。",
        "我家在王塅做了一间小卖部。",
        # Two words where the NER sees a name: a word ending in the surname before a word,
        # a grammar word (莫: don't) before an everyday word.
        "叩谢鸿恩，望领导批准。",
        "跪谢隆恩，望领导批准。",
        "丈母娘只认钱，没有房子莫票子也行。",
        # Whoever a letter names together with a historical figure is history too.
        "当年王安石偕同张茂之同游此山，留下诗篇。",
        # An estate ending in 郡; a document's issuer before its year.
        "我们是林翠山郡的业主，林翠山郡的会所被占用。",
        "据宁农发〔2020〕7号文件规定。",
        # A comma list whose next items are nouns (brands) is no list of persons.
        "入围的出租车公司有三家，龙骐，鸿运，福星，都是本地企业。",
    ],
)
def test_words_that_only_look_like_names_stay(text: str) -> None:
    assert redact(text).text == text


def test_a_scholar_in_a_political_office_is_an_official() -> None:
    text = "全国政协委员窦立新教授等委员提出了建议。"
    assert "窦立新" not in redact(text).text
    assert redact(text, config=RedactionConfig(mask_officials=False)).text == text


def test_an_estate_after_the_writer_is_no_name() -> None:
    text = "本人华锦城（某某区某某路）租户，华锦城物业无故断水。"
    assert "华锦城" in redact(text).text


def test_a_namesake_of_a_public_figure_is_masked_when_the_writer_names_them() -> None:
    assert redact("我叫李白，住在某某小区。").text == "我叫李某，住在某某小区。"
