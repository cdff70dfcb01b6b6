"""account.bind: link this chat user to a bank customer (name + ID number + SMS code); unbind.

Name + ID number must not tell a stranger whether they belong together: a match and a
mismatch get the same answer ("若信息与我行预留一致，验证码已发送…"); a mismatch issues a
decoy code (sent nowhere, never right), so the wrong code that follows fails like any
other. Identity checks are limited per chat user, per client address and per claimed ID
number; once identified, the code belongs to the customer (its wrong tries and lock follow
the customer, whatever chat user asks), and codes per phone are capped (steps.send_code).
The ID number is kept in the dialogue state only sealed.
"""
from __future__ import annotations

import hashlib
import hmac
import math
import re
from datetime import timedelta

from chatbot.dialogue.context import FlowContext
from chatbot.dialogue.forms import Flow, Slot, flow, opened, sealed_value
from chatbot.dialogue.names import from_typed, looks_like_name
from chatbot.security.masking import mask_id_number
from chatbot.security.rate_limit import Limit

UNBIND = re.compile(r"解绑|解除绑定|取消绑定|解除关联")
NAME = re.compile(r"(?:我叫|我是|本人|姓名(?:是|为|:)?|名字(?:是|叫)?)\s*([\u4e00-\u9fff]{2,4})")
BARE_NAME = re.compile(r"^([\u4e00-\u9fff]{2,4})$")
ID_LABEL = "account.bind/id_number"
CHECKS_PER_USER = Limit("bind.identity.user", 5, timedelta(hours=1))
CHECKS_PER_ADDRESS = Limit("bind.identity.address", 20, timedelta(hours=1))
CHECKS_PER_TARGET = Limit("bind.identity.target", 5, timedelta(hours=1))  # mismatches only
URGENT_LOSS = "如卡片丢失需紧急挂失，请拨打客服热线 955888。"


def _extract_name(ctx: FlowContext):
    """"我叫张伟", or a bare name when asked for it; never a business word or a question
    ("房贷利率" is a knowledge question the policy answers, then the name is asked again)."""
    match = NAME.search(ctx.text)
    if match and looks_like_name(match.group(1)):
        return match.group(1)
    if ctx.state.asking != "name":
        return None
    dotted = from_typed(re.sub(r"^(?:我叫|我是|本人|姓名|名字)(?:是|为|:)?", "", ctx.parse.text.strip()))
    if dotted:
        return dotted  # 买买提·艾力 (normalization drops the middle dot)
    bare = BARE_NAME.match(ctx.text)
    return bare.group(1) if bare and looks_like_name(bare.group(1)) else None


def _name_prompt(ctx: FlowContext) -> str:
    if ctx.state.asking == "name" and ctx.state.retries and not ctx.replies:  # the answer was not a name
        return "请告诉我您身份证上的姓名（如“张伟”）。"
    return "为了保护您的账户安全，需要先验证身份。请告诉我您的姓名。"


def _extract_id(ctx: FlowContext):
    return ctx.entity("id_number")


def _keep_id(ctx: FlowContext, id_number: str) -> dict:
    return sealed_value(ctx, ID_LABEL, id_number, mask_id_number(id_number))


def _target(ctx: FlowContext, id_number: str) -> str:
    """A keyed stand-in for an ID number (limits, decoy codes): never the number itself."""
    key = hmac.new(ctx.secret_key.encode(), b"chatbot.bind.target.v1", hashlib.sha256).digest()
    return hmac.new(key, id_number.strip().upper().encode(), hashlib.sha256).hexdigest()[:40]


def _id_prompt(ctx: FlowContext) -> str:
    if ctx.state.asking == "id_number" and re.search(r"\d{17}[\dxX]", ctx.parse.text):
        return "身份证号码校验未通过，请核对后重新输入 18 位身份证号码。"
    return "请输入您的 18 位身份证号码。"


@flow
class BindFlow(Flow):
    name = "account.bind"
    title = "账户绑定"
    requires_binding = False
    needs_code = True
    edit_resets = ("_customer_id", "_otp_subject")  # checked again before a code
    slots = (
        Slot("name", _name_prompt, _extract_name, label="姓名", words="姓名|名字|叫"),
        Slot("id_number", _id_prompt, _extract_id, keep=_keep_id, label="身份证号码", words="身份证|证件|证号"),
    )

    def on_start(self, ctx: FlowContext) -> bool:
        if UNBIND.search(ctx.text):
            return self._unbind(ctx)
        if ctx.customer_id is not None:
            customer = ctx.bank.customer(ctx.customer_id)
            ctx.say(f"您已绑定 {customer.name[0]}**（证件 {mask_id_number(customer.id_number)}）。如需解绑请回复“解绑”。")
            ctx.outcome = "answered"
            ctx.state.end_flow(keep_context=False)
            return False
        return True

    def before_code(self, ctx: FlowContext) -> bool:
        """Check name + ID number (within limits); the answer never says whether they matched."""
        id_number = opened(ctx, ID_LABEL, ctx.state.slots["id_number"])
        target = _target(ctx, id_number)
        limits = [(CHECKS_PER_USER, f"{ctx.channel}:{ctx.user_id}")]
        if ctx.address:
            limits.append((CHECKS_PER_ADDRESS, ctx.address))
        checks = [*limits, (CHECKS_PER_TARGET, target)]
        waits = [w for limit, key in checks if (w := ctx.limiter.retry_after(ctx.db, limit, key, ctx.now))]
        if waits:
            ctx.say(f"身份核验尝试次数过多，请 {math.ceil(max(waits) / 60)} 分钟后再试。{URGENT_LOSS}")
            ctx.step("identity_throttled", retry_after=max(waits))
            ctx.outcome = "refused"
            ctx.state.end_flow(keep_context=False)
            return False
        for limit, key in limits:
            ctx.limiter.record(ctx.db, limit, key, ctx.now)
        customer = ctx.bank.find_customer(ctx.state.slots["name"], id_number)
        ctx.step("identity_checked")  # matched or not is not logged either
        ctx.state.slots.pop("_customer_id", None)
        if customer is None:
            # Only mismatches count against the ID number: its owner binding from several
            # chats never locks themselves out; someone guessing names for it does.
            ctx.limiter.record(ctx.db, CHECKS_PER_TARGET, target, ctx.now)
            ctx.state.slots["_otp_subject"] = f"bind:{target}"
        else:
            ctx.state.slots["_customer_id"] = customer.id
            ctx.state.slots["_otp_subject"] = f"customer:{customer.id}"
        return True

    def otp_subject(self, ctx: FlowContext) -> str:
        return ctx.state.slots["_otp_subject"]

    def otp_phone(self, ctx: FlowContext) -> str | None:
        customer_id = ctx.state.slots.get("_customer_id")
        return ctx.bank.customer(customer_id).phone if customer_id is not None else None

    def operation(self, ctx: FlowContext) -> str:
        return ctx.state.slots["_otp_subject"]

    def code_sent(self, ctx: FlowContext, phone: str | None) -> str:
        return ("若姓名和身份证号与我行预留信息一致，验证码已发送至您的预留手机，请在 5 分钟内回复 6 位验证码。\n"
                "如未收到，可回复“重新发送”；信息有误请回复“取消”后重新绑定。")

    def code_throttled(self, ctx: FlowContext, seconds: int, resend: bool) -> str:
        # The phone's send limits are shared by every chat of a real customer, while a decoy's
        # are not: a "too frequent" answer would tell a match from a mismatch. Say the same.
        return ("若姓名和身份证号与我行预留信息一致，验证码已发送至您的预留手机，请在 5 分钟内回复 6 位验证码。\n"
                f"如未收到，请 1 分钟后回复“重新发送”。{URGENT_LOSS}")

    def otp_use(self, ctx: FlowContext) -> str:
        return "绑定账户"

    def execute(self, ctx: FlowContext) -> None:
        customer_id = ctx.state.slots.get("_customer_id")
        if customer_id is None:  # a decoy code cannot be right; refuse like a wrong code anyway
            ctx.say("验证码不正确，请核对后重试。")
            return
        ctx.bank.bind(ctx.channel, ctx.user_id, customer_id, ctx.now)
        ctx.customer_id = customer_id
        name = ctx.bank.customer(customer_id).name
        ctx.say(f"绑定成功！{name}，您好。")
        ctx.step("executed", flow=self.name)
        ctx.outcome = "completed"
        ctx.state.end_flow(keep_context=False)

    def _unbind(self, ctx: FlowContext) -> bool:
        if ctx.bank.unbind(ctx.channel, ctx.user_id):
            ctx.customer_id = None
            ctx.say("已解除绑定。如需再次查询账户，请重新绑定。")
            ctx.step("unbound")
        else:
            ctx.say("您还没有绑定银行账户。")
        ctx.outcome = "completed"
        ctx.state.end_flow(keep_context=False)
        return False
