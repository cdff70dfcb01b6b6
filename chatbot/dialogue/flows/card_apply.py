"""card.apply: a credit card from the knowledge graph's products, a form pre-filled with what
the bank knows of the bound customer (asked only to confirm), employer, monthly income and
address, the read-back, an SMS code, the bank's pre-review and the application record.

The pre-review (chatbot/tools/sql_lending.py: age from the ID number, income, existing debt,
the limit the income supports, one open application per product) runs before a code is sent,
so a customer who would be refused is told why at once and nothing is recorded.
"""
from __future__ import annotations

import json
from decimal import Decimal

from chatbot.dialogue.context import FlowContext
from chatbot.dialogue.flows.lending_common import (extract_income, free_text, keep_income, open_application, ordinal,
                                                   refused, validate_income)
from chatbot.dialogue.flows.lending_products import card_products, named_card
from chatbot.dialogue.forms import Flow, Slot, flow
from chatbot.dialogue.steps import is_affirm, is_deny
from chatbot.messages import Rich, choice
from chatbot.money import format_amount
from chatbot.security.masking import mask_id_number, mask_phone
from chatbot.tools.banking import BankingRefusal


def _income(ctx: FlowContext) -> Decimal:
    return Decimal(ctx.state.slots["monthly_income"])


def _products(ctx: FlowContext):
    return list(card_products(ctx.graph).values())


def _product(ctx: FlowContext):
    return card_products(ctx.graph)[ctx.state.slots["product"]]


def _product_prompt(ctx: FlowContext) -> str:
    lines = [f"{n}. {p.describe()}" for n, p in enumerate(_products(ctx), 1)]
    text = "可申请的信用卡有（示例数据）：\n" + "\n".join(lines) + "\n请问申请哪一张？回复卡名或序号即可。"
    # On the web page a button per card, sending its name as if typed (docs/rich_replies.md).
    return Rich(text, "buttons", buttons=[choice(p.name) for p in _products(ctx)][:6])


def _extract_product(ctx: FlowContext):
    code = named_card(ctx)
    if code is None and ctx.state.asking == "product":
        index = ordinal(ctx, len(_products(ctx)))
        code = _products(ctx)[index].code if index is not None else None
    return code


def _validate_product(ctx: FlowContext, code) -> str | None:
    error = open_application(ctx, "card", code)
    return f"{error}\n{_product_prompt(ctx)}" if error else None


def _identity_prompt(ctx: FlowContext) -> str:
    me = ctx.bank.customer(ctx.customer_id)
    return (f"以下信息将按您在本行登记的资料填写：\n姓名：{me.name}\n证件号：{mask_id_number(me.id_number)}\n"
            f"手机号：{mask_phone(me.phone)}\n信息无误请回复“是”。")


def _extract_identity(ctx: FlowContext):
    if ctx.state.asking != "identity":
        return None
    if is_affirm(ctx):
        return "confirmed"
    return "wrong" if is_deny(ctx) else None


def _validate_identity(ctx: FlowContext, value) -> str | None:
    if value == "wrong":
        return ("登记信息如有变化，请携带身份证到网点更新后再申请。信息无误请回复“是”，不办了请回复“取消”。")
    return None


@flow
class CardApplyFlow(Flow):
    name = "card.apply"
    title = "信用卡申请"
    confirm = needs_code = high_risk = True
    slots = (
        Slot("product", _product_prompt, _extract_product, _validate_product, label="卡种", words="卡种|哪张卡|普卡|金卡|白金卡"),
        Slot("identity", _identity_prompt, _extract_identity, _validate_identity, label="身份信息"),
        Slot("employer", "请问您的工作单位是？", lambda ctx: free_text(ctx, "employer"), label="工作单位",
             words="单位|公司|工作"),
        Slot("monthly_income", "请问您每月税后收入大约多少元？", extract_income, validate_income, keep=keep_income,
             label="月收入", words="收入|月薪|工资|薪水"),
        Slot("address", "请提供您的通讯地址，用于邮寄卡片。", lambda ctx: free_text(ctx, "address", 5, 120),
             label="通讯地址", words="地址"),
    )

    def how_to(self, ctx: FlowContext) -> str:
        cards = "；".join(f"{p.name}（额度 {p.limits()}）" for p in _products(ctx))
        return (f"信用卡可以直接在这里申请（需先绑定您的银行账户）。可申请：{cards}。\n"
                "选好卡种后，姓名、证件号和手机号按您在本行登记的资料填写，再告诉我工作单位、每月税后收入和通讯地址，"
                "核对后凭短信验证码提交，预审结果当场告知，审核通过后卡片邮寄到您填写的地址。")

    def summary(self, ctx: FlowContext) -> str:
        me, slots, product = ctx.bank.customer(ctx.customer_id), ctx.state.slots, _product(ctx)
        return ("好的，请核对信用卡申请信息：\n"
                f"卡种：{product.name}（额度 {product.limits()}）\n"
                f"申请人：{me.name}，证件号 {mask_id_number(me.id_number)}，手机 {mask_phone(me.phone)}\n"
                f"工作单位：{slots['employer']}\n月收入：{format_amount(_income(ctx))}\n通讯地址：{slots['address']}\n"
                "确认提交请回复“确认”，如需修改请直接告诉我。")

    def before_code(self, ctx: FlowContext) -> bool:
        """The pre-review: an ineligible customer hears why before any code is sent."""
        try:
            ctx.bank.check_card_application(ctx.customer_id, _product(ctx).terms, _income(ctx), ctx.now)
        except BankingRefusal as refusal:
            refused(ctx, self.name, refusal.code, self._refusal(ctx, refusal))
            return False
        return True

    def _refusal(self, ctx: FlowContext, refusal: BankingRefusal) -> str:
        if refusal.code == "application_open":
            return f"{refusal.message}。回复“信用卡申请进度”可查看进度。"
        lower = [p.name for p in _products(ctx) if p.terms.limit_min < _product(ctx).terms.limit_min]
        hint = f"您可以改为申请{'或'.join(lower)}，" if lower and "最低额度" in refusal.message else ""
        return f"很抱歉，您暂不符合{_product(ctx).name}的申请条件：{refusal.message}。{hint}如有疑问可回复“人工”。"

    def otp_use(self, ctx: FlowContext) -> str:
        return f"申请{_product(ctx).name}信用卡"

    def operation(self, ctx: FlowContext) -> str:
        slots = ctx.state.slots
        return json.dumps([slots["product"], slots["employer"], slots["monthly_income"], slots["address"]],
                          ensure_ascii=False)

    def cancelled(self, ctx: FlowContext) -> str:
        return "好的，信用卡申请先不办了。以后需要时随时告诉我。"

    def execute(self, ctx: FlowContext) -> None:
        slots, product = ctx.state.slots, _product(ctx)
        details = {"employer": slots["employer"], "monthly_income": slots["monthly_income"], "address": slots["address"]}
        try:
            app = ctx.bank.apply_card(ctx.customer_id, product.terms, details, f"flow:{ctx.state.flow_id}", ctx.now)
        except BankingRefusal as refusal:
            refused(ctx, self.name, refusal.code, self._refusal(ctx, refusal))
            return
        review = f"审核一般需要 {product.terms.review_time}，" if product.terms.review_time else ""
        ctx.say(f"{product.name}申请已提交，申请编号 {app.reference}。\n"
                f"预审通过，初步核定额度 {format_amount(Decimal(app.details['proposed_limit']))}（以审批结果为准）。\n"
                f"{review}可随时回复“信用卡申请进度”查询。")
        ctx.outcome = "completed"
        ctx.step("executed", flow=self.name, reference=app.reference, replayed=app.replayed)
        ctx.state.end_flow()
