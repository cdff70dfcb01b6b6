"""The confirmation and one-time-code steps every high-risk flow shares.

Sending codes is rate-limited (chatbot/security/rate_limit.py, Redis-backed when
configured): one per phone and kind of operation a minute, ten per phone a day, ten per
chat user an hour. A code is bound to the flow run and the exact details it was sent for
(`Flow.operation`); a reply when no usable code exists sends nothing by itself: the
customer asks for one with “重新发送”.
"""
from __future__ import annotations

import math
import re
from datetime import timedelta

from chatbot.dialogue import corrections
from chatbot.dialogue.context import FlowContext
from chatbot.dialogue.forms import MAX_REASKS, Flow
from chatbot.security.rate_limit import Limit

AFFIRM_WORDS = re.compile(r"^(确认|确定|是|是的|对|对的|好|好的|可以|行|没问题|ok|yes|嗯+|确认转账|确认挂失|确认办理|"
                          r"系|系啊|系呀|得|没有问题)[。!.！]*$")  # Cantonese 係/得/冇问题 (冇 reads 没有)
# Cantonese 唔係/唔要/唔使/唔好 arrive normalized as 不是/不要/不用/不要 (data/synonyms.yaml).
DENY_WORDS = re.compile(r"^(不|不是|不对|错了|不要|不用|no|否)[。!.！]*$")
RESEND_WORDS = re.compile(r"重新发送|重发|再发|没收到|收不到")
CODE = re.compile(r"(?<!\d)\d{6}(?!\d)")

RESEND_EVERY = Limit("otp.send.kind", 1, timedelta(seconds=60))  # per phone + operation kind
CODES_PER_PHONE = Limit("otp.send.phone", 10, timedelta(days=1))
CODES_PER_USER = Limit("otp.send.user", 10, timedelta(hours=1))  # per chat identity


def is_affirm(ctx: FlowContext) -> bool:
    return ctx.intent == "affirm" and ctx.parse.intent.confidence >= 0.5 or bool(AFFIRM_WORDS.match(ctx.text))


def is_deny(ctx: FlowContext) -> bool:
    return ctx.intent == "deny" and ctx.parse.intent.confidence >= 0.5 or bool(DENY_WORDS.match(ctx.text))


def handle_confirm(flow: Flow, ctx: FlowContext) -> None:
    """At the confirmation: go on, change something, or ask again."""
    if is_affirm(ctx):
        ctx.step("confirmed", flow=flow.name)
        if not flow.needs_code:
            flow.execute(ctx)
        elif flow.before_code(ctx):
            send_code(flow, ctx)
        return
    if is_deny(ctx):  # "不对" / "不是": which detail? (the read-back stays until it is confirmed)
        ctx.say(corrections.ask_which(flow, ctx) + "不办了请回复“取消”。")
        ctx.step("confirm_denied", flow=flow.name)
        return
    ctx.state.retries += 1
    if ctx.state.retries > MAX_REASKS:
        flow.give_up(ctx, "confirm")
        return
    ctx.say("请回复“确认”继续办理，或直接告诉我要修改的内容；不办了请回复“取消”。")


def correct(flow: Flow, ctx: FlowContext) -> bool:
    """A correction of the flow's details ("改成3000", "不对，是王芳"): update and read back.

    True when the message was a correction (and has been answered). A changed detail retires
    the flow's outstanding codes (a code confirms exactly what it was sent for) and undoes the
    confirmation and any cooling-off, then the flow asks its next question or reads the whole
    summary back for a new “确认”. A refused value keeps the old one and says why. An unclear
    change is asked about; a correction never lets an old value be confirmed unseen.
    """
    asked_which = ctx.state.slots.get(corrections.WHICH)
    found = corrections.read(flow, ctx)
    if found is None:
        if asked_which and ctx.state.step in corrections.SETTLED_STEPS and (is_affirm(ctx) or is_deny(ctx)):
            # "是的" to "请问要修改付款卡还是金额？" answers nothing: never a confirmation.
            ctx.say("请直接告诉我要修改的内容，例如“金额改成500”；信息无误请回复“确认”。")
            ctx.step("correction_which_unanswered", flow=flow.name)
            return True
        return False
    step = ctx.state.step
    ctx.step("correction", flow=flow.name, slots=sorted(found.values), refused=sorted(found.refused),
             asked=sorted(found.asked), unclear=found.unclear or bool(found.unread))
    if step == "otp":
        _retire_codes(flow, ctx)  # whatever comes next, the code sent for the old details is void
    given = {name for name, value in found.values.items()
             if name in ctx.state.slots and not flow.same_value(ctx, name, value)}
    optional = [s for s in flow.slots if s.name in found.asked and s.correctable and not s.needed(ctx)]
    if optional and not found.values:  # "付款卡改一下": filled by the flow itself, so ask for it here
        _back_to_confirm(flow, ctx, step)
        ctx.state.slots[corrections.WHICH] = [optional[0].name]
        asking, ctx.state.asking = ctx.state.asking, optional[0].name
        ctx.say(optional[0].ask(ctx))
        ctx.state.asking = asking
        return True
    if found.values or found.asked:
        for name in flow.edit_resets:
            ctx.state.slots.pop(name, None)
        for slot in flow.slots:  # in slot order: a new payee drops its old account first
            if slot.name in found.values:
                flow.drop(ctx.state.slots, slot.name)
                ctx.state.slots[slot.name] = slot.keep(ctx, found.values[slot.name])
            elif slot.name in found.asked:
                flow.drop(ctx.state.slots, slot.name)
        ctx.state.step, ctx.state.asking, ctx.state.retries = "collect", None, 0
    notes = []
    for name, error in found.refused.items():
        if name in ctx.state.slots or name != ctx.state.asking:
            notes.append(f"{corrections.label(flow, name)}未修改：{corrections.reason(error)}。")
        else:  # the answer to the current question: its error asks again (see forms.Flow.ask)
            notes.append(error)
            ctx.step("slot_invalid", slot=name)
    if found.unread:
        names = "、".join(corrections.label(flow, name) for name in found.unread)
        ctx.state.slots[corrections.WHICH] = list(found.unread)
        notes.append(f"抱歉，没能识别新的{names}，请直接告诉我新的{names}。")
        _back_to_confirm(flow, ctx, step)
        ctx.say("\n".join(notes))
        return True
    if found.unclear:
        _back_to_confirm(flow, ctx, step)
        ctx.say(corrections.ask_which(flow, ctx))
        return True
    if not found.values and not found.asked:  # every new value was refused: the old ones stand
        if step == "cooling_off":
            ctx.say("\n".join(notes))
            return True
        ctx.state.step = "collect"
    first = len(ctx.replies)
    flow.next_step(ctx, filled=sorted(found.values) or ["(correction)"])
    done = [f"已修改{'、'.join(corrections.label(flow, n) for n in sorted(given, key=_order(flow)))}"] if given else []
    if len(ctx.replies) > first:
        lead = "，".join(done)
        text = ctx.replies[first].removeprefix("好的，") if (lead or notes) else ctx.replies[first]
        ctx.replies[first] = "\n".join([*notes, (f"{lead}，" if lead else "") + text])
    elif notes or done:
        ctx.say("\n".join([*notes, *(f"{d}。" for d in done)]))
    return True


def _order(flow: Flow):
    names = [slot.name for slot in flow.slots]
    return lambda name: names.index(name) if name in names else len(names)


def _back_to_confirm(flow: Flow, ctx: FlowContext, step: str | None) -> None:
    """After a retired code, a new “确认” sends a new one (the details were read back before)."""
    if step == "otp" and flow.confirm:
        ctx.state.step = "confirm"


def _retire_codes(flow: Flow, ctx: FlowContext) -> None:
    try:
        subject = flow.otp_subject(ctx)
    except KeyError:  # no code was sent yet
        return
    ctx.otp.retire(ctx.db, subject, flow.name, ctx.now)
    ctx.step("otp_retired", flow=flow.name)


def send_code(flow: Flow, ctx: FlowContext, resend: bool = False) -> None:
    """Send a fresh one-time code to the phone on file and wait for it (limits permitting)."""
    subject = flow.otp_subject(ctx)
    if ctx.otp.locked_until(ctx.db, subject, flow.name, ctx.now) is not None:
        _locked(flow, ctx)
        return
    phone = flow.otp_phone(ctx)
    limits = _send_limits(flow, ctx, phone or subject)
    waits = [w for limit, key in limits if (w := ctx.limiter.retry_after(ctx.db, limit, key, ctx.now))]
    if waits:
        ctx.state.step, ctx.state.retries = "otp", 0  # “重新发送” later asks again
        ctx.say(flow.code_throttled(ctx, max(waits), resend))
        ctx.step("otp_throttled", flow=flow.name, retry_after=max(waits))
        return
    issued = ctx.otp.issue(ctx.db, subject, flow.name, phone, ctx.now, flow.otp_use(ctx), operation(flow, ctx))
    if issued.status == "locked":
        _locked(flow, ctx)
        return
    for limit, key in limits:
        ctx.limiter.record(ctx.db, limit, key, ctx.now)
    ctx.state.step, ctx.state.retries = "otp", 0
    ctx.say(flow.code_sent(ctx, phone))
    ctx.step("otp_sent", flow=flow.name)


def operation(flow: Flow, ctx: FlowContext) -> str:
    """What a code of this flow run confirms (kept as a keyed digest with the code)."""
    return f"{flow.name}\x00{ctx.state.flow_id}\x00{flow.operation(ctx)}"


def _send_limits(flow: Flow, ctx: FlowContext, target: str) -> list[tuple[Limit, str]]:
    return [(RESEND_EVERY, f"{target}\x00{flow.name}"), (CODES_PER_PHONE, target),
            (CODES_PER_USER, f"{ctx.channel}:{ctx.user_id}")]


def throttled_reply(seconds: int, resend: bool) -> str:
    if seconds <= 60:
        if resend:
            return f"验证码刚刚已发送，如未收到，请 {seconds} 秒后再回复“重新发送”。"
        return f"验证码发送过于频繁，请 {seconds} 秒后回复“重新发送”获取验证码。"
    wait = f"{math.ceil(seconds / 60)} 分钟" if seconds < 2 * 3600 else f"{math.ceil(seconds / 3600)} 小时"
    return f"验证码发送次数已达上限，请 {wait}后再试。"


def _locked(flow: Flow, ctx: FlowContext) -> None:
    ctx.say(f"验证码错误次数过多，{flow.title}已暂时锁定，请 15 分钟后再试。")
    flow.give_up(ctx, "otp_locked")


def handle_code(flow: Flow, ctx: FlowContext) -> None:
    """At the code step: verify, resend on request, explain what went wrong."""
    if RESEND_WORDS.search(ctx.text):
        send_code(flow, ctx, resend=True)
        return
    code = ctx.entity("otp") or _bare_code(ctx.text)
    if code is None:
        ctx.say("请回复短信中的 6 位验证码；没收到可回复“重新发送”。")
        return
    check = ctx.otp.verify(ctx.db, flow.otp_subject(ctx), flow.name, code, ctx.now, operation(flow, ctx))
    ctx.step("otp_checked", flow=flow.name, status=check.status)
    if check.status == "ok":
        flow.execute(ctx)
    elif check.status == "wrong":
        ctx.say(f"验证码不正确，您还可以再试 {check.remaining_attempts} 次。")
    elif check.status == "expired":
        ctx.say("验证码已过期，请回复“重新发送”获取新的验证码。")
    elif check.status == "locked":
        ctx.say(f"验证码错误次数过多，{flow.title}已锁定 15 分钟，期间无法办理。")
        flow.give_up(ctx, "otp_locked")
    else:  # no usable code for this operation: never send one unasked
        ctx.say("当前没有可用的验证码，请回复“重新发送”获取新的验证码。")


def is_code_reply(ctx: FlowContext) -> bool:
    """The message carries a code or asks for a new one."""
    return bool(ctx.entity("otp") or _bare_code(ctx.text) or RESEND_WORDS.search(ctx.text))


def _bare_code(text: str) -> str | None:
    match = CODE.search(text)
    return match.group(0) if match else None
