"""The sample site's accounts and posts: ordinary official posts plus a few a reviewer would flag."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

# How much time one `tick` lets pass on the site.
TICK_HOURS = 0.5


@dataclass
class SamplePost:
    number: int
    title: str
    body: str  # paragraphs separated by "\n"
    age_hours: float  # published this long before the site's clock
    author: str | None = None
    status: str = "live"  # live | deleted | violation | unavailable (what the page shows now)
    variant: str = "article"  # WeChat: article | text_share | image_share
    long: bool = False  # Weibo: the timeline shows a truncated text
    repost: str | None = None  # Weibo: text of the reposted original ("" = the original was deleted)
    undated: bool = False  # feeds: the entry has no date
    duplicate: bool = False  # feeds: the entry appears twice
    original: bool = True
    likes: int | str = 0
    edits: int = 0
    injected: str | None = None  # government site: an SEO spam line injected above the article
    stale_link: bool = False  # government site: the news list still links to it after it was withdrawn


@dataclass
class SampleAccount:
    slug: str
    name: str
    platform: str  # the registry's platform
    kind: str  # the crawler's source kind
    handle: str
    organization: str
    region_code: str
    region_name: str
    path: str  # the source URL's path on the site
    options: dict[str, Any] = field(default_factory=dict)
    posts: list[SamplePost] = field(default_factory=list)
    encoding: str = "utf-8"
    biz: str = ""

    def live_posts(self) -> list[SamplePost]:
        return sorted((p for p in self.posts if p.status == "live"), key=lambda p: p.age_hours)

    def all_posts(self) -> list[SamplePost]:
        return sorted(self.posts, key=lambda p: p.age_hours)


def wechat_biz(slug: str) -> str:
    return "Mz" + hashlib.sha1(slug.encode()).hexdigest()[:10].upper() + "=="


def wechat_mid(post: SamplePost) -> str:
    return str(2650000000 + post.number)


def wechat_sn(slug: str, post: SamplePost) -> str:
    return hashlib.md5(f"{slug}/{post.number}".encode()).hexdigest()


def wechat_short(slug: str, post: SamplePost) -> str:
    return hashlib.sha256(f"short/{slug}/{post.number}".encode()).hexdigest()[:22]


def weibo_id(post: SamplePost) -> str:
    return str(5100000000000000 + post.number)


AD = (
    "【限时福利】XX牌羊绒衫工厂直销，原价899元，现价仅需199元！"
    "数量有限，扫码加微信 nmg-cashmere888 领取优惠券，下单再送围巾。"
)
PRIVACY = (
    "现将2026年第一季度城乡低保新增对象公示如下：申请人王某某，身份证号150102198503120045，"
    "联系电话13904711234，家庭人口3人。公示期7天，如有异议请向街道办反映。"
)
RUMOUR = (
    "网传：明天起全市所有路段封闭，超市要停业一周，大家赶紧囤菜！据说消息来自内部人士，"
    "不转不是呼市人，转发扩散让更多人知道！！！"
)
SEO_SPAM = "澳门威尼斯人在线赌场 真人百家乐 注册送88元 成人视频免费看 www.xx-casino.example"


def build_accounts() -> list[SampleAccount]:
    """The initial state; every call returns fresh objects (tests and demo mutate them)."""
    accounts = [
        SampleAccount(
            slug="hhht-wechat",
            name="呼和浩特发布",
            platform="wechat",
            kind="wechat",
            handle="gh_hhhtfabu",
            organization="呼和浩特市委宣传部",
            region_code="150100",
            region_name="呼和浩特市",
            path="/wechat/hhht-wechat/index.xml",
            posts=[
                SamplePost(
                    1,
                    "呼和浩特市召开2026年优化营商环境工作推进会",
                    "1月21日，全市优化营商环境工作推进会召开。\n会议总结了2025年营商环境建设成效，部署了2026年重点任务。\n"
                    "会议要求，各地区各部门要聚焦企业和群众关切，持续提升政务服务效能。",
                    5,
                    "市融媒体中心",
                ),
                SamplePost(
                    2,
                    "关于春节期间城市公交运营时间调整的通知",
                    "春节期间，市区公交线路运营时间调整如下：\n除夕当天末班车提前至19:00发车。\n正月初一首班车推迟至8:00发车。\n"
                    "请广大市民合理安排出行。",
                    20,
                    "市交通运输局",
                ),
                SamplePost(
                    3,
                    "冬季供暖服务热线开通 24小时受理群众诉求",
                    "为保障群众温暖过冬，市供热服务热线12345全天候受理供热诉求。\n"
                    "室温不达标的居民可拨打热线反映，工作人员将在24小时内上门检测。",
                    30,
                    "市城管委",
                ),
                SamplePost(
                    4,
                    "图说｜青城雪后美景",
                    "雪后的青城银装素裹，大召寺、塞上老街游人如织。",
                    44,
                    variant="image_share",
                ),
                SamplePost(
                    5,
                    "",
                    "【提醒】今晚至明天我市有中到大雪，请市民减少不必要外出，注意防寒保暖。\n"
                    "驾车出行请减速慢行，保持安全车距。",
                    52,
                    variant="text_share",
                ),
                SamplePost(6, "已删除的旧通知", "这是一条稍后被发布者删除的通知。", 60, status="deleted"),
            ],
        ),
        SampleAccount(
            slug="xinchengqu-wechat",
            name="新城区发布",
            platform="wechat",
            kind="wechat",
            handle="gh_xinchengqu",
            organization="新城区委宣传部",
            region_code="150102",
            region_name="新城区",
            path="/wechat/xinchengqu-wechat/",
            posts=[
                SamplePost(
                    11,
                    "新城区开展“我为群众办实事”走访慰问活动",
                    "近日，新城区各街道深入社区走访慰问困难群众，送去米面油等生活物资。\n"
                    "活动共走访困难家庭120户，发放慰问金8万元。",
                    3,
                    "新城区融媒体中心",
                ),
                SamplePost(
                    12,
                    "年货节特惠！羊绒制品限时抢购",
                    AD + "\n活动地址：新城区某商贸城一楼。",
                    12,
                    "新城区商务局",
                    original=False,
                ),
                SamplePost(
                    13,
                    "新城区政务服务中心延时服务公告",
                    "为方便群众办事，区政务服务中心工作日延时服务至19:00，周六上午正常办公。",
                    26,
                    "新城区政务服务局",
                ),
                SamplePost(14, "违规内容", "此文因违规已被平台处理。", 40, status="violation"),
                SamplePost(15, "暂不可见", "此文暂时无法查看。", 50, status="unavailable"),
            ],
        ),
        SampleAccount(
            slug="saihan-weibo",
            name="赛罕发布",
            platform="weibo",
            kind="weibo",
            handle="6012345678",
            organization="赛罕区委宣传部",
            region_code="150105",
            region_name="赛罕区",
            path="/api/container/getIndex?containerid=1076036012345678",
            options={"cookies": {"SUB": "sample-login-cookie"}},
            posts=[
                SamplePost(
                    21,
                    "",
                    "【赛罕区开展冬季消防安全大检查】连日来，区消防救援大队深入商场、学校开展检查，"
                    "排查隐患36处，现场整改29处。#冬季消防安全#",
                    0.05,
                    likes=23,
                ),
                SamplePost(22, "", RUMOUR, 1.5, likes="1万+", original=True),
                SamplePost(
                    23,
                    "",
                    "【通知】赛罕区2026年义务教育阶段招生政策解读。" + "今年招生工作坚持免试就近入学原则，"
                    "各校招生范围已在区教育局网站公布。" * 6 + "详情请咨询区教育局。",
                    7,
                    long=True,
                    likes=156,
                ),
                SamplePost(24, "", "转发微博", 20, repost="", likes=2),
                SamplePost(
                    25, "", "【天气】今天白天晴转多云，最高气温-5℃，夜间最低气温-18℃。", 27, likes="100+"
                ),
                SamplePost(
                    26,
                    "",
                    "区政务服务中心“帮办代办”服务上线，企业群众可预约上门帮办。",
                    35,
                    repost="呼和浩特市政务服务局：全市推行“帮办代办”服务。",
                    likes=8,
                ),
                SamplePost(27, "", "赛罕区举办迎新春文艺汇演，群众自编自演节目18个。", 49, likes=61),
            ],
        ),
        SampleAccount(
            slug="huimin-weibo",
            name="回民区发布",
            platform="weibo",
            kind="weibo",
            handle="6087654321",
            organization="回民区委宣传部",
            region_code="150103",
            region_name="回民区",
            path="/api/container/getIndex?containerid=1076036087654321",
            options={"cookies": "SUB=sample-login-cookie; SUBP=0033"},
            posts=[
                SamplePost(
                    31, "", "【回民区】辖区各社区开展反诈宣传进万家活动，发放宣传册3000余份。", 2, likes=12
                ),
                SamplePost(
                    32, "", "【便民】回民区不动产登记中心周末“不打烊”，办事群众可在线预约。", 9, likes=40
                ),
                SamplePost(33, "", "回民区召开安全生产工作会议，部署春节前后安全生产重点工作。", 31, likes=5),
                SamplePost(
                    34,
                    "",
                    "【回民区】光明路街道开展老年人智能手机使用培训，帮助老年人跨越“数字鸿沟”。",
                    56,
                    likes=9,
                ),
            ],
        ),
        SampleAccount(
            slug="hhht-gov",
            name="呼和浩特市人民政府门户网站",
            platform="website",
            kind="govsite",
            handle="www.huhhot.gov.cn",
            organization="呼和浩特市人民政府办公室",
            region_code="150100",
            region_name="呼和浩特市",
            path="/gov/hhht/xwdt/index.html",
            encoding="gb18030",
            options={"list_selector": "ul.list_news li", "max_pages": 5},
            posts=[
                SamplePost(
                    41,
                    "呼和浩特市2026年政府工作报告解读",
                    "市政府新闻办举行新闻发布会，解读2026年政府工作报告。\n报告提出，今年全市地区生产总值预期增长6%左右。\n"
                    "在全市形成风清气正、堃实向上的干事创业氛围。",
                    4,
                    "呼和浩特市人民政府办公室",
                ),
                SamplePost(
                    42,
                    "市政府常务会议研究部署春运和节日市场保供工作",
                    "市政府召开常务会议，研究部署春运和节日期间市场保供稳价工作。\n会议要求，确保群众过一个欢乐祥和的春节。",
                    22,
                    "呼和浩特日报",
                ),
                SamplePost(43, "关于2026年第一季度城乡低保新增对象的公示", PRIVACY, 28, "市民政局"),
                SamplePost(
                    44,
                    "我市持续推进老旧小区改造工程",
                    "2026年全市计划改造老旧小区120个，惠及居民3.6万户。\n改造内容包括管网更新、外墙保温和加装电梯。",
                    46,
                    "市住建局",
                    injected=SEO_SPAM,
                ),
                SamplePost(
                    45,
                    "呼和浩特市开展冬季环境卫生整治行动",
                    "全市开展为期一个月的冬季环境卫生整治行动，重点整治背街小巷和城乡结合部。",
                    70,
                    "市城管委",
                ),
                SamplePost(
                    46, "青城公园冰雪节开幕", "青城公园第十届冰雪节开幕，冰雕雪雕作品80余件。", 95, "市园林局"
                ),
                SamplePost(
                    47,
                    "市场监管局发布春节消费提示",
                    "春节临近，市市场监管局提醒消费者理性消费，保留购物凭证。",
                    120,
                    "市市场监管局",
                ),
                SamplePost(
                    48,
                    "一则已撤回的信息",
                    "此信息已撤回。",
                    130,
                    "市政府办公室",
                    status="deleted",
                    stale_link=True,
                ),
                SamplePost(
                    49,
                    "呼和浩特市召开民族团结进步创建工作会议",
                    "会议总结了全市民族团结进步创建工作，部署今年重点任务。",
                    150,
                    "市民委",
                ),
            ],
        ),
        SampleAccount(
            slug="yuquan-gov",
            name="玉泉区人民政府",
            platform="website",
            kind="govsite",
            handle="www.yuquan.gov.cn",
            organization="玉泉区人民政府办公室",
            region_code="150104",
            region_name="玉泉区",
            path="/gov/yuquan/list?page=1",
            options={"list_selector": ".news-list li", "next_page": "page_param"},
            posts=[
                SamplePost(
                    51,
                    "玉泉区召开2026年经济工作会议",
                    "会议总结2025年经济工作，安排部署2026年重点任务。\n会议强调，要坚持稳中求进工作总基调。",
                    6,
                    "玉泉区政府办",
                ),
                SamplePost(
                    52,
                    "玉泉区启动冬季“送温暖”专项行动",
                    "区民政局联合各街道开展冬季送温暖行动，为独居老人送去取暖用品。",
                    30,
                    "玉泉区民政局",
                ),
                SamplePost(
                    53,
                    "玉泉区2026年春节期间文化活动安排",
                    "春节期间，玉泉区将举办灯展、庙会、非遗展演等活动40余场。",
                    55,
                    "玉泉区文旅局",
                ),
                SamplePost(
                    54,
                    "玉泉区大召街区改造提升工程进展顺利",
                    "大召街区改造提升工程完成投资2.3亿元，预计今年6月完工。",
                    80,
                    "玉泉区住建局",
                ),
            ],
        ),
        SampleAccount(
            slug="nmg-feed",
            name="内蒙古自治区人民政府",
            platform="website",
            kind="feed",
            handle="www.nmg.gov.cn",
            organization="内蒙古自治区人民政府办公厅",
            region_code="150000",
            region_name="内蒙古自治区",
            path="/feeds/nmg.xml",
            posts=[
                SamplePost(
                    61,
                    "自治区政府召开全体会议",
                    "<p>自治区政府召开全体会议，安排部署2026年政府工作。</p>"
                    "<p>会议强调，要铸牢中华民族共同体意识。</p>",
                    8,
                    "内蒙古日报",
                ),
                SamplePost(
                    62,
                    "内蒙古出台支持民营经济发展若干措施",
                    "<p>自治区出台支持民营经济发展的20条措施，涉及融资、用地、人才等方面。</p>",
                    16,
                    "自治区发展改革委",
                    duplicate=True,
                ),
                SamplePost(
                    63,
                    "自治区应急管理厅发布寒潮预警",
                    "<p>受强冷空气影响，全区大部地区气温下降8至10℃。</p>",
                    0,
                    undated=True,
                ),
                SamplePost(
                    64,
                    "内蒙古2026年重点项目清单公布",
                    "<p>2026年全区安排重点项目3000个，总投资1.5万亿元。</p>",
                    33,
                    "自治区发展改革委",
                ),
                SamplePost(
                    65,
                    "自治区召开新闻发布会介绍草原生态保护成效",
                    "<p>全区草原综合植被盖度稳定在45%。</p>",
                    57,
                    "自治区林草局",
                ),
            ],
        ),
        SampleAccount(
            slug="jyj-toutiao",
            name="呼和浩特教育",
            platform="toutiao",
            kind="feed",
            handle="toutiao-hhhtjy",
            organization="呼和浩特市教育局",
            region_code="150100",
            region_name="呼和浩特市",
            path="/feeds/toutiao/hhhtjy.atom",
            posts=[
                SamplePost(
                    71,
                    "寒假安全教育告家长书",
                    "<p>寒假将至，请各位家长加强对孩子的安全教育，注意防溺水、防火、防一氧化碳中毒。</p>",
                    10,
                    "市教育局",
                ),
                SamplePost(
                    72,
                    "2026年中考报名工作通知",
                    "<p>2026年中考报名将于3月1日开始，考生可通过网上平台报名。</p>",
                    34,
                    "市教育局",
                ),
                SamplePost(
                    73,
                    "全市中小学开展冰雪运动进校园活动",
                    "<p>全市120所中小学开设冰雪运动课程。</p>",
                    58,
                    "市教育局",
                ),
                SamplePost(
                    74,
                    "市教育局开展校园食品安全专项检查",
                    "<p>检查覆盖全市中小学、幼儿园食堂560所。</p>",
                    80,
                    "市教育局",
                ),
            ],
        ),
        SampleAccount(
            slug="yuquan-douyin",
            name="玉泉融媒",
            platform="douyin",
            kind="feed",
            handle="douyin-yqrm",
            organization="玉泉区融媒体中心",
            region_code="150104",
            region_name="玉泉区",
            path="/feeds/douyin/yqrm.json",
            posts=[
                SamplePost(
                    81, "大召寺前的冬日清晨", "大召寺前的冬日清晨，鸽子在广场上觅食。#青城冬日", 4, "玉泉融媒"
                ),
                SamplePost(
                    82,
                    "非遗传承人现场制作烧麦",
                    "玉泉区非遗传承人现场展示烧麦制作技艺，吸引众多游客。",
                    29,
                    "玉泉融媒",
                ),
                SamplePost(
                    83,
                    "玉泉区冬季长跑活动开跑",
                    "玉泉区机关干部职工冬季长跑活动开跑，300余人参加。",
                    53,
                    "玉泉融媒",
                ),
                SamplePost(
                    84,
                    "塞上老街迎来客流高峰",
                    "周末塞上老街迎来客流高峰，特色小吃摊位前排起长队。",
                    75,
                    "玉泉融媒",
                ),
            ],
        ),
    ]
    for account in accounts:
        account.biz = wechat_biz(account.slug)
    return accounts


TICK_TEXTS = [
    ("关于做好春节期间安全生产工作的通知", "各单位要切实做好春节期间安全生产工作，严格落实值班值守制度。"),
    ("全市开展节前市场检查", "市场监管部门开展节前市场检查，重点检查食品安全和价格秩序。"),
    ("元宵节灯会安全提示", "元宵节灯会期间人员密集，请市民注意安全，听从现场工作人员指挥。"),
]


class SampleState:
    """The site's mutable content; the control endpoint ticks it between crawls."""

    def __init__(self, now: datetime | None = None) -> None:
        self.lock = threading.RLock()
        self.now = now or datetime.now(UTC).replace(microsecond=0)
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.accounts = build_accounts()
            self.ticks = 0
            self.next_number = 1000

    def account(self, slug: str) -> SampleAccount | None:
        return next((a for a in self.accounts if a.slug == slug), None)

    def published(self, post: SamplePost) -> datetime:
        return self.now - timedelta(hours=post.age_hours)

    def tick(self) -> dict[str, Any]:
        """On every account: one new post, the second newest edited, the third newest deleted."""
        with self.lock:
            self.ticks += 1
            # Half an hour passes: the clock moves on as every post ages, so a post keeps its
            # publication time (and the date in its URL) and only its age grows.
            self.now += timedelta(hours=TICK_HOURS)
            changes: dict[str, Any] = {}
            for account in self.accounts:
                live = [p for p in account.live_posts() if p.variant == "article" and not p.undated]
                edited = live[1] if len(live) > 1 else None
                deleted = live[2] if len(live) > 2 else None
                if edited is not None:
                    edited.edits += 1
                    edited.body += f"\n（{self.ticks}次更新：内容有修订。）"
                if deleted is not None:
                    deleted.status = "deleted"
                title, body = TICK_TEXTS[(self.ticks - 1) % len(TICK_TEXTS)]
                for post in account.posts:
                    post.age_hours += TICK_HOURS
                self.next_number += 1
                added = SamplePost(self.next_number, f"{title}（{account.name}）", body, 0.1, account.name)
                if account.kind == "feed" and account.path.endswith(".xml"):
                    added.body = f"<p>{body}</p>"
                account.posts.append(added)
                changes[account.slug] = {
                    "added": added.number,
                    "edited": edited.number if edited else None,
                    "deleted": deleted.number if deleted else None,
                }
            return changes

    def describe(self) -> dict[str, Any]:
        with self.lock:
            return {
                "now": self.now.isoformat(),
                "ticks": self.ticks,
                "accounts": [
                    {
                        **{k: v for k, v in asdict(account).items() if k != "posts"},
                        "posts": [asdict(post) for post in account.all_posts()],
                    }
                    for account in self.accounts
                ],
            }


def registry_rows(site: str = "{site}") -> list[dict[str, Any]]:
    """The sample accounts as registry rows (the columns of govwatch/sample/registry.csv)."""
    rows = []
    for number, account in enumerate(build_accounts(), start=1):
        rows.append(
            {
                "name": account.name,
                "platform": account.platform,
                "handle": account.handle,
                "organization": account.organization,
                "region_code": account.region_code,
                "region_name": account.region_name,
                "filing_number": f"蒙网信备2026{number:04d}号",
                "filing_date": f"2026-01-{number + 4:02d}",
                "source_kind": account.kind,
                "source_url": f"{site}{account.path}",
                "source_options": dict(account.options),
            }
        )
    return rows
