"""The confirmation and one-time-code steps every high-risk flow shares."""
from __future__ import annotations

import re

from chatbot.dialogue.context import FlowContext
from chatbot.dialogue.forms import MAX_REASKS, Flow
from chatbot.security.masking import mask_phone

AFFIRM_WORDS = re.compile(r"^(确认|确定|是|是的|对|对的|好|好的|可以|行|没问题|ok|yes|嗯+|确认转账|确认挂失|确认办理)[。!.！]*$")
DENY_WORDS = re.compile(r"^(不|不是|不对|错了|不要|no|否)[。!.！]*$")
RESEND_WORDS = re.compile(r"重新发送|重发|再发|没收到|收不到")
CODE = re.compile(r"(?<!\d)\d{6}(?!\d)")


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
    if is_deny(ctx):
        ctx.state.step = "collect"
        ctx.say("好的，请直接告诉我要修改的内容；不办了请回复“取消”。")
        ctx.step("confirm_denied", flow=flow.name)
        return
    ctx.state.retries += 1
    if ctx.state.retries > MAX_REASKS:
        flow.give_up(ctx, "confirm")
        return
    ctx.say("请回复“确认”继续办理，或直接告诉我要修改的内容；不办了请回复“取消”。")


def send_code(flow: Flow, ctx: FlowContext) -> None:
    """Send a fresh one-time code to the phone on file and wait for it."""
    phone = flow.otp_phone(ctx)
    issued = ctx.otp.issue(ctx.db, ctx.subject, flow.name, phone, ctx.now, flow.otp_use(ctx))
    if issued.status == "locked":
        ctx.say(f"验证码错误次数过多，{flow.title}已暂时锁定，请 15 分钟后再试。")
        flow.give_up(ctx, "otp_locked")
        return
    ctx.state.step, ctx.state.retries = "otp", 0
    ctx.say(f"验证码已发送至 {mask_phone(phone)}，请在 5 分钟内回复 6 位验证码。")
    ctx.step("otp_sent", flow=flow.name)


def handle_code(flow: Flow, ctx: FlowContext) -> None:
    """At the code step: verify, resend on request, explain what went wrong."""
    if RESEND_WORDS.search(ctx.text):
        send_code(flow, ctx)
        return
    code = ctx.entity("otp") or _bare_code(ctx.text)
    if code is None:
        ctx.say("请回复短信中的 6 位验证码；没收到可回复“重新发送”。")
        return
    check = ctx.otp.verify(ctx.db, ctx.subject, flow.name, code, ctx.now)
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
    else:
        send_code(flow, ctx)


def is_code_reply(ctx: FlowContext) -> bool:
    """The message carries a code or asks for a new one."""
    return bool(ctx.entity("otp") or _bare_code(ctx.text) or RESEND_WORDS.search(ctx.text))


def _bare_code(text: str) -> str | None:
    match = CODE.search(text)
    return match.group(0) if match else None
