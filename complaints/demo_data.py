"""The texts and configuration of the demo data (`manage.py seed_demo`).

Pure data, no database access: the command reads it, picks from it with a seeded
random generator, and creates everything through the services. Chinese and
English side by side; names of configuration rows follow the "中文 English"
pattern of the priority grades.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from complaints import roles
from complaints.models import Channel, Demand, RootCause
from complaints.workflow import ComplaintStatus as S

ZH = "zh-hans"
EN = "en"

# --- Staff ----------------------------------------------------------------------------


@dataclass(frozen=True)
class UserSpec:
    username: str
    display_name: str
    role: str
    is_staff: bool = False
    is_superuser: bool = False


USERS = (
    UserSpec("admin", "刘洋 (admin)", roles.ADMIN, is_staff=True, is_superuser=True),
    UserSpec("supervisor", "李娜 (supervisor)", roles.SUPERVISOR, is_staff=True),
    UserSpec("agent", "王芳 (agent)", roles.AGENT),
    UserSpec("agent2", "张伟 (agent2)", roles.AGENT),
    UserSpec("tech", "陈强 (tech)", roles.RESPONDER),
)


@dataclass(frozen=True)
class TeamSpec:
    code: str
    name: str
    kind: str  # Team.Kind value
    members: tuple[str, ...]
    supervisor: str | None = None


TEAMS = (
    TeamSpec(
        "front-1",
        "客服一组 Front line 1",
        "front_line",
        ("agent", "agent2", "supervisor"),
        "supervisor",
    ),
    # agent2 works both queues, so the second team has an agent to claim its work.
    TeamSpec(
        "front-2", "客服二组 Front line 2", "front_line", ("agent2", "supervisor"), "supervisor"
    ),
    TeamSpec("dept-tech", "技术部 Technical", "department", ("tech",)),
    TeamSpec("dept-logistics", "物流部 Logistics", "department", ()),
    TeamSpec("dept-after-sales", "售后部 After-sales", "department", ()),
)

# --- Categories and products ----------------------------------------------------------


@dataclass(frozen=True)
class CategorySpec:
    code: str
    name: str
    parent: str | None
    default_team: str


CATEGORIES = (
    CategorySpec("quality", "质量问题 Product quality", None, "front-1"),
    CategorySpec("quality-malfunction", "功能故障 Malfunction", "quality", "front-1"),
    CategorySpec("quality-damage", "外观破损 Cosmetic damage", "quality", "front-1"),
    CategorySpec("quality-performance", "性能不达标 Poor performance", "quality", "front-1"),
    CategorySpec("service", "服务问题 Service", None, "front-1"),
    CategorySpec("service-attitude", "服务态度 Staff attitude", "service", "front-1"),
    CategorySpec("service-installation", "安装维修 Installation and repair", "service", "front-1"),
    CategorySpec("logistics", "物流配送 Delivery", None, "front-2"),
    CategorySpec("logistics-delay", "配送延迟 Late delivery", "logistics", "front-2"),
    CategorySpec("logistics-lost", "丢件 Lost parcel", "logistics", "front-2"),
    CategorySpec("billing", "账单费用 Billing", None, "front-2"),
    CategorySpec("billing-double-charge", "重复扣款 Double charge", "billing", "front-2"),
    CategorySpec("billing-refund", "退款延迟 Refund delay", "billing", "front-2"),
    CategorySpec("safety", "安全隐患 Safety hazard", None, "front-1"),
)


@dataclass(frozen=True)
class ProductSpec:
    sku: str
    zh: str
    en: str

    @property
    def name(self) -> str:
        return f"{self.zh} {self.en}"

    def in_language(self, lang: str) -> str:
        return self.zh if lang == ZH else self.en


PRODUCTS = (
    ProductSpec("KT-K1", "智能电水壶 K1", "Smart Kettle K1"),
    ProductSpec("RB-R2", "扫地机器人 R2", "Robot Vacuum R2"),
    ProductSpec("AP-A3", "空气净化器 A3", "Air Purifier A3"),
    ProductSpec("RC-C5", "电饭煲 C5", "Rice Cooker C5"),
    ProductSpec("DW-D6", "洗碗机 D6", "Dishwasher D6"),
    ProductSpec("MW-M2", "微波炉 M2", "Microwave Oven M2"),
    ProductSpec("VC-V8", "无线吸尘器 V8", "Cordless Vacuum V8"),
    ProductSpec("HM-H1", "加湿器 H1", "Humidifier H1"),
    ProductSpec("FN-F3", "落地扇 F3", "Standing Fan F3"),
    ProductSpec("WP-W5", "净水器 W5", "Water Purifier W5"),
    ProductSpec("AC-X9", "变频空调 X9", "Inverter Air Conditioner X9"),
    ProductSpec("WM-L7", "滚筒洗衣机 L7", "Front-load Washer L7"),
)
# The category the demo products are filed under.
PRODUCT_CATEGORY = "quality"

# --- Complaint scenarios ----------------------------------------------------------------
# Placeholders: {product} {days} {order} {amount} {date}. Every scenario is complete:
# the text the customer sends and the resolution the agent eventually records.


@dataclass(frozen=True)
class Scenario:
    lang: str
    category: str
    title: str
    description: str
    demand: str
    demand_detail: str
    priorities: tuple[str, ...]
    root_cause: str
    resolution: str
    remedy: str
    # None: any product; (): no product concerned.
    products: tuple[str, ...] | None = None
    # An inquiry rather than a complaint: these end rejected.
    inquiry: bool = False


D, R = Demand, RootCause

SCENARIOS = (
    # --- Chinese ------------------------------------------------------------------------
    Scenario(
        ZH,
        "quality-malfunction",
        "{product}用了{days}天就无法开机",
        "{date}晚上突然无法开机，插上电源指示灯不亮，按任何键都没有反应。换了插座也一样。"
        "购买才{days}天，订单号{order}。",
        D.REPLACEMENT,
        "要求直接换新机，不接受维修。",
        ("P2", "P3"),
        R.PRODUCT_DEFECT,
        "技术部检测确认为电源板虚焊导致无法开机，属于质量问题。",
        "免费更换新机，顺丰上门取件，并赠送一年延保。",
    ),
    Scenario(
        ZH,
        "quality-malfunction",
        "{product}频繁报错 E3，无法正常使用",
        "最近一周{product}每次用十几分钟就报 E3 故障码然后停机，按说明书重启也没用。"
        "客服热线一直占线，只好在这里投诉。",
        D.REPAIR,
        "希望尽快安排上门维修，维修期间能否提供备用机？",
        ("P3",),
        R.PRODUCT_DEFECT,
        "工程师上门检测为温度传感器故障，已现场更换传感器，试机正常。",
        "免费上门维修并更换传感器，补偿50元优惠券。",
        ("RB-R2", "DW-D6", "WM-L7", "AC-X9", "WP-W5"),
    ),
    Scenario(
        ZH,
        "quality-damage",
        "收到的{product}外壳有裂痕",
        "今天签收{product}，开箱发现机身右侧有一道明显裂痕，外包装完好，应该是出厂前就有的问题。"
        "已拍照留存。订单号{order}。",
        D.REPLACEMENT,
        "换一台完好的新机。",
        ("P3", "P4"),
        R.PRODUCT_DEFECT,
        "根据客户照片确认为出厂前外壳开裂，仓库抽检同批次未发现同类问题。",
        "补发新机，旧机由快递上门回收。",
    ),
    Scenario(
        ZH,
        "quality-performance",
        "{product}噪音太大，晚上根本没法用",
        "{product}开到最低档噪音也很大，像拖拉机一样，晚上吵得睡不着。宣传页写的是静音设计，"
        "实际完全不符。",
        D.REFUND,
        "申请全额退款退货。",
        ("P3", "P4"),
        R.PRODUCT_DEFECT,
        "检测发现风扇轴承装配偏差导致异响，确认为个别产品质量问题。",
        "同意全额退款{amount}元，上门取回产品。",
        ("AP-A3", "FN-F3", "HM-H1", "AC-X9", "VC-V8"),
    ),
    Scenario(
        ZH,
        "service-attitude",
        "客服态度恶劣，电话中途被挂断",
        "{date}下午致电客服咨询{product}的保修问题，接线客服语气很不耐烦，我还没说完就挂断了电话。"
        "作为老用户非常失望。",
        D.APOLOGY,
        "要求公司正式道歉，并说明对该客服的处理结果。",
        ("P3",),
        R.SERVICE,
        "调取通话录音核实，客服确有不当挂断行为，已对该员工进行培训和考核处理。",
        "客服主管致电道歉，赠送100元代金券，并重新解答保修问题。",
    ),
    Scenario(
        ZH,
        "service-installation",
        "上门安装师傅迟到三小时还额外收费",
        "预约{date}上午安装{product}，师傅下午才到，没有提前通知。安装时又以材料费为由额外收取"
        "{amount}元，说好的免费安装呢？",
        D.REFUND,
        "退还额外收取的费用，并给个说法。",
        ("P2", "P3"),
        R.THIRD_PARTY,
        "核实为合作安装服务商违规收费，已责令其退款并纳入服务商考核。",
        "退还{amount}元材料费，另补偿50元话费。",
        ("AC-X9", "WM-L7", "DW-D6", "WP-W5"),
    ),
    Scenario(
        ZH,
        "logistics-delay",
        "订单{order}下单{days}天还没送到",
        "{date}下的单，页面承诺三天内送达，现在已经{days}天了物流信息一直停在中转站，"
        "联系快递也说不清楚。",
        D.EXPLANATION,
        "尽快送达，并说明延误原因。",
        ("P3",),
        R.LOGISTICS,
        "物流部核实包裹在中转站分拣时滞留，已加急派送，客户已签收。",
        "赠送30元无门槛券作为延误补偿。",
    ),
    Scenario(
        ZH,
        "logistics-lost",
        "物流显示已签收，但我根本没收到{product}",
        "物流信息显示{date}已签收，可是家里人都没有收到，快递柜和门卫处也没有。"
        "订单号{order}，金额{amount}元。",
        D.REPLACEMENT,
        "要求补发或者退款。",
        ("P2",),
        R.LOGISTICS,
        "快递公司确认快递员误投至同小区其他楼栋，包裹已丢失，由快递公司承担赔偿。",
        "立即补发同款新机，原包裹由物流部向快递公司追偿。",
    ),
    Scenario(
        ZH,
        "billing-double-charge",
        "同一个订单被扣了两次款",
        "购买{product}（订单号{order}）时支付页面卡住，我重新支付了一次，结果银行卡被扣了两次"
        "{amount}元，但只有一个订单。",
        D.REFUND,
        "退还多扣的{amount}元。",
        ("P2",),
        R.BILLING,
        "支付网关超时后重复扣款，财务核对流水确认多收一笔。",
        "原路退回多扣款项{amount}元，预计3个工作日到账。",
    ),
    Scenario(
        ZH,
        "billing-refund",
        "退货已寄回{days}天仍未退款",
        "{product}按要求办理了七天无理由退货，{date}已寄回，快递显示仓库已签收，"
        "到现在{days}天了退款还没到账。",
        D.REFUND,
        "尽快退款{amount}元。",
        ("P3",),
        R.POLICY,
        "仓库验货环节积压导致退款未及时触发，已人工加急处理。",
        "退款{amount}元已发起，另补偿20元券。",
    ),
    Scenario(
        ZH,
        "safety",
        "{product}使用时冒烟并有焦糊味",
        "昨晚使用{product}时，电源线连接处突然冒烟，有明显焦糊味，差点起火。家里有小孩，"
        "非常害怕，已经拔掉电源不敢再用。",
        D.COMPENSATION,
        "要求退货并赔偿，并检查同批次产品是否存在安全隐患。",
        ("P1",),
        R.PRODUCT_DEFECT,
        "技术部检测确认电源接口端子接触不良导致局部过热，已上报质量部对同批次产品排查。",
        "全额退款并赔偿500元，质量部对同批次产品启动排查。",
        ("KT-K1", "RC-C5", "MW-M2", "HM-H1", "FN-F3"),
    ),
    Scenario(
        ZH,
        "safety",
        "{product}外壳漏电，手碰到有麻感",
        "{product}工作时手碰到金属外壳有明显的麻感，用电笔测试会亮。担心触电危险，请尽快处理。",
        D.REPLACEMENT,
        "要求上门检测并更换。",
        ("P1",),
        R.PRODUCT_DEFECT,
        "上门检测为接地线未可靠连接，属装配缺陷。",
        "当场更换新机，赠送两年延保，质量部已追溯装配工位。",
        ("WM-L7", "DW-D6", "MW-M2", "WP-W5"),
    ),
    Scenario(
        ZH,
        "service",
        "请问{product}可以用来煮牛奶吗？",
        "刚买的{product}，想问一下能不能直接煮牛奶或者泡茶，说明书上没写清楚。",
        D.EXPLANATION,
        "",
        ("P4",),
        R.MISUNDERSTANDING,
        "已解答使用问题。",
        "无需补救。",
        ("KT-K1", "RC-C5"),
        inquiry=True,
    ),
    Scenario(
        ZH,
        "service",
        "想咨询一下{product}的保修期是多久",
        "{product}是{date}买的，想确认一下整机保修和主要部件保修各是多久，需要保留哪些凭证。",
        D.EXPLANATION,
        "",
        ("P4",),
        R.MISUNDERSTANDING,
        "已解答保修政策。",
        "无需补救。",
        inquiry=True,
    ),
    # --- English ------------------------------------------------------------------------
    Scenario(
        EN,
        "quality-malfunction",
        "{product} stopped working after {days} days",
        "My {product} will not switch on any more. The power light stays off and none of the "
        "buttons respond. I tried another socket. It is only {days} days old (order {order}).",
        D.REPLACEMENT,
        "Please send a new unit; I do not want a repaired one.",
        ("P2", "P3"),
        R.PRODUCT_DEFECT,
        "Technical found a cold solder joint on the power board: a manufacturing defect.",
        "Free replacement with courier pick-up of the faulty unit, plus one year of extra "
        "warranty.",
    ),
    Scenario(
        EN,
        "quality-malfunction",
        "{product} keeps showing error E3",
        "For a week now the {product} stops after ten minutes with error E3. Restarting as the "
        "manual says does not help, and your hotline is always busy.",
        D.REPAIR,
        "A technician visit as soon as possible.",
        ("P3",),
        R.PRODUCT_DEFECT,
        "The engineer replaced a faulty temperature sensor on site; the unit works normally.",
        "Free on-site repair and a 50 CNY voucher.",
        ("RB-R2", "DW-D6", "WM-L7", "AC-X9", "WP-W5"),
    ),
    Scenario(
        EN,
        "quality-damage",
        "{product} arrived with a cracked panel",
        "The {product} delivered today has a long crack on the right-hand side. The box was "
        "intact, so it must have left the factory like this. Photos attached. Order {order}.",
        D.REPLACEMENT,
        "An undamaged replacement.",
        ("P3", "P4"),
        R.PRODUCT_DEFECT,
        "Photos confirm the casing cracked before packing; no other unit of the batch affected.",
        "Replacement shipped; the courier collects the damaged unit.",
    ),
    Scenario(
        EN,
        "service-attitude",
        "Support agent hung up on me",
        "I called your hotline on {date} about the warranty of my {product}. The agent was "
        "impatient and hung up before I had finished. Not what I expect after years as a "
        "customer.",
        D.APOLOGY,
        "A proper apology and an answer to my warranty question.",
        ("P3",),
        R.SERVICE,
        "The call recording confirms the agent ended the call; coaching given.",
        "The team supervisor called to apologise and answered the warranty question; "
        "100 CNY voucher.",
    ),
    Scenario(
        EN,
        "logistics-delay",
        "Order {order} still not delivered after {days} days",
        "I ordered on {date} with delivery promised within three days. {days} days later the "
        "tracking still shows the parcel at the sorting hub and the courier cannot tell me why.",
        D.EXPLANATION,
        "Deliver it, and tell me what went wrong.",
        ("P3",),
        R.LOGISTICS,
        "Logistics found the parcel held at the hub after a sorting error; express delivery "
        "arranged and received.",
        "30 CNY voucher for the delay.",
    ),
    Scenario(
        EN,
        "logistics-lost",
        "Parcel marked as delivered but never received",
        "Tracking says my {product} was delivered on {date}, but nobody at home received it and "
        "it is not in the parcel locker either. Order {order}, {amount} CNY.",
        D.REFUND,
        "A full refund or a new unit.",
        ("P2",),
        R.LOGISTICS,
        "The courier admitted delivering to the wrong building; the parcel is lost.",
        "New unit sent at once; Logistics recovers the cost from the courier.",
    ),
    Scenario(
        EN,
        "billing-double-charge",
        "Charged twice for one order",
        "The payment page froze while I was buying a {product} (order {order}), so I paid again. "
        "My card was charged {amount} CNY twice for a single order.",
        D.REFUND,
        "Refund the second charge of {amount} CNY.",
        ("P2",),
        R.BILLING,
        "The payment gateway timed out and charged twice; Finance confirmed the duplicate.",
        "Duplicate charge of {amount} CNY refunded to the card (3 working days).",
    ),
    Scenario(
        EN,
        "billing-refund",
        "Refund not received {days} days after return",
        "I returned the {product} on {date} under the 7-day return policy. The warehouse signed "
        "for it, but after {days} days I still have no refund.",
        D.REFUND,
        "My refund of {amount} CNY.",
        ("P3",),
        R.POLICY,
        "The refund was stuck behind a backlog at warehouse inspection; released manually.",
        "Refund of {amount} CNY issued, plus a 20 CNY voucher.",
    ),
    Scenario(
        EN,
        "safety",
        "{product} overheated and started smoking",
        "Last night the {product} started smoking where the cable joins the base and there was a "
        "strong burning smell. I unplugged it immediately. This could have caused a fire.",
        D.COMPENSATION,
        "Refund, compensation, and a check of the other units of this batch.",
        ("P1",),
        R.PRODUCT_DEFECT,
        "Technical found a loose terminal in the power connector causing local overheating; "
        "Quality is checking the batch.",
        "Full refund and 500 CNY compensation; batch investigation opened.",
        ("KT-K1", "RC-C5", "MW-M2", "HM-H1", "FN-F3"),
    ),
    Scenario(
        EN,
        "service",
        "How long is the warranty on the {product}?",
        "I bought a {product} on {date}. How long is the warranty, and which receipts do I "
        "need to keep?",
        D.EXPLANATION,
        "",
        ("P4",),
        R.MISUNDERSTANDING,
        "Warranty question answered.",
        "None needed.",
        inquiry=True,
    ),
)

# --- What people write along the way ------------------------------------------------------

REPLIES = {
    ZH: (
        "您好，您的投诉我们已经收到，正在联系相关部门核实，会在24小时内给您答复。",
        "非常抱歉给您带来不便。我们已安排专人跟进，请保持电话畅通。",
        "您好，技术部门正在分析故障原因，有进展会第一时间通知您。",
        "感谢您的耐心等待，处理方案已提交审批，预计明天可以给您确认。",
    ),
    EN: (
        "Thank you for contacting us. We are checking with the team concerned and will reply "
        "within 24 hours.",
        "We are sorry for the trouble. Someone is following your case personally; we will call "
        "you.",
        "Our technical team is looking into the fault and we will update you as soon as we know "
        "more.",
        "Thank you for your patience: the remedy is awaiting approval and we expect to confirm "
        "it tomorrow.",
    ),
}

# By topic: the first part of the category code ("logistics-lost" → "logistics").
NOTES = {
    "quality": {
        ZH: ("已提交技术部检测，等待结论。", "同批次本月已有3起类似投诉，建议质量部跟进。"),
        EN: (
            "Sent to Technical for analysis, waiting for their findings.",
            "Third similar report from this batch this month; flag it to Quality.",
        ),
    },
    "safety": {
        ZH: ("安全类投诉，已同步质量部和技术部，24小时内必须给客户答复。",),
        EN: ("Safety case: Quality and Technical informed, the customer must hear back in 24 h.",),
    },
    "service": {
        ZH: ("已调取通话录音，正在核实。", "客户情绪比较激动，回复时注意措辞。"),
        EN: (
            "Call recording requested, checking what was said.",
            "Customer is upset, choose the wording of replies carefully.",
        ),
    },
    "logistics": {
        ZH: ("已联系物流公司查询，对方称包裹在中转站滞留。", "已请物流部向快递公司发起查件。"),
        EN: (
            "Checked with the courier: the parcel is stuck at the hub.",
            "Asked Logistics to open a trace with the courier.",
        ),
    },
    "billing": {
        ZH: ("已请财务核对支付流水。", "客户是老会员，按政策可以优先处理。"),
        EN: (
            "Asked Finance to check the payment records.",
            "Long-standing member: priority handling per policy.",
        ),
    },
}

# (question to the customer, the customer's answer), by topic.
QUESTIONS = {
    "quality": {
        ZH: (
            (
                "请提供产品背面铭牌的照片和购买凭证，以便我们核实保修。",
                "照片已经上传了，发票也在附件里。",
            ),
            (
                "请问故障出现时指示灯是什么颜色？方便的话请拍一段视频。",
                "指示灯是红色一直闪，视频已发送。",
            ),
        ),
        EN: (
            (
                "Could you send a photo of the rating label and your proof of purchase?",
                "Photos attached, together with the invoice.",
            ),
            (
                "What colour is the indicator light when the fault occurs? A short video would "
                "help.",
                "The light blinks red. Video attached.",
            ),
        ),
    },
    "safety": {
        ZH: (("请确认产品已断电停用，并告知方便上门检测的时间。", "已经断电了，周六上午都在家。"),),
        EN: (
            (
                "Please keep the unit unplugged and tell us when a technician may visit.",
                "It is unplugged. Saturday morning works for me.",
            ),
        ),
    },
    "service": {
        ZH: (
            (
                "请问来电的大致时间和来电号码是多少？我们调取录音核实。",
                "大概下午三点，用的就是这个手机号。",
            ),
        ),
        EN: (
            (
                "At what time did you call, and from which number? We will check the recording.",
                "Around 3 pm, from this mobile number.",
            ),
        ),
    },
    "logistics": {
        ZH: (("请确认收货地址和收件人电话是否正确。", "地址没错，收件人就是我本人。"),),
        EN: (
            (
                "Please confirm the delivery address and the recipient's phone number.",
                "The address is right and the recipient is me.",
            ),
        ),
    },
    "billing": {
        ZH: (("请提供银行扣款记录的截图，以便财务核对。", "截图已上传，两笔扣款都在里面。"),),
        EN: (
            (
                "Could you send a screenshot of the card statement so Finance can match it?",
                "Screenshot attached; both charges are on it.",
            ),
        ),
    },
}

CHASERS = {
    ZH: (
        "请问处理进度如何？已经等了好几天了。",
        "怎么还没有人联系我？麻烦尽快处理。",
    ),
    EN: (
        "Any update on this? It has been several days.",
        "Nobody has contacted me yet. Please deal with this quickly.",
    ),
}

THANKS = {
    ZH: ("收到，谢谢，我先用几天看看。", "方案可以接受，谢谢。"),
    EN: ("Received, thank you. I will try it for a few days.", "That works for me, thanks."),
}

DUPLICATE_PREFIX = {
    ZH: "之前已经反映过同样的问题，一直没人联系我，再说一遍：",
    EN: "I already reported this before and heard nothing back, so here it is again: ",
}

MERGE_REASONS = {
    ZH: "同一客户同一问题重复投诉，合并到 {number} 统一处理。",
    EN: "Same customer, same problem reported again; merged into {number}.",
}

TRIAGE_BY_SAFETY_RULE = {
    ZH: "关键词规则：冒烟/起火/漏电 → 最高优先级",
    EN: "Keyword rule: smoke/fire/electric shock → highest priority",
}

TRIAGE_BY_RULE = {
    ZH: "关键词规则自动分类",
    EN: "Classified by keyword rules",
}

REASSIGN_REASONS = {
    ZH: ("原处理人休假，转交同事跟进。", "需要熟悉该产品线的同事处理。"),
    EN: ("Agent on leave; handing over.", "Needs someone who knows this product line."),
}

RELEASE_REASONS = {
    ZH: ("需要有退款权限的同事处理，退回队列。",),
    EN: ("Needs someone with refund authority; back to the queue.",),
}

CLOSE_BY_SYSTEM = {
    ZH: (
        "满意度回访：客户表示满意。",
        "7天内未回复满意度调查，自动结案。",
        "回访电话已完成，客户确认问题解决。",
    ),
    EN: (
        "Survey: customer satisfied.",
        "No survey answer within 7 days; closed automatically.",
        "Call-back done: customer confirms the problem is solved.",
    ),
}

CLOSE_BY_SUPERVISOR = {
    ZH: "主管结案：客户电话中确认接受处理方案。",
    EN: "Closed by supervisor: the customer accepted the remedy on the phone.",
}

REOPEN_BY_SYSTEM = {
    ZH: "满意度回访：客户不满意，问题未解决。",
    EN: "Survey: customer unsatisfied, problem not solved.",
}

REOPEN_BY_AGENT = {
    ZH: "客户来电反映同样的故障再次出现。",
    EN: "Customer called: the same fault came back.",
}

SECOND_RESOLUTION = {
    ZH: "二次处理：主管介入后重新检测并更换主要部件，客户确认正常。",
    EN: "Second handling: after the supervisor stepped in, the main part was replaced; "
    "customer confirms it works.",
}

REJECT_INQUIRY = {
    ZH: "经核实为产品使用咨询，不属于投诉，已在回复中解答。",
    EN: "A usage question rather than a complaint; answered in our reply.",
}

REJECT_OTHER = {
    ZH: (
        "经核实，该产品非本公司官方渠道销售（序列号无记录），不在我司售后范围内。",
        "产品已超出保修期，且检测为进水导致的人为损坏，不属于质量问题。",
    ),
    EN: (
        "The serial number is not in our records: the unit was not sold through our channels.",
        "The unit is out of warranty and shows liquid damage, which is not a product defect.",
    ),
}

RECOURSE = {
    ZH: "如对处理结果有异议，可拨打全国12315消费者投诉热线，或向当地市场监督管理部门反映。",
    EN: "If you disagree, you may contact the consumer hotline 12315 or your local consumer "
    "protection authority.",
}


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# --- Customers --------------------------------------------------------------------------

ZH_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐"
ZH_GIVEN = _words(
    "伟 芳 娜 敏 静 丽 强 磊 洋 艳 勇 军 杰 娟 涛 明 超 霞 平 刚 秀英 桂英 晓东 子涵 浩然 雨桐 思远 欣怡 建华 海燕 志强 文博"
)
EN_FIRST = _words(
    "Emma Liam Olivia Noah Ava Oliver Sophia Lucas Mia Ethan Grace James Chloe Daniel Hannah Kevin Michelle Jason Amy David"
)
EN_LAST = _words(
    "Smith Johnson Brown Taylor Wilson Clarke Walker Hughes Martin Evans Green Chen Wong Lee Patel Nguyen Murphy Kelly"
)
# Reserved for documentation (RFC 2606): never a real mailbox.
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")

# --- The plan: what to create, decided before touching the database ------------------------

# Demo customers carry an external id of this system: how the command knows its data.
DEMO_SYSTEM = "seed_demo"

# How often each final state occurs, and how many days ago such a complaint came in
# (older complaints are further along). Merged ones follow their target instead.
STATE_WEIGHTS = {
    S.NEW: 8,
    S.TRIAGED: 7,
    S.ASSIGNED: 7,
    S.IN_PROGRESS: 12,
    S.AWAITING_CUSTOMER: 7,
    S.RESOLVED: 12,
    S.CLOSED: 30,
    S.REOPENED: 5,
    S.REJECTED: 5,
    S.MERGED: 7,
}
AGE_DAYS = {
    S.NEW: (0, 2),
    S.TRIAGED: (0, 4),
    S.ASSIGNED: (1, 7),
    S.IN_PROGRESS: (1, 14),
    S.AWAITING_CUSTOMER: (2, 14),
    S.RESOLVED: (3, 21),
    S.CLOSED: (7, 90),
    S.REOPENED: (5, 45),
    S.REJECTED: (1, 90),
    S.MERGED: (1, 30),
}
CHANNEL_WEIGHTS = {
    Channel.WEB: 30,
    Channel.PHONE: 25,
    Channel.EMAIL: 15,
    Channel.SOCIAL: 12,
    Channel.API: 10,
    Channel.IN_STORE: 8,
}
LANGUAGE_WEIGHTS = {ZH: 2, EN: 1}
TIER_WEIGHTS = {"standard": 75, "silver": 12, "gold": 8, "vip": 5}
AMOUNTS = (59, 89, 129, 199, 299, 399, 599, 899, 1299, 2599)
EN_MONTHS = _words("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec")


@dataclass(frozen=True)
class CustomerSpec:
    key: str
    lang: str
    name: str
    phone: str  # canonical digits with country code, e.g. +8613812345678
    email: str
    tier: str

    @property
    def typed_phones(self) -> tuple[str, ...]:
        """The ways people type this number; intake normalises them all to one."""
        if self.phone.startswith("+86"):
            d = self.phone[3:]
            return (d, f"{d[:3]} {d[3:7]} {d[7:]}", f"{d[:3]}-{d[3:7]}-{d[7:]}", self.phone)
        d = self.phone[3:]  # +44 7700 9xxxxx
        return (self.phone, f"+44 {d[:4]} {d[4:]}", f"0044 {d[:4]} {d[4:]}")


@dataclass(frozen=True)
class Plan:
    final: str  # the state the complaint ends in
    channel: str
    lang: str
    received_at: datetime
    scenario: Scenario
    product: ProductSpec | None
    priority: str
    customer: CustomerSpec
    order: str
    texts: dict[str, str]

    @property
    def topic(self) -> str:
        return self.scenario.category.split("-")[0]

    def again(self, **changes) -> Plan:
        return replace(self, **changes)


def _spread(weights: dict[str, int], n: int, rng: random.Random) -> list[str]:
    """n values: each at least once when n allows it, the rest by weight, shuffled."""
    keys = list(weights)
    values = keys[:] if n >= len(keys) else rng.sample(keys, n)
    values += rng.choices(keys, weights=list(weights.values()), k=n - len(values))
    rng.shuffle(values)
    return values


class _Customers:
    """New customers, and now and then one who complained before (same phone)."""

    # A repeat customer complains at most this often (merged duplicates come on top).
    MAX_COMPLAINTS = 4

    def __init__(self, rng: random.Random, n: int):
        self.rng = rng
        self.repeaters: dict[str, list[CustomerSpec]] = {ZH: [], EN: []}
        self.max_repeaters = max(3, n // 12)
        self.uses: Counter[str] = Counter()
        self.phones: set[str] = set()
        self.count = 0

    def pick(self, lang: str, *, needs_email: bool) -> CustomerSpec:
        pool = [
            c
            for c in self.repeaters[lang]
            if (c.email or not needs_email) and self.uses[c.key] < self.MAX_COMPLAINTS
        ]
        if pool and self.rng.random() < 0.15:
            spec = self.rng.choice(pool)
        else:
            spec = self._new(lang, needs_email=needs_email)
            if len(self.repeaters[lang]) < self.max_repeaters and self.rng.random() < 0.3:
                self.repeaters[lang].append(spec)
        self.uses[spec.key] += 1
        return spec

    def _new(self, lang: str, *, needs_email: bool) -> CustomerSpec:
        rng = self.rng
        self.count += 1
        while True:
            if lang == ZH:
                phone = f"+861{rng.choice('3578')}{rng.randint(0, 9)}{rng.randint(0, 99999999):08d}"
            else:
                phone = f"+4477009{rng.randint(0, 99999):05d}"
            if phone not in self.phones:
                self.phones.add(phone)
                break
        domain = rng.choice(EMAIL_DOMAINS)
        if lang == ZH:
            name = rng.choice(ZH_SURNAMES) + rng.choice(ZH_GIVEN)
            has_email = needs_email or rng.random() < 0.7
            email = f"{rng.randint(100000, 999999999)}@{domain}" if has_email else ""
        else:
            first, last = rng.choice(EN_FIRST), rng.choice(EN_LAST)
            name = f"{first} {last}"
            email = f"{first}.{last}{self.count}@{domain}".lower()
        tier = rng.choices(list(TIER_WEIGHTS), weights=list(TIER_WEIGHTS.values()))[0]
        return CustomerSpec(f"customer-{self.count}", lang, name, phone, email, tier)


def plan_complaints(n: int, *, rng: random.Random, now: datetime) -> list[Plan]:
    """What n demo complaints will be: reproducible for a given seed (and `now`)."""
    finals = _spread(STATE_WEIGHTS, n, rng)
    channels = _spread(CHANNEL_WEIGHTS, n, rng)
    langs = _spread(LANGUAGE_WEIGHTS, n, rng)
    customers = _Customers(rng, n)
    products = {p.sku: p for p in PRODUCTS}
    plans = []
    for final, channel, lang in zip(finals, channels, langs, strict=True):
        scenarios = [
            s for s in SCENARIOS if s.lang == lang and (not s.inquiry or final == S.REJECTED)
        ]
        if final == S.REJECTED and rng.random() < 0.5:
            scenarios = [s for s in scenarios if s.inquiry] or scenarios
        scenario = rng.choice(scenarios)
        skus = list(products) if scenario.products is None else list(scenario.products)
        product = products[rng.choice(skus)] if skus else None
        low, high = AGE_DAYS[final]
        # At least half an hour old, so a duplicate can still come in after it.
        received_at = now - timedelta(minutes=rng.randint(low * 1440 + 30, high * 1440 + 720))
        mentioned = received_at - timedelta(days=rng.randint(1, 5))
        order = f"SO{mentioned:%Y%m%d}{rng.randint(1000, 9999)}"
        values = {
            "product": product.in_language(lang)
            if product
            else ("产品" if lang == ZH else "product"),
            "days": rng.randint(3, 30),
            "order": order,
            "amount": rng.choice(AMOUNTS),
            "date": (
                f"{mentioned.month}月{mentioned.day}日"
                if lang == ZH
                else f"{mentioned.day} {EN_MONTHS[mentioned.month - 1]}"
            ),
        }
        fields = ("title", "description", "demand_detail", "resolution", "remedy")
        texts = {f: getattr(scenario, f).format_map(values) for f in fields}
        plans.append(
            Plan(
                final=final,
                channel=channel,
                lang=lang,
                received_at=received_at,
                scenario=scenario,
                product=product,
                priority=rng.choice(scenario.priorities),
                customer=customers.pick(lang, needs_email=channel == Channel.EMAIL),
                order=order,
                texts=texts,
            )
        )
    return plans
