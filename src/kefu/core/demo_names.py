"""Fictional names, places and organisations for the demo centre (江城供电公司客户服务中心)."""

from __future__ import annotations

import random

SURNAMES = [
    ("王", "wang"),
    ("李", "li"),
    ("张", "zhang"),
    ("刘", "liu"),
    ("陈", "chen"),
    ("杨", "yang"),
    ("黄", "huang"),
    ("赵", "zhao"),
    ("吴", "wu"),
    ("周", "zhou"),
    ("徐", "xu"),
    ("孙", "sun"),
    ("马", "ma"),
    ("朱", "zhu"),
    ("胡", "hu"),
    ("郭", "guo"),
    ("何", "he"),
    ("高", "gao"),
    ("林", "lin"),
    ("罗", "luo"),
    ("郑", "zheng"),
    ("梁", "liang"),
    ("谢", "xie"),
    ("宋", "song"),
    ("唐", "tang"),
    ("许", "xu"),
    ("韩", "han"),
    ("冯", "feng"),
    ("邓", "deng"),
    ("曹", "cao"),
    ("彭", "peng"),
    ("曾", "zeng"),
    ("肖", "xiao"),
    ("田", "tian"),
    ("董", "dong"),
    ("潘", "pan"),
    ("袁", "yuan"),
    ("蔡", "cai"),
    ("蒋", "jiang"),
    ("余", "yu"),
    ("于", "yu"),
    ("杜", "du"),
    ("叶", "ye"),
    ("程", "cheng"),
    ("魏", "wei"),
    ("苏", "su"),
    ("吕", "lv"),
    ("丁", "ding"),
    ("任", "ren"),
    ("沈", "shen"),
    ("姚", "yao"),
    ("卢", "lu"),
    ("姜", "jiang"),
    ("崔", "cui"),
    ("钟", "zhong"),
    ("谭", "tan"),
    ("陆", "lu"),
    ("汪", "wang"),
    ("范", "fan"),
    ("金", "jin"),
]

GIVEN = [
    ("伟", "wei"),
    ("芳", "fang"),
    ("娜", "na"),
    ("敏", "min"),
    ("静", "jing"),
    ("丽", "li"),
    ("强", "qiang"),
    ("磊", "lei"),
    ("军", "jun"),
    ("洋", "yang"),
    ("勇", "yong"),
    ("艳", "yan"),
    ("杰", "jie"),
    ("涛", "tao"),
    ("明", "ming"),
    ("超", "chao"),
    ("秀英", "xiuying"),
    ("霞", "xia"),
    ("平", "ping"),
    ("刚", "gang"),
    ("桂英", "guiying"),
    ("华", "hua"),
    ("建华", "jianhua"),
    ("建国", "jianguo"),
    ("志强", "zhiqiang"),
    ("晓明", "xiaoming"),
    ("海燕", "haiyan"),
    ("玉兰", "yulan"),
    ("俊杰", "junjie"),
    ("婷", "ting"),
    ("雪", "xue"),
    ("宇", "yu"),
    ("浩", "hao"),
    ("鹏", "peng"),
    ("欣怡", "xinyi"),
    ("子涵", "zihan"),
    ("梓轩", "zixuan"),
    ("雨桐", "yutong"),
    ("佳怡", "jiayi"),
    ("文博", "wenbo"),
    ("思远", "siyuan"),
    ("春梅", "chunmei"),
    ("国庆", "guoqing"),
    ("德明", "deming"),
    ("淑珍", "shuzhen"),
    ("红霞", "hongxia"),
    ("立新", "lixin"),
    ("志刚", "zhigang"),
    ("永红", "yonghong"),
    ("慧", "hui"),
]

DISTRICTS = [
    ("东湖区", "urban"),
    ("西山区", "urban"),
    ("南湖区", "urban"),
    ("北城区", "urban"),
    ("高新区", "urban"),
    ("临江县", "rural"),
    ("青山县", "rural"),
    ("云岭县", "remote"),
]

STREETS = [
    "解放大道",
    "中山路",
    "建设路",
    "人民路",
    "和平街",
    "滨江路",
    "光谷大道",
    "长江路",
    "胜利街",
    "新华路",
    "友谊路",
    "青年路",
    "科技路",
    "学府路",
    "湖滨路",
    "朝阳路",
]

COMMUNITIES = [
    "阳光花园",
    "锦绣家园",
    "幸福里",
    "翠湖苑",
    "江景城",
    "金色港湾",
    "书香门第",
    "绿地新都",
    "紫荆苑",
    "滨江一号",
    "万科城",
    "东方明珠小区",
    "桂花园",
    "丽都花园",
]

ORGANIZATIONS = [
    ("江城市第一人民医院", "医疗卫生", "special"),
    ("江城市中心医院", "医疗卫生", "special"),
    ("江城钢铁有限公司", "冶金", "first"),
    ("江城地铁运营有限公司", "交通运输", "special"),
    ("江城国际机场", "交通运输", "special"),
    ("江城市自来水公司", "公用事业", "first"),
    ("江城日报社", "新闻出版", "first"),
    ("江城第一中学", "教育", "second"),
    ("江城大学", "教育", "second"),
    ("东湖数据中心", "信息技术", "first"),
    ("江城化工集团", "化工", "first"),
    ("华中汽车制造有限公司", "制造业", "second"),
    ("江城万达广场", "商业", "second"),
    ("临江县人民政府", "政府机关", "second"),
    ("江城市公安局", "政府机关", "special"),
    ("青山水泥厂", "建材", None),
    ("云岭茶叶合作社", "农业", None),
    ("江城纺织厂", "纺织", None),
    ("长江物流园", "物流", None),
    ("江城电视台", "新闻出版", "first"),
    ("光谷软件园", "信息技术", None),
    ("江城市第三中学", "教育", None),
    ("南湖养老院", "社会服务", "second"),
    ("北城冷链仓储中心", "物流", None),
    ("江城百货大楼", "商业", None),
    ("高新区污水处理厂", "公用事业", "first"),
    ("临江县粮食储备库", "农业", None),
    ("江城电子科技有限公司", "制造业", None),
    ("东湖宾馆", "住宿餐饮", None),
    ("江城体育中心", "文化体育", None),
]

ORG_SUFFIX_PEOPLE = ["电工", "行政主管", "后勤部经理", "设备科科长", "办公室主任"]


def person_name(rng: random.Random) -> tuple[str, str, str]:
    """(汉字 name, surname pinyin, given-name pinyin)."""
    surname, s_py = rng.choice(SURNAMES)
    given, g_py = rng.choice(GIVEN)
    if len(given) == 1 and rng.random() < 0.45:
        extra, e_py = rng.choice([g for g in GIVEN if len(g[0]) == 1])
        given, g_py = given + extra, g_py + e_py
    return surname + given, s_py, g_py


def mobile(rng: random.Random) -> str:
    prefix = rng.choice(
        [
            "130",
            "131",
            "132",
            "135",
            "136",
            "137",
            "138",
            "139",
            "150",
            "151",
            "152",
            "155",
            "156",
            "158",
            "159",
            "177",
            "180",
            "181",
            "186",
            "187",
            "188",
            "189",
            "199",
        ]
    )
    return prefix + "".join(rng.choice("0123456789") for _ in range(8))


def landline(rng: random.Random) -> str:
    return "0716-" + rng.choice("2345678") + "".join(rng.choice("0123456789") for _ in range(6))


def address(rng: random.Random) -> tuple[str, str]:
    """(address, area kind: urban / rural / remote)."""
    district, kind = rng.choice(DISTRICTS)
    if kind == "urban":
        return (
            f"江城市{district}{rng.choice(STREETS)}{rng.randint(1, 400)}号"
            f"{rng.choice(COMMUNITIES)}{rng.randint(1, 30)}栋{rng.randint(1, 6)}单元{rng.randint(1, 33)}0{rng.randint(1, 4)}室",
            kind,
        )
    village = rng.choice(["王家", "李家", "石桥", "柳树", "桃源", "清水", "白沙", "新河"])
    return f"江城市{district}{village}村{rng.randint(1, 12)}组{rng.randint(1, 80)}号", kind
