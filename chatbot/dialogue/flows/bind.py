"""account.bind: link this chat user to a bank customer (name + ID number + SMS code); unbind."""
from __future__ import annotations

import re

from chatbot.dialogue.context import FlowContext
from chatbot.dialogue.forms import Flow, Slot, flow
from chatbot.security.masking import mask_id_number

UNBIND = re.compile(r"解绑|解除绑定|取消绑定|解除关联")
NAME = re.compile(r"(?:我叫|我是|本人|姓名(?:是|为|:)?|名字(?:是|叫)?)\s*([\u4e00-\u9fff]{2,4})")
BARE_NAME = re.compile(r"^([\u4e00-\u9fff]{2,4})$")
MAX_IDENTITY_FAILURES = 3


def _extract_name(ctx: FlowContext):
    match = NAME.search(ctx.text)
    if match:
        return match.group(1)
    bare = BARE_NAME.match(ctx.text)
    return bare.group(1) if bare and ctx.state.asking == "name" else None


def _extract_id(ctx: FlowContext):
    return ctx.entity("id_number")


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
    slots = (
        Slot("name", "为了保护您的账户安全，需要先验证身份。请告诉我您的姓名。", _extract_name),
        Slot("id_number", _id_prompt, _extract_id),
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
        """The name and ID number must match a customer before a code goes to their phone."""
        customer = ctx.bank.find_customer(ctx.state.slots["name"], ctx.state.slots["id_number"])
        if customer is None:
            failures = ctx.state.slots.get("_identity_failures", 0) + 1
            ctx.state.slots = {"_identity_failures": failures}
            ctx.step("identity_mismatch", failures=failures)
            if failures >= MAX_IDENTITY_FAILURES:
                ctx.say("身份信息多次核验未通过。")
                self.give_up(ctx, "identity_check")
            else:
                ctx.say("身份信息核验未通过，请核对后重新告诉我您的姓名。")
                ctx.state.asking = "name"
            return False
        ctx.state.slots["_customer_id"] = customer.id
        return True

    def otp_phone(self, ctx: FlowContext) -> str:
        return ctx.bank.customer(ctx.state.slots["_customer_id"]).phone

    def otp_use(self, ctx: FlowContext) -> str:
        return "绑定账户"

    def execute(self, ctx: FlowContext) -> None:
        customer_id = ctx.state.slots["_customer_id"]
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
