"""Fraud guard for transfers: known scam scripts stop the transfer before any code is sent.

Wording that matches a scam script (安全账户, 公检法, 刷单返利, 验证码给对方 …) gets a warning
and a hand-off to a person; a large amount to a payee who is not in the payee book gets a
warning and a cooling-off period before the code can be sent. Every stop is logged.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal

from chatbot.clock import BANK_TZ
from chatbot.dialogue.context import FlowContext
from chatbot.dialogue.turn import HandoffRequest
from chatbot.storage import audit

SCAM_SCRIPTS = {
    "safe_account": r"安全账户|安全帐户|资金清查|资金核查",
    "fake_authority": r"公检法|公安|警察|检察院|法院|通缉|洗钱|涉案",
    "task_rebate": r"刷单|返利|做任务|垫付",
    "code_sharing": r"验证码(给|告诉|发给)|(给|告诉|发给)(对方|他|她|客服).{0,4}验证码",
    "fake_service": r"(客服|工作人员)(让|叫|要求)我(转|汇|打)|退款.{0,6}(转|汇)|注销.{0,4}(校园贷|网贷)",
    "fees_first": r"解冻费|保证金|手续费.{0,4}(先|提前)|征信修复|贷款.{0,4}(先交|先付)",
}
LARGE_TO_NEW_PAYEE = Decimal("5000.00")
COOLING_OFF = timedelta(minutes=10)
CONTINUE = re.compile(r"继续|仍要转|确认转|还是要转")
STOPPED = "_fraud_stopped"  # slot: this transfer was already stopped for scam wording


def scam_hits(text: str) -> list[str]:
    return [name for name, pattern in SCAM_SCRIPTS.items() if re.search(pattern, text)]


def note_risky_wording(ctx: FlowContext) -> None:
    """Remember scam wording seen anywhere in the conversation (a transfer may come later)."""
    hits = scam_hits(ctx.parse.normalized)
    if hits:
        ctx.state.risk = sorted(set(ctx.state.risk) | set(hits))
        ctx.step("risk_wording", scripts=hits)


def stop_for_scam(ctx: FlowContext) -> bool:
    """Warn and hand over to a person when scam wording was seen; True when stopped."""
    hits = ctx.state.risk
    if not hits:
        return False
    ctx.say("【风险提示】银行、公检法机关绝不会要求您向“安全账户”转账，也不会索要验证码；"
            "刷单返利、先交费后放款都是常见骗局。本次转账已暂停，正在为您转接人工客服核实。")
    ctx.handoff = HandoffRequest("fraud_risk", priority=8)
    ctx.state.failed_step = "fraud_check"
    _log(ctx, "fraud_stop", scripts=hits)
    return True


def stop_at_once(ctx: FlowContext) -> bool:
    """The transfer flow's screen: scam wording stops it in the very reply that starts it (or
    the reply to new scam wording mid-flow), before any read-back or question; once stopped,
    the flow is not stopped again on every message (the check before the code still is)."""
    if not ctx.state.risk:
        return False
    fresh = any(step["action"] == "risk_wording" for step in ctx.steps)
    if ctx.state.slots.get(STOPPED) and not fresh:
        return False
    if not stop_for_scam(ctx):
        return False
    ctx.state.slots[STOPPED] = True
    return True


def start_cooling_off(ctx: FlowContext, amount: Decimal, in_book: bool) -> bool:
    """A large amount to a new payee waits before the code can be sent; True when waiting."""
    if in_book or amount < LARGE_TO_NEW_PAYEE or ctx.state.slots.get("_cooled"):
        return False
    until = ctx.now + COOLING_OFF
    ctx.state.step = "cooling_off"
    ctx.state.slots["_cool_until"] = until.isoformat()
    ctx.say("【风险提示】您正向新收款人转出较大金额。如果有人以客服、公检法、投资理财等名义让您转账，"
            f"请立即停止。为保障资金安全，本笔转账需冷静 {int(COOLING_OFF.total_seconds() // 60)} 分钟，"
            f"请于 {until.astimezone(BANK_TZ):%H:%M} 后回复“继续转账”，或回复“人工”咨询客服。")
    _log(ctx, "fraud_cooling_off", amount=str(amount))
    return True


def asks_to_continue(ctx: FlowContext) -> bool:
    return bool(CONTINUE.search(ctx.parse.normalized))


def cooling_over(ctx: FlowContext) -> bool:
    """In the cooling-off step: True when the customer may go on now (and asked to)."""
    until = datetime.fromisoformat(ctx.state.slots["_cool_until"])
    if not asks_to_continue(ctx):
        ctx.say(f"本笔转账处于冷静期，请于 {until.astimezone(BANK_TZ):%H:%M} 后回复“继续转账”，或回复“取消”。")
        return False
    if ctx.now < until:
        ctx.say(f"冷静期尚未结束，请于 {until.astimezone(BANK_TZ):%H:%M} 后再回复“继续转账”。")
        return False
    ctx.state.slots["_cooled"] = True
    return True


def _log(ctx: FlowContext, action: str, **detail) -> None:
    ctx.step(action, **detail)
    # The actor is the customer or the session, never the channel user id (a web credential's anchor).
    actor = f"customer:{ctx.customer_id}" if ctx.customer_id is not None else f"{ctx.channel}-session:{ctx.session_id}"
    audit.record(ctx.db, actor, action, f"session:{ctx.session_id}", ctx.now,
                 flow_id=ctx.state.flow_id, **detail)
