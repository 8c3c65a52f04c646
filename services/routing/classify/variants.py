"""Traditional characters read as simplified, for matching only.

Some writers use traditional characters (臺灣 keyboards, older habits). Rules and the
directory are written in simplified characters; the letter is matched through this table, one
character for one, and is shown to clerks and answered in the writer's own characters. The
table holds the characters common in letters to a commerce mailbox, not a full converter.
"""

from __future__ import annotations

_TRADITIONAL = (
    "來個們倫偽傳債傷僅價儀億償優儲兒兩劃劉動務勞勢勵區協參吳員問啟喪單嗎嚇嚴國圍園圓圖團報場壇壓壞壩壯夢奪奮婦嬰孫學實寧審寫"
    "寶將專尋對導屆層屬峽嶺嶽師幣幫幹廠廢廣廳張彈後從復徵惡態慶憂憑應懷戰戲戶掃換揮損搶撥擁擇擊擋擔據擠擬擴擺擾攜攤敗敵數斷於"
    "時暫曆曉書會東條棄楊業極榮構槍樂樓標樣樹橋機檔檢權歡歲歷歸殘毀氣況減溝滅滯滿漢漲潔潛澤濕濟灣為無煙熱燈燒營燭爭爺牆狀獄獎"
    "獨獻現環璽產畢畫異當療發盜盡監盤盧眾睜確碼礎禍禮稅種稱穀積穩窩窮競筆節範築簡簽籃籌糧糾紀約紅紋納純紙級紛細終組結絕給統絲"
    "綁經綜綠維網緊緒線編練縣縮總績織繩繫繳續罰罷羅義習聖聞聯聲職聽肅脅腦膽臨與舉舊艙艱莊華菸萊萬葉蔣蕭薑薦薩藍藝藥蘇蘭處虛號"
    "蝦蟲衆術衛衝裏補裝裡製複見規視親覺覽觀觸訂計訊討訓託記訪設許訴診詐評詞詢試話該詳誇認誘語誠誤說誰課調談請論諸諾講謝證識譚"
    "譯議護讀變讓豐豬貓貝負財貢貧貨販貪責貴買貸費貼貿賀賄資賈賓賠賢賣質賬賭賴賺購賽贈贊趕趙趨跡踐車軌軍軟軸較載輔輕輛輪輯輸轉"
    "辦辭農這連進遊運過達違遞遠適遲遷選遺遼還邊郵鄉鄧鄭鄰醫釀釋釘針鈔鈴銀銷鋁鋪鋼錄錢錦錯鍋鍵鎖鎮鏈鏡鐘鐵長門閃閉開閒間閘閩閱"
    "闖關陰陳陸陽隊際隨險隱雖雙雜雞離難雲電靈靜韓響頁頂項順須預頒頓頗領頭頻題額顏願類顧顯風飛飯飲飽飾餃餅養餘館餵馬馮駕騎騙騰"
    "騷驅驗驚髒體髮鬧魚魯鮮鳥鳳鴨鹽麗麥麵麼黃點黨齊齒齡龍龜"
)
_SIMPLIFIED = (
    "来个们伦伪传债伤仅价仪亿偿优储儿两划刘动务劳势励区协参吴员问启丧单吗吓严国围园圆图团报场坛压坏坝壮梦夺奋妇婴孙学实宁审写"
    "宝将专寻对导届层属峡岭岳师币帮干厂废广厅张弹后从复征恶态庆忧凭应怀战戏户扫换挥损抢拨拥择击挡担据挤拟扩摆扰携摊败敌数断于"
    "时暂历晓书会东条弃杨业极荣构枪乐楼标样树桥机档检权欢岁历归残毁气况减沟灭滞满汉涨洁潜泽湿济湾为无烟热灯烧营烛争爷墙状狱奖"
    "独献现环玺产毕画异当疗发盗尽监盘卢众睁确码础祸礼税种称谷积稳窝穷竞笔节范筑简签篮筹粮纠纪约红纹纳纯纸级纷细终组结绝给统丝"
    "绑经综绿维网紧绪线编练县缩总绩织绳系缴续罚罢罗义习圣闻联声职听肃胁脑胆临与举旧舱艰庄华烟莱万叶蒋萧姜荐萨蓝艺药苏兰处虚号"
    "虾虫众术卫冲里补装里制复见规视亲觉览观触订计讯讨训托记访设许诉诊诈评词询试话该详夸认诱语诚误说谁课调谈请论诸诺讲谢证识谭"
    "译议护读变让丰猪猫贝负财贡贫货贩贪责贵买贷费贴贸贺贿资贾宾赔贤卖质账赌赖赚购赛赠赞赶赵趋迹践车轨军软轴较载辅轻辆轮辑输转"
    "办辞农这连进游运过达违递远适迟迁选遗辽还边邮乡邓郑邻医酿释钉针钞铃银销铝铺钢录钱锦错锅键锁镇链镜钟铁长门闪闭开闲间闸闽阅"
    "闯关阴陈陆阳队际随险隐虽双杂鸡离难云电灵静韩响页顶项顺须预颁顿颇领头频题额颜愿类顾显风飞饭饮饱饰饺饼养余馆喂马冯驾骑骗腾"
    "骚驱验惊脏体发闹鱼鲁鲜鸟凤鸭盐丽麦面么黄点党齐齿龄龙龟"
)
_TABLE = str.maketrans(_TRADITIONAL, _SIMPLIFIED)


def simplified(text: str) -> str:
    """`text` with the table's traditional characters replaced, its length unchanged."""
    return text.translate(_TABLE)
