"""Is this answer a person's name? (binding's name, a new payee's name)

A name is 2–4 Chinese characters (张伟, 欧阳娜娜), or a minority name whose parts are joined
by a middle dot (买买提·艾力, up to 20 characters). It is not a banking term or business word
(房贷利率, the English "mortgage rate" after normalization, 信用卡), not a question (在哪,
什么), not small talk or an answer to a yes/no question (你好, 好的, 不对). A customer whose
answer is refused is asked again; a knowledge question at that step is still answered by the
policy (the extractor simply does not take it as a name).

The normalizer drops the middle dot as decoration, so a dotted name is read from the text
as typed (`from_typed`).
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from chatbot.nlu.entities.numbers import DIGIT_CHARS, UNIT_CHARS
from chatbot.nlu.resources import BANKING_DICT_FILE, load_dictionary_terms, resolve_data_dir

HAN = r"\u4e00-\u9fff"
PLAIN = re.compile(rf"^[{HAN}]{{2,4}}$")
DOTS = "·•・‧∙⋅.．"
DOTTED = re.compile(rf"^[{HAN}]{{1,10}}(?:[{re.escape(DOTS)}][{HAN}]{{1,10}}){{1,3}}$")
MAX_DOTTED = 20
# Words no name contains: business, banking and service words, questions, particles, replies.
NOT_IN_NAMES = re.compile(
    "利率|利息|贷款|房贷|车贷|存款|取款|余额|转账|汇款|挂失|理财|基金|保险|股票|黄金|外汇|信用|储蓄|"
    "账户|账号|帐户|银行|网点|柜台|客服|人工|密码|验证|手机|号码|身份|证件|绑定|解绑|明细|流水|额度|"
    "还款|分期|费用|手续|年费|工本|开户|销户|激活|申请|办理|查询|查查|业务|产品|新闻|资讯|订阅|投诉|"
    "问题|卡号|卡片|钱包|现金|块钱|"
    "什么|怎么|为什么|为何|多少|如何|可以|能否|是否|哪|谁|啥|咋|几|吗|呢|吧|啊|呀|么|嘛|哦|嗯|"
    "的|了|你好|您好|谢谢|再见|知道|没有|不是|是的|好的|不用|不要|不办|算了|取消|确认|帮我|我要|我想|"
    "请问|改成|换成|改为|不对|错了|转给|汇给|打给|付给"
)
NUMERAL = re.compile(f"^[{DIGIT_CHARS}{UNIT_CHARS}]+(?:块钱?|元|毛|角)?$")  # 两千五, 五百块: an amount
KIN = re.compile(r"^(?:我|俺)?(?:妈妈?|爸爸?|老婆|老公|媳妇|儿子|女儿|哥哥?|姐姐?|弟弟?|妹妹?|爷爷|奶奶|外公|外婆)$")


@lru_cache(maxsize=1)
def _banking_terms() -> tuple[str, ...]:
    """Terms of the segmenter's banking dictionary (2+ characters): none is part of a name."""
    try:
        terms = load_dictionary_terms(resolve_data_dir(None) / BANKING_DICT_FILE)
    except (OSError, TypeError):  # no data directory: the built-in list above still applies
        return ()
    return tuple(t for t in terms if len(t) >= 2 and re.fullmatch(f"[{HAN}]+", t))


def looks_like_name(text: str | None) -> bool:
    """True when `text` (as typed or normalized) could be a person's name."""
    if not text:
        return False
    text = unicodedata.normalize("NFKC", text).strip()
    if not (PLAIN.match(text) or (DOTTED.match(text) and len(text) <= MAX_DOTTED)):
        return False
    bare = re.sub(f"[{re.escape(DOTS)}]", "", text)
    if NOT_IN_NAMES.search(bare) or NUMERAL.match(bare):
        return False
    return not any(term in bare for term in _banking_terms())


def from_typed(typed: str) -> str | None:
    """A dotted minority name the customer typed (the middle dot kept as ·), or None."""
    text = unicodedata.normalize("NFKC", typed).strip()
    if DOTTED.match(text) and len(text) <= MAX_DOTTED and looks_like_name(text):
        return re.sub(f"[{re.escape(DOTS)}]", "·", text)
    return None


def is_kin(text: str) -> bool:
    """我妈, 老婆: how a customer names family in the payee book, not a name, yet a payee."""
    return bool(KIN.match(text))
