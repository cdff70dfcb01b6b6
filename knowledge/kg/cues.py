"""What a question asks about: attribute cues, comparison and list patterns, vetoes.

All patterns run on normalized text (Simplified, lowercase, half-width). They are
deliberately narrow: a question the graph is not sure about goes to the FAQ retriever,
which has a human-written answer for every procedure (逾期、提前还款、转让……).
"""
from __future__ import annotations

import re

# An "aspect" is a fact kind (see FACT_KINDS) or a link relation of a product.
# Each cue lists aspects in preference order: the first the product has is answered.
ASPECT_CUES: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = tuple(
    (re.compile(pattern), aspects) for pattern, aspects in (
        (r"免年费|减免|免次年|年费.{0,4}(免|不交|不收)", ("fee_waiver",)),
        (r"年费", ("annual_fee",)),
        (r"工本费|(补|换)卡.{0,4}(钱|费)", ("card_fee",)),
        (r"管理费", ("management_fee",)),
        (r"利率|利息.{0,3}(多少|几个点|几厘)|(多少|几个点)利息|年化(?!收益)|息多少", ("rate", "expected_yield")),
        (r"收益|业绩比较基准|业绩基准|能赚多少|回报", ("expected_yield",)),
        (r"额度|(贷|借)(款)?多少(?!年)|最(多|高)(能|可以)?(贷|借|批)|上限|能批多少|贷几成|可贷",
         ("credit_limit", "max_amount")),
        (r"取(款|现|钱).{0,4}(限额|上限|最多|多少)|(每天|每日|一天|单笔).{0,4}取.{0,2}多少",
         ("withdrawal_limit",)),
        (r"有效期|能用几年|能用多久", ("validity",)),
        (r"最长|多少年|几年|期限|存期|(能|可以)(贷|借)多久|多长时间还|分几期|几期", ("max_term", "term")),
        (r"起存|起购|起投|起点|起买|最(低|少)(存|买|购买|投资|投|要)|门槛|多少钱(起|能买|可以买|能存)",
         ("minimum", "requires")),
        (r"审批|审核|多久(能)?(批|放款|下来)|几天(能)?(批|放款|下来)|放款.{0,2}(多久|几天)", ("review_time",)),
        (r"赎回|卖出|取出来|什么时候(能|可以)取", ("redemption",)),
        (r"风险等级|风险级别|什么风险|风险(高|大|怎么样|如何)|几级|r几", ("risk_level",)),
        (r"条件|要求|资格|谁(能|可以)(申请|办|贷)|什么人(能|可以)", ("requires",)),
        (r"材料|资料|证件|带什么|准备什么|要什么证|文件|手续", ("requires_material",)),
        (r"在哪(里|儿)?(申请|办|买|购买|开)|哪里(可以|能)?(申请|办|买|购买)|渠道|怎么(申请|办理|购买|买)",
         ("applies_via",)),
        (r"权益|福利|好处|特权|优惠", ("has_benefit",)),
    ))

# Procedures and opinions: the FAQ has the right, human-written answer.
VETO = re.compile(r"逾期|提前(还|支取|取|结清)|转让|抵扣|个税|违约|挂失|注销|销户|冻结|被骗|诈骗|"
                  r"变|调整|上调|下调|降|影响|lpr|为什么|怎么办|怎么还|还款方式|一样|高吗|低吗|太(高|贵)|"
                  r"(比较|最)(好|划算)|几号|什么时候(发|到|结息|扣)|c[1-5]|外币|外汇|美元|欧元|日元|英镑|港币|没通过|被拒|投诉|退保|撤销|解押|征信|保本|"
                  r"亏|安全吗|靠谱|是什么意思|什么意思|算存款|存款保险|附属卡|附卡|副卡|积分.{0,3}(兑换|怎么)")
COMPARISON = re.compile(r"区别|不同|不一样|差别|差异|比较|对比|哪个(好|划算|更|适合|合适|高|低)|选哪个|"
                        r"好在哪|差在哪|vs|pk|相比|比.{1,6}(高|低|多|少|好)")
# Lists, matched on text where linked spans are replaced by placeholders:
# {C} a category, {R} a risk level, {M} a material, {H} a channel.
LIST_PATTERNS = tuple(re.compile(p) for p in (
    r"(哪些|哪几种|哪几款|哪几个|什么|几种|几款)(的)?{C}",
    r"{C}(产品)?(都)?(有|分)(哪些|哪几种|哪几款|什么|几种|几款|几类|啥)(产品|种类|类型|品种)?$",
    r"{R}.{0,6}(有|是)?(哪些|哪几款|哪几个|什么产品|什么理财)",
    r"(哪些|哪几款|哪几个).{0,6}{R}",
    r"(哪些|哪几种).{0,8}({M}|{H})",
))
PLACEHOLDERS = {"category": "{C}", "risk_level": "{R}", "material": "{M}", "channel": "{H}"}


def aspects_asked(text: str) -> list[tuple[str, ...]]:
    """Cued aspect groups in ``text`` (each group in preference order), first cue first."""
    found = [(match.start(), aspects) for pattern, aspects in ASPECT_CUES
             if (match := pattern.search(text))]
    # 免年费 also contains 年费: the waiver answer already gives the fee.
    groups = [aspects for _, aspects in sorted(found)]
    if ("fee_waiver",) in groups and ("annual_fee",) in groups:
        groups.remove(("annual_fee",))
    return groups


def is_vetoed(text: str) -> bool:
    """True when the question is about a procedure or an opinion, not a product fact."""
    return VETO.search(text) is not None


def asks_comparison(text: str) -> bool:
    return COMPARISON.search(text) is not None


def asks_list(placeholder_text: str) -> bool:
    """True when a list pattern matches text with linked spans replaced by placeholders."""
    return any(pattern.search(placeholder_text) for pattern in LIST_PATTERNS)
