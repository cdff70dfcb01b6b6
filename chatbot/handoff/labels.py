"""Chinese names for every code the agent console shows: one table.

Agents read Chinese, not `transfer.create`, `in_flow` or `handoff_cancelled`. The console
loads this table once (`GET /v1/agent/labels`) and names intents, outcomes, handoff reasons,
statuses, steps and entities with it; the session view (chatbot/handoff/context.py) uses it
to write slot and entity values as words (`李娜（账号 **** 8888）`, `2,000.00 元`).

The business names are the dialogue's own (`chatbot.dialogue.replies.TITLES`), slot names
come from the flows' declared `Slot.label`s; a code nobody named yet is shown as its kind's
fallback (`其他业务`), never as the code itself.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

import chatbot.dialogue.flows  # noqa: F401 (registers the flows, whose slots carry Chinese labels)
from chatbot.dialogue.forms import FLOWS
from chatbot.dialogue.replies import TITLES
from chatbot.money import format_amount
from chatbot.news.subscriptions import FREQUENCY_NAMES

# Intents that start no flow (the flows' titles are the dialogue's TITLES).
OTHER_INTENTS = {
    "human.request": "转人工", "complaint": "投诉", "faq": "业务咨询", "greet": "问候", "goodbye": "告别",
    "thanks": "致谢", "affirm": "肯定/确认", "deny": "否定", "cancel": "取消", "out_of_scope": "超出服务范围",
}

# turn_log.outcome: what the bot did with a message (the policy's and the handoff desk's).
OUTCOMES = {
    "answered": "已答复", "completed": "已办结", "in_flow": "办理中", "refused": "未受理",
    "cancelled": "已取消", "flow_failed": "办理失败", "out_of_scope": "超出服务范围",
    "intent_clarify": "请客户选择业务", "faq_clarify": "请客户确认问题", "faq_not_found": "知识库无答案",
    "not_understood": "未理解", "handoff": "转人工",
    "handed_off": "转人工", "queued": "排队中", "forwarded_to_agent": "已转给客服", "message_requested": "请客户留言",
    "message_left": "已留言", "message_kept": "保留留言", "handoff_cancelled": "取消排队", "rated": "已评分",
}

# How a run of a flow ended (context.recent_flows).
FLOW_STATUS = {
    "completed": "已办结", "cancelled": "已取消", "refused": "未受理", "failed": "办理失败",
    "interrupted": "未办完", "in_progress": "办理中",
}

REASONS = {
    "human_request": "主动转人工", "call_back": "要求回电", "complaint": "投诉", "not_understood": "连续未理解",
    "flow_failed": "业务办理失败", "fraud_risk": "风险核实",
}
TICKET_STATUS = {"queued": "排队中", "active": "服务中", "released": "已转回机器人", "closed": "已结束",
                 "cancelled": "已取消排队", "expired": "排队超时"}
SENDERS = {"user": "客户", "bot": "机器人", "agent": "客服"}
CHANNELS = {"web": "网页", "wechat": "微信", "terminal": "终端"}
STEPS = {"collect": "收集信息", "confirm": "等待客户确认", "otp": "等待短信验证码", "cooling_off": "冷静期",
         "otp_locked": "验证码错误次数过多", "fraud_check": "风险核实"}
ENTITIES = {
    "amount": "金额", "date_range": "日期范围", "card_tail": "卡号尾号", "phone": "手机号", "id_number": "身份证号",
    "term_months": "期限", "account_type": "账户类型", "txn_type": "交易类型", "payee": "收款人", "otp": "验证码",
}
VALUES = {
    "savings": "储蓄账户", "credit": "信用卡", "loan": "贷款", "fixed_deposit": "定期存款", "wealth": "理财",
    "income": "收入", "expense": "支出", "salary": "工资", "transfer": "转账", "cash": "取现", "repayment": "还款",
    "fee": "手续费", "interest": "利息", "permanent": "固定额度", "temporary": "临时额度",
    **FREQUENCY_NAMES,
}
PRESENCE = {"online": "在线", "busy": "忙碌", "away": "离开", "offline": "离线"}
NOTE_KINDS = {"note": "内部备注", "transfer": "转接备注"}

FALLBACK = {
    "intent": "其他", "flow": "其他业务", "outcome": "其他", "flow_status": "未知", "reason": "其他原因",
    "status": "未知", "sender": "未知", "channel": "其他渠道", "step": "办理中", "slot": "其他信息",
    "entity": "其他信息", "value": "其他", "presence": "离线", "note_kind": "备注",
}


def _slot_labels() -> dict[str, str]:
    labels: dict[str, str] = {}
    for flow in FLOWS.values():
        for slot in getattr(flow, "slots", ()):
            labels.setdefault(slot.name, slot.label)
    return labels


def table() -> dict[str, dict[str, str]]:
    """Every kind of code the console shows, with its Chinese name."""
    intents = {**TITLES, **OTHER_INTENTS}
    return {
        "intent": intents, "flow": dict(TITLES), "outcome": OUTCOMES, "flow_status": FLOW_STATUS,
        "reason": REASONS, "status": TICKET_STATUS, "sender": SENDERS, "channel": CHANNELS, "step": STEPS,
        "slot": {**ENTITIES, **_slot_labels()}, "entity": ENTITIES, "value": VALUES, "presence": PRESENCE,
        "note_kind": NOTE_KINDS,
    }


def label(kind: str, code: str | None) -> str:
    """The Chinese name of `code`, or its kind's fallback (never the code)."""
    if not code:
        return "—"
    return table().get(kind, {}).get(code) or FALLBACK.get(kind, "其他")


_ASK = re.compile(r"^ask_(q)?(\w+)$")


def step_label(step: str | None, flow: str | None = None) -> str:
    """`otp` -> 等待短信验证码; `ask_amount` -> 询问金额; `ask_q3` -> 风险测评第 3 题."""
    if not step:
        return "—"
    asked = _ASK.match(step)
    if asked and asked.group(1) and asked.group(2).isdigit():
        return f"风险测评第 {asked.group(2)} 题"
    if asked:
        return "询问" + slot_label(asked.group(2), flow)
    return label("step", step)


def slot_label(name: str, flow: str | None = None) -> str:
    """The flow's own label for a slot (信用卡 in a bill, 卡片 in a loss report)."""
    for slot in getattr(FLOWS.get(flow or ""), "slots", ()):
        if slot.name == name:
            return slot.label
    return label("slot", name)


_MONEY = {"amount", "monthly_income"}
_TAILS = {"card_tail", "from_tail"}
_MONTHS = {"term_months"}
_TERMS = {"terms"}


def display(name: str, value) -> str:
    """A slot's or entity's (masked) value as words for the console."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(display(name, v) for v in value)
    if isinstance(value, dict):
        return _display_dict(value)
    text = str(value)
    if name in _MONEY:
        return _money(text)
    if name in _TAILS and text.isdigit():
        return f"尾号 {text}"
    if name in _MONTHS and text.isdigit():
        return f"{text} 个月"
    if name in _TERMS and text.isdigit():
        return f"{text} 期"
    return VALUES.get(text, text) if name in ("account_type", "txn_type", "kind", "frequency") else text


def _money(text: str) -> str:
    try:
        return format_amount(Decimal(text).quantize(Decimal("0.01")))
    except (InvalidOperation, ValueError, ArithmeticError):
        return text


def _display_dict(value: dict) -> str:
    if "start" in value and "end" in value:  # a date range
        return f"{value['start']} 至 {value['end']}"
    if "name" in value or "account_no" in value:  # a payee: 李娜（账号 **** 8888）
        name, account = value.get("name") or "新收款人", value.get("account_no")
        return f"{name}（账号 {account}）" if account else str(name)
    parts = [f"{label('slot', k)}：{display(k, v)}" for k, v in value.items() if not str(k).startswith("_")]
    return "，".join(parts) or "—"
