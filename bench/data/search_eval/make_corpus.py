"""Writes corpus.json: the work orders of the search labelled set (not the demo's data).

Records are written the way centres' agents write them: several wordings for each matter,
abbreviations (工行, 2号线, APP), typos of the kind a fast typist makes, full-width digits and
letters, phone numbers in every format callers give, some records in English. Each record keeps
the facts it was written from (domain, topic, place, line, bank, product, phone) so that the
graded queries in queries.json name what answers them by those facts, never by record number:
the labels were set from what the records are about, not from what any ranker returns.

Run: python bench/data/search_eval/make_corpus.py  (deterministic; rewrites corpus.json)
"""

from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20261203

PLACES = ["阳光花园", "锦绣家园", "东湖名苑", "翠竹小区", "金桂园", "滨江一号", "丽景湾", "幸福里",
          "城南新村", "御景华庭", "春晖苑", "绿地世纪城"]  # fmt: skip
DISTRICTS = ["东湖区", "西城区", "高新区", "江北区", "经开区", "南湖区"]
LINES = ["1号线", "2号线", "3号线", "5号线", "7号线"]
STATIONS = ["人民广场", "火车站", "光谷广场", "汉口站", "中山公园", "体育中心", "大学城",
            "机场北", "江汉路", "市民之家"]  # fmt: skip
BANKS = [("工商银行", "工行"), ("建设银行", "建行"), ("农业银行", "农行"), ("招商银行", "招行"),
         ("中国银行", "中行")]  # fmt: skip
PRODUCTS = ["云账房", "易开票", "掌上营业厅", "智慧收银", "ERP"]
# Callers who rang more than once: their numbers recur, written differently each time.
CALLERS = ["+867168251639", "+8613800138000", "+862787654321", "+8615927301122",
           "+8675526638899", "+8618672905531"]  # fmt: skip

# Each topic: (domain, key, related topics, [(title, body), ...]).
TOPICS: list[tuple[str, str, list[str], list[tuple[str, str]]]] = [
    (
        "power",
        "outage",
        ["planned_outage", "arrears_cut", "trip"],
        [
            (
                "{place}整栋楼停电",
                "客户来电反映{place}{n}栋从{h}点开始停电，整栋楼都没电，家中有老人，请尽快派人抢修。",
            ),
            (
                "家中突然断电",
                "户主称家里突然断电，邻居家也没电，{district}{place}一片都黑了，问什么时候来电。",
            ),
            (
                "小区大面积停电",
                "{place}小区大面积停电已{k}小时，物业说不清楚原因，客户要求供电公司给出恢复时间。",
            ),
            (
                "停电咨询",
                "客户询问{place}今天停电是什么原因，没有收到任何停电通知，冰箱里的东西快坏了。",
            ),
            (
                "报修：家里没电了",
                "来电人说家里没电了，空开没有跳，楼道灯也不亮，地址{district}{place}{n}栋{u}单元。",
            ),
        ],
    ),
    (
        "power",
        "planned_outage",
        ["outage"],
        [
            (
                "计划停电时间咨询",
                "客户看到{place}门口贴了检修停电公告，想确认{d}号停电几点开始几点恢复。",
            ),
            (
                "检修停电未提前通知",
                "{place}因线路检修计划停电，客户称未收到短信通知，影响店铺营业，要求以后提前告知。",
            ),
            (
                "询问停电计划",
                "客户问{district}下周有没有计划停电，家里要办酒席，需要提前准备发电机。",
            ),
        ],
    ),
    (
        "power",
        "trip",
        ["outage", "leakage"],
        [
            (
                "家中跳闸无法合上",
                "客户家总闸跳闸后合不上去，一合就跳，已拔掉所有电器插头仍然不行，地址{place}。",
            ),
            (
                "空开频繁跳闸",
                "用空调时空开频繁掉闸，客户怀疑线路老化，要求上门检查。{place}{n}栋。",
            ),
            ("漏保跳了合不上", "卫生间漏电保护器跳了，合上又跳，客户担心漏电，请师傅上门处理。"),
        ],
    ),
    (
        "power",
        "leakage",
        ["trip", "line_down"],
        [
            (
                "电表箱漏电",
                "客户反映楼道电表箱外壳带电，摸了有麻的感觉，存在触电危险，{place}{n}栋。",
            ),
            (
                "路灯杆漏电隐患",
                "{district}{place}门口路灯杆漏电，下雨天小孩靠近很危险，请尽快处理。",
            ),
        ],
    ),
    (
        "power",
        "voltage",
        ["flicker"],
        [
            ("电压不稳", "客户家里电压不稳，空调启动不了，电压表显示只有{v}伏，地址{place}。"),
            (
                "电压低家电无法使用",
                "晚上用电高峰电压偏低，冰箱压缩机反复启动，客户要求检测电压。{place}。",
            ),
            (
                "电压过高烧坏电器",
                "客户称昨晚电压突然升高，家里电视和路由器烧坏，要求赔偿。{district}{place}。",
            ),
        ],
    ),
    (
        "power",
        "flicker",
        ["voltage"],
        [
            ("灯光忽明忽暗", "客户家中灯光忽明忽暗，一晚上闪烁好几次，邻居也一样，{place}。"),
            ("电灯闪烁", "{place}{n}栋住户反映电灯一直闪，电视也会黑屏重启。"),
        ],
    ),
    (
        "power",
        "line_down",
        ["leakage"],
        [
            (
                "电线断落在路边",
                "路人来电，{district}{place}门口一根电线断落在人行道上，还冒火花，请立即处置。",
            ),
            ("电线被大风刮断", "昨晚大风把{place}后面的电线刮断了，垂到地面，已拉警戒，请派抢修。"),
        ],
    ),
    (
        "power",
        "bill_high",
        ["meter_fault", "meter_reading", "tariff"],
        [
            (
                "电费异常偏高",
                "客户户号{acct}本月电费{amount}元，比上月高出一倍多，家里没有增加用电，要求核查。",
            ),
            (
                "电费突然高了很多",
                "客户称这两个月电费突然高了很多，怀疑电表走快了，要求校验电表。户号{acct}。",
            ),
            ("电费太贵投诉", "客户投诉电费太贵，一个月{amount}元，不理解怎么算的，要求解释计费。"),
            ("对账单金额有疑问", "客户对{m}月电费账单有疑问，用电量{kwh}度和自己抄的读数对不上。"),
        ],
    ),
    (
        "power",
        "tariff",
        ["bill_high"],
        [
            ("阶梯电价怎么算", "客户咨询阶梯电价的分档标准，第二档从多少度开始，户号{acct}。"),
            ("峰谷电价申请", "客户想申请峰谷电价，问需要什么材料，晚上电价是多少。"),
        ],
    ),
    (
        "power",
        "arrears_cut",
        ["payment_missing", "outage"],
        [
            (
                "欠费停电后已缴费未复电",
                "客户因欠费被停电，已于{h}点通过微信缴清欠费{amount}元，至今未复电，户号{acct}。",
            ),
            ("欠费催缴短信", "客户收到欠费催缴短信，称上月已交过电费，要求核实，户号{acct}。"),
            ("欠费被停电", "客户家欠费两个月被停电了，问交了钱多久能恢复供电。"),
        ],
    ),
    (
        "power",
        "payment_missing",
        ["arrears_cut", "refund"],
        [
            (
                "缴费未到账",
                "客户{d}日在支付宝缴纳电费{amount}元，显示扣款成功，但户号{acct}余额没变。",
            ),
            (
                "微信缴电费没到账",
                "客户用微信交了电费，钱扣了但系统显示仍欠费，要求查询，户号{acct}。",
            ),
            (
                "线上缴费重复扣款",
                "客户在网上国网APP缴费时网络卡了，点了两次，被重复扣款{amount}元，要求退回一笔。",
            ),
        ],
    ),
    (
        "power",
        "refund",
        ["payment_missing"],
        [
            ("申请退还多交电费", "客户销户后预存电费余额{amount}元，申请退费到银行卡。"),
            ("电费退款进度", "客户上周申请的电费退款还没到账，询问进度，户号{acct}。"),
        ],
    ),
    (
        "power",
        "invoice",
        [],
        [
            ("电费发票开具", "客户需要开具{m}月电费增值税专用发票，公司名称和税号已提供。"),
            ("电子发票下载不了", "客户在网上国网下载电子发票失败，提示系统繁忙，要求发到邮箱。"),
        ],
    ),
    (
        "power",
        "meter_reading",
        ["bill_high"],
        [
            ("抄表员估抄", "客户反映本月没人来抄表，电费是估出来的，读数明显不对，户号{acct}。"),
            ("抄表数据错误", "客户自己看电表读数是{kwh}，账单上的抄见读数多了两百度，怀疑抄错。"),
            ("抄表时间咨询", "客户问每月几号抄表，想在抄表前把空调关掉。"),
        ],
    ),
    (
        "power",
        "meter_fault",
        ["bill_high", "meter_reading"],
        [
            ("电表显示屏不亮", "客户家电能表显示屏不亮，看不到读数，户号{acct}，地址{place}。"),
            ("智能电表黑屏", "智能电表黑屏了，但家里有电，客户担心计量不准。{place}{n}栋。"),
            ("申请电表校验", "客户怀疑电表走得快，申请校验电能表，愿意承担校验费。户号{acct}。"),
        ],
    ),
    (
        "power",
        "solar",
        [],
        [
            ("光伏并网申请", "客户屋顶装了{k}千瓦光伏，想申请并网，问流程和需要的材料。"),
            ("光伏电费结算", "客户光伏发电上网电量的结算款三个月没到账，要求查询。户号{acct}。"),
        ],
    ),
    (
        "power",
        "ev_charger",
        [],
        [
            ("充电桩报装", "客户在{place}买了车位，想装家用充电桩，问物业不同意怎么办、报装流程。"),
            ("充电桩独立电表", "客户申请的充电桩要单独装一块电表，问多久能装好。"),
        ],
    ),
    (
        "power",
        "transfer_owner",
        [],
        [
            (
                "过户业务办理",
                "客户买了二手房，想把电费户名过户到自己名下，问要带什么证件。户号{acct}。",
            ),
            ("更名过户进度", "客户上月在营业厅办理过户，至今户名未变，要求查询。"),
        ],
    ),
    (
        "power",
        "staff",
        ["hall_service"],
        [
            ("抢修人员态度差", "客户投诉抢修师傅态度恶劣，说话很冲，修完还乱收费{amount}元。"),
            (
                "抢修人员迟迟未到",
                "客户{h}点报修停电，说好一小时到，现在过了三个小时还没人来，{place}。",
            ),
        ],
    ),
    (
        "power",
        "hall_service",
        ["staff"],
        [
            (
                "营业厅排队时间长",
                "客户在{district}营业厅排队两个小时，只开了一个窗口，要求增加窗口。",
            ),
            ("营业厅工作人员推诿", "客户到营业厅办理业务，工作人员互相推诿，让客户跑了三次。"),
        ],
    ),
    (
        "water",
        "water_outage",
        ["water_pressure"],
        [
            ("小区停水", "{place}从早上{h}点开始停水，没有提前通知，客户要求尽快恢复供水。"),
            ("家里没水了", "客户称家里突然没水了，水龙头一滴水都没有，{district}{place}{n}栋。"),
            ("停水什么时候恢复", "客户询问{place}停水什么时候能恢复，家里有婴儿需要用水。"),
        ],
    ),
    (
        "water",
        "water_pressure",
        ["water_outage"],
        [
            ("水压太低", "{place}高层住户水压太低，{n}楼以上热水器打不着火。"),
            ("水压不足洗不了澡", "客户家水压不足，晚上洗澡水很小，要求检查二次供水设备。"),
        ],
    ),
    (
        "water",
        "water_quality",
        [],
        [
            ("自来水发黄", "客户家自来水发黄，有铁锈味，{place}整栋楼都这样，担心不能喝。"),
            ("水质浑浊有异味", "{district}{place}自来水浑浊，有消毒水味道，要求检测水质。"),
        ],
    ),
    (
        "water",
        "pipe_burst",
        [],
        [
            ("路面水管爆裂", "{district}{place}门口水管爆了，水漫到马路上，请尽快派人关阀抢修。"),
            ("水表前漏水", "客户家水表前的管子漏水，关了阀门还在漏，要求维修。"),
        ],
    ),
    (
        "gas",
        "gas_leak",
        [],
        [
            (
                "燃气泄漏",
                "客户闻到厨房有很浓的煤气味，怀疑燃气泄漏，已关阀开窗，请马上派人。{place}。",
            ),
            ("楼道有燃气味", "{place}{n}栋楼道里有天然气味道，担心漏气，请求紧急检查。"),
        ],
    ),
    (
        "gas",
        "gas_bill",
        [],
        [
            ("燃气费偏高", "客户这个月燃气费{amount}元，比去年同期高很多，要求核查气表。"),
            ("燃气缴费没到账", "客户在APP交了燃气费，显示成功，但气表还是提示欠费。"),
        ],
    ),
    (
        "metro",
        "lost_item",
        [],
        [
            (
                "地铁上遗失物品",
                "乘客{d}日在{line}{station}站附近车厢遗失一个黑色双肩包，内有电脑，请帮忙查找。",
            ),
            (
                "手机落在地铁上",
                "乘客把手机落在{line}列车上了，大概{h}点下车，从{station}上车，问失物招领在哪。",
            ),
            ("丢失钱包", "乘客在{station}站过闸机时钱包丢了，里面有身份证和银行卡。"),
        ],
    ),
    (
        "metro",
        "double_charge",
        ["refund_ticket"],
        [
            (
                "乘车码重复扣费",
                "乘客用乘车码进站，出站时被扣了两次，{station}到{station2}扣了{fee}元两次，要求退回。",
            ),
            ("扫码乘车多扣钱", "乘客反映{line}扫码乘车多扣钱，同一行程扣费两笔。"),
            ("交通卡扣费异常", "乘客交通卡在{station}出站时扣了最高票价{fee}元，实际只坐了两站。"),
        ],
    ),
    (
        "metro",
        "refund_ticket",
        ["double_charge"],
        [
            ("单程票退票", "乘客买错了单程票，想退票，自助售票机不能退，问在哪里办理。"),
            ("充值后申请退款", "乘客在售票机充值{amount}元没到账，要求退款。"),
        ],
    ),
    (
        "metro",
        "delay",
        [],
        [
            ("列车延误", "乘客反映{line}早高峰列车延误了二十多分钟，上班迟到，要求开具延误证明。"),
            ("地铁晚点没有广播", "{line}今天晚点很久，站内没有任何广播说明，乘客很不满。"),
            ("列车故障停运", "{line}{station}站列车故障停运，乘客被要求下车，问什么时候恢复。"),
        ],
    ),
    (
        "metro",
        "station_staff",
        [],
        [
            ("站务员态度恶劣", "乘客投诉{station}站站务员态度恶劣，询问换乘路线时被呵斥。"),
            ("安检员态度差", "乘客投诉{line}{station}站安检人员态度差，强行翻包。"),
        ],
    ),
    (
        "metro",
        "escalator",
        [],
        [
            ("扶梯故障停运", "{station}站B口扶梯停了一个星期没人修，老人上下很不方便。"),
            ("电梯突然急停", "乘客反映{line}{station}站自动扶梯突然急停，有人摔倒受伤。"),
        ],
    ),
    (
        "metro",
        "aircon",
        [],
        [
            ("车厢空调太冷", "乘客反映{line}车厢空调温度太低，太冷了，要求调高。"),
            ("车厢闷热空调不制冷", "{line}列车车厢里很闷热，空调好像没开，乘客要求处理。"),
        ],
    ),
    (
        "metro",
        "bus_skip",
        [],
        [
            ("公交过站不停", "乘客投诉{n}路公交车在{station}站过站不停，等了半小时。"),
            ("公交司机甩站", "{n}路公交司机甩站，乘客在站台招手也不停，时间约{h}点。"),
        ],
    ),
    (
        "metro",
        "accessibility",
        [],
        [
            ("无障碍电梯无法使用", "乘客坐轮椅，{station}站无障碍电梯坏了，只能求助站务员抬上去。"),
            ("残疾人优惠乘车", "乘客咨询残疾人免费乘车怎么办理，需要什么证件。"),
        ],
    ),
    (
        "bank",
        "card_lost",
        ["fraud"],
        [
            ("银行卡挂失", "客户{bank}储蓄卡丢失，要求立即挂失，卡号尾号{tail}。"),
            (
                "信用卡丢了怎么办",
                "客户信用卡丢了，问{bank_short}信用卡怎么挂失补办，补卡要多少钱。",
            ),
        ],
    ),
    (
        "bank",
        "card_swallowed",
        [],
        [
            (
                "ATM吞卡",
                "客户在{district}{bank_short}自助取款机取钱时被吞卡，卡号尾号{tail}，问怎么取回。",
            ),
            ("取款机把卡吞了", "客户称取款机把卡吞了，屏幕显示交易超时，钱也没吐出来。"),
        ],
    ),
    (
        "bank",
        "transfer_failed",
        [],
        [
            (
                "转账失败钱被扣",
                "客户手机银行转账{amount}元给家人，提示失败，但账户余额已扣，要求查询。",
            ),
            (
                "跨行汇款未到账",
                "客户{d}日跨行汇款{amount}元，对方一直没收到，{bank_short}说已汇出。",
            ),
        ],
    ),
    (
        "bank",
        "fraud",
        ["card_lost"],
        [
            (
                "信用卡被盗刷",
                "客户信用卡凌晨被盗刷{amount}元，本人卡在手上，没有消费，要求冻结账户。",
            ),
            (
                "接到诈骗电话",
                "客户接到冒充{bank_short}客服的电话，被骗告诉了验证码，账户被转走{amount}元。",
            ),
        ],
    ),
    (
        "bank",
        "loan_prepay",
        [],
        [
            ("房贷提前还款", "客户想提前还款房贷，问需要提前多久预约，有没有违约金。"),
            ("贷款提前还款申请", "客户在{bank}的消费贷款想一次性还清，问线上能不能办。"),
        ],
    ),
    (
        "bank",
        "credit_limit",
        [],
        [
            ("信用卡提额", "客户申请信用卡提高额度，已经用卡两年，额度只有{amount}元。"),
            ("额度被降低", "客户的信用卡额度突然被降低，没有逾期，要求说明原因。"),
        ],
    ),
    (
        "bank",
        "annual_fee",
        [],
        [
            ("信用卡年费争议", "客户被扣了信用卡年费{fee}元，办卡时说免年费，要求退还。"),
            ("年费怎么免", "客户咨询{bank_short}白金卡年费怎么减免，刷卡多少次可以免。"),
        ],
    ),
    (
        "bank",
        "password_locked",
        ["login_fail"],
        [
            ("密码输错被锁", "客户网银密码输错三次被锁定，问怎么解锁。"),
            ("忘记银行卡密码", "客户忘记{bank}银行卡取款密码，问能不能在手机上重置。"),
        ],
    ),
    (
        "software",
        "login_fail",
        ["password_reset", "account_locked"],
        [
            (
                "{product}登录失败",
                "客户使用{product}登录失败，提示用户名或密码错误，已确认密码无误。版本{ver}。",
            ),
            ("无法登录系统", "客户公司{n}个账号都无法登陆{product}，页面一直转圈。"),
            ("APP登录报错", "客户手机APP登录时报错，提示网络异常，换了WiFi也不行。"),
        ],
    ),
    (
        "software",
        "password_reset",
        ["login_fail"],
        [
            ("忘记密码", "客户忘记{product}管理员密码，找回密码的短信收不到验证码。"),
            ("重置密码", "客户要求重置{product}员工账号密码，该员工已离职。"),
        ],
    ),
    (
        "software",
        "account_locked",
        ["login_fail"],
        [
            ("账号被锁定", "客户{product}账号因多次输错密码被锁定，急需解锁开票。"),
        ],
    ),
    (
        "software",
        "app_crash",
        [],
        [
            ("{product}闪退", "客户在华为手机上打开{product}就闪退，版本{ver}，已重装仍然闪退。"),
            ("APP崩溃", "客户iPhone上APP一点开就崩溃，无法使用，要求尽快修复。"),
            ("软件打开就闪退", "客户反映升级后软件打开就闪退，电脑是Windows 10。"),
        ],
    ),
    (
        "software",
        "license",
        [],
        [
            ("授权到期", "客户{product}授权到期，提示需要续费，问续费价格和流程。"),
            ("激活码无效", "客户购买的{product}激活码提示无效，无法激活软件。"),
        ],
    ),
    (
        "software",
        "data_sync",
        [],
        [
            ("数据同步失败", "客户门店{product}数据同步失败，总部看不到今天的销售数据。"),
            ("多端数据不同步", "客户手机端和电脑端数据不同步，电脑上改的手机上看不到。"),
        ],
    ),
    (
        "software",
        "printer",
        [],
        [
            ("打印机无法打印", "客户{product}连接的小票打印机无法打印，显示脱机。"),
            ("发票打印错位", "客户用{product}打印发票时内容错位，要求远程协助调整。"),
        ],
    ),
    (
        "software",
        "upgrade_error",
        ["app_crash"],
        [
            ("升级后报错", "客户{product}升级到{ver}后报错，错误码E{code}，无法进入系统。"),
            ("更新后数据丢失", "客户更新{product}新版本后部分历史数据丢失，要求恢复。"),
        ],
    ),
    (
        "software",
        "slow",
        [],
        [
            ("系统卡顿", "客户反映{product}这几天非常卡，打开一个报表要等一分钟。"),
            ("软件运行很慢", "客户{n}台电脑上软件运行都很慢，怀疑服务器有问题。"),
        ],
    ),
    (
        "software",
        "onsite",
        ["training"],
        [
            ("要求上门安装", "客户新开门店，要求工程师上门安装{product}和收银设备。"),
            ("预约工程师上门", "客户设备故障远程解决不了，预约工程师{d}号上门维修。"),
        ],
    ),
    (
        "software",
        "training",
        ["onsite"],
        [
            ("新员工培训", "客户新来{n}个员工，申请{product}操作培训。"),
            ("培训预约", "客户想预约下周的{product}线上培训，问时间安排。"),
        ],
    ),
]

# English records: a centre serving expatriates gets some; same facts as the Chinese ones.
ENGLISH: list[tuple[str, str, str, str]] = [
    ("power", "outage", "Power outage in {place_en}", "Caller reports a power outage in the whole building since {h} am, neighbours also have no electricity."),
    ("power", "outage", "No electricity at home", "Customer says there is no power at home, breaker not tripped, please send a technician."),
    ("power", "bill_high", "Electricity bill too high", "Customer complains the electricity bill this month is {amount} yuan, double the usual amount, account {acct}."),
    ("power", "payment_missing", "Payment not credited", "Paid the electricity bill by WeChat Pay, money deducted but the account still shows arrears."),
    ("power", "meter_fault", "Smart meter display blank", "The smart meter display is blank, cannot see the reading, account {acct}."),
    ("power", "invoice", "VAT invoice request", "Company needs a VAT invoice for the electricity bill of month {m}."),
    ("metro", "lost_item", "Lost bag on the metro", "Passenger lost a black backpack on {line_en} near {station_en} station, please help find it."),
    ("metro", "double_charge", "Charged twice for one trip", "Passenger was charged twice when exiting with the QR code, fare {fee} yuan each."),
    ("metro", "delay", "Train delayed", "The train on {line_en} was delayed over 20 minutes this morning, passenger asks for a delay certificate."),
    ("bank", "card_lost", "Report lost bank card", "Customer lost the debit card ending {tail} and wants to report it lost immediately."),
    ("bank", "fraud", "Unauthorised card transaction", "Customer's credit card was used for an unauthorised transaction of {amount} yuan at night."),
    ("bank", "card_swallowed", "ATM kept my card", "The ATM swallowed the customer's card during a withdrawal, card ending {tail}."),
    ("software", "login_fail", "Cannot log in", "Customer cannot log in to {product}, error says wrong username or password, version {ver}."),
    ("software", "password_reset", "Password reset not working", "Customer forgot the password and the password reset SMS code never arrives."),
    ("software", "app_crash", "App crashes on start", "The app crashes right after opening on iPhone, reinstalling did not help, version {ver}."),
    ("software", "license", "License expired", "The {product} license expired, customer asks about renewal price."),
    ("water", "water_outage", "No water supply", "No water in {place_en} since this morning, no notice was given."),
    ("gas", "gas_leak", "Smell of gas", "Strong smell of gas in the kitchen, customer suspects a gas leak, valve closed."),
]  # fmt: skip
PLACE_EN = {"阳光花园": "Sunshine Garden", "锦绣家园": "Jinxiu Homes", "滨江一号": "Riverside One"}
LINE_EN = {"1号线": "Line 1", "2号线": "Line 2", "3号线": "Line 3", "5号线": "Line 5",
           "7号线": "Line 7"}  # fmt: skip
STATION_EN = {
    "人民广场": "People's Square",
    "火车站": "Railway Station",
    "光谷广场": "Optics Valley",
}

# Slips agents make when typing fast: a wrong character of the same sound, or a dropped one.
TYPOS = {"停电": "停店", "跳闸": "跳匝", "电费": "电废", "花园": "花圆", "密码": "秘码",
         "抢修": "抢休", "扶梯": "扶第", "闪退": "闪推", "挂失": "挂实", "欠费": "欠废",
         "电表": "电标", "漏电": "露电", "缴费": "交费", "发票": "发漂", "水压": "水亚",
         "同步": "同不", "授权": "受权", "过户": "过护", "抄表": "炒表"}  # fmt: skip
PREFIXES = [
    "【报修】",
    "【投诉】",
    "【咨询】",
    "客户来电：",
    "（催办）",
    "转：",
    "【紧急】",
    "回访-",
]
WIDE = {c: chr(ord(c) + 0xFEE0) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}


def phone_text(e164: str, rng: random.Random) -> str:
    """A caller's number as an agent typed it: one of the usual formats."""
    national = e164[3:]
    if national.startswith("1"):
        a, b, c = national[:3], national[3:7], national[7:]
        forms = [national, f"{a} {b} {c}", f"{a}-{b}-{c}", f"+86 {national}", f"86-{national}"]
    else:
        area_len = (
            2 if national[:2] in {"10", "20", "21", "22", "23", "24", "25", "27", "28", "29"} else 3
        )
        area, local = national[:area_len], national[area_len:]
        forms = [f"0{area}-{local}", f"0{area}{local}", f"（0{area}）{local}", f"+86 {area} {local}",
                 f"0{area} {local}"]  # fmt: skip
    return rng.choice(forms)


def random_phone(rng: random.Random) -> str:
    if rng.random() < 0.7:
        return f"+861{rng.choice('3589')}{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}"
    area = rng.choice(["27", "716", "710", "755", "712"])
    return f"+86{area}{rng.randint(2_000_000, 8_999_999) if len(area) == 3 else rng.randint(20_000_000, 89_999_999)}"


def fill(template: str, facts: dict[str, str], rng: random.Random) -> str:
    values = {
        **facts,
        "n": str(rng.randint(1, 30)), "u": str(rng.randint(1, 4)), "h": str(rng.randint(1, 12)),
        "k": str(rng.randint(2, 8)), "d": str(rng.randint(1, 28)), "m": str(rng.randint(1, 12)),
        "v": str(rng.randint(150, 190)), "amount": str(rng.randint(50, 3000)),
        "kwh": str(rng.randint(100, 9000)), "fee": f"{rng.randint(2, 9)}",
        "acct": f"07{rng.randint(10_000_000, 99_999_999)}", "tail": str(rng.randint(1000, 9999)),
        "code": str(rng.randint(100, 999)),
        "ver": f"{rng.randint(2, 6)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}",
    }  # fmt: skip
    return template.format(**values)


def make() -> dict[str, object]:
    rng = random.Random(SEED)
    records: list[dict[str, object]] = []

    def add(domain: str, topic: str, lang: str, title: str, body: str, facts: dict[str, str],
            phone: str) -> None:  # fmt: skip
        if lang == "zh" and rng.random() < 0.12:  # a typo somewhere
            present = [w for w in TYPOS if w in title + body]
            if present:
                word = rng.choice(present)
                if word in body and rng.random() < 0.7:
                    body = body.replace(word, TYPOS[word], 1)
                else:
                    title = title.replace(word, TYPOS[word], 1)
        if lang == "zh" and rng.random() < 0.3:  # how a centre marks its titles
            title = rng.choice(PREFIXES) + title
        if rng.random() < 0.5:
            body += (
                f" 来电号码：{phone_text(phone, rng)}。"
                if lang == "zh"
                else f" Tel {phone_text(phone, rng)}."
            )
        if rng.random() < 0.1:  # typed with a full-width input method
            body = "".join(WIDE.get(c, c) for c in body)
        records.append({
            "id": f"E{len(records) + 1:04d}", "domain": domain, "topic": topic, "lang": lang,
            "title": title, "body": body, "contact_phone": phone,
            "age_days": rng.randint(0, 720), **facts,
        })  # fmt: skip

    for round_ in range(5):
        for domain, topic, _related, templates in TOPICS:
            for title_t, body_t in templates:
                if round_ == 4 and rng.random() < 0.5:
                    continue
                bank, bank_short = rng.choice(BANKS)
                line = rng.choice(LINES)
                s1, s2 = rng.sample(STATIONS, 2)
                facts = {
                    "place": rng.choice(PLACES), "district": rng.choice(DISTRICTS),
                    "line": line, "station": s1, "station2": s2, "bank": bank,
                    "bank_short": bank_short, "product": rng.choice(PRODUCTS),
                }  # fmt: skip
                used = {k: v for k, v in facts.items() if "{" + k + "}" in title_t + body_t}
                if "bank_short" in used:
                    used["bank"] = bank
                    del used["bank_short"]
                if "station2" in used:
                    del used["station2"]
                phone = rng.choice(CALLERS) if rng.random() < 0.05 else random_phone(rng)
                add(domain, topic, "zh", fill(title_t, facts, rng), fill(body_t, facts, rng),
                    used, phone)  # fmt: skip
    for _round in range(3):
        for domain, topic, title_t, body_t in ENGLISH:
            place = rng.choice(list(PLACE_EN))
            line = rng.choice(list(LINE_EN))
            station = rng.choice(list(STATION_EN))
            facts = {"place_en": PLACE_EN[place], "line_en": LINE_EN[line],
                     "station_en": STATION_EN[station], "product": rng.choice(PRODUCTS)}  # fmt: skip
            used: dict[str, str] = {}
            if "{place_en}" in body_t + title_t:
                used["place"] = place
            if "{line_en}" in body_t:
                used["line"] = line
            if "{station_en}" in body_t:
                used["station"] = station
            if "{product}" in body_t + title_t:
                used["product"] = facts["product"]
            phone = random_phone(rng)
            add(domain, topic, "en", fill(title_t, facts, rng), fill(body_t, facts, rng), used,
                phone)  # fmt: skip
    # The repeat callers: each rang about three times, about different matters.
    for phone in CALLERS:
        for _ in range(2):
            domain, topic, _related, templates = rng.choice(TOPICS)
            title_t, body_t = rng.choice(templates)
            bank, bank_short = rng.choice(BANKS)
            s1, s2 = rng.sample(STATIONS, 2)
            facts = {"place": rng.choice(PLACES), "district": rng.choice(DISTRICTS),
                     "line": rng.choice(LINES), "station": s1, "station2": s2, "bank": bank,
                     "bank_short": bank_short, "product": rng.choice(PRODUCTS)}  # fmt: skip
            used = {k: v for k, v in facts.items() if "{" + k + "}" in title_t + body_t}
            used = {k: v for k, v in used.items() if k not in ("bank_short", "station2")}
            if "{bank_short}" in title_t + body_t:
                used["bank"] = bank
            add(domain, topic, "zh", fill(title_t, facts, rng), fill(body_t, facts, rng), used,
                phone)  # fmt: skip
    related = {topic: rel for _d, topic, rel, _t in TOPICS}
    return {
        "about": (
            "Work orders of the search labelled set, generated by make_corpus.py (seed "
            f"{SEED}); not the demo's data. Each record keeps the facts it was written from."
        ),
        "related": related,
        "records": records,
    }


if __name__ == "__main__":
    data = make()
    (HERE / "corpus.json").write_text(
        json.dumps(data, ensure_ascii=False, indent=0) + "\n", encoding="utf-8"
    )
    print(f"{len(data['records'])} records")  # type: ignore[arg-type]
