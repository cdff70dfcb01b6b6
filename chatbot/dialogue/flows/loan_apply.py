"""loan.apply: product (from the knowledge graph), amount, term, purpose and monthly income,
each checked as it arrives against the product's range ("消费贷可借 … 至 …，期限 … 期");
the read-back with the computed monthly payment; the bank's pre-review (debt-to-income with
that payment and the customer's other loans); an SMS code; the application record.

A refused debt-to-income check keeps the read-back open: the customer may lower the amount or
lengthen the term ("改成3万", "36期") and confirm again. A product whose limit is a ratio of a
price (房贷, 车贷) needs documents: the bot says where to apply instead.
"""
from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation

from chatbot.dialogue import steps
from chatbot.dialogue.context import FlowContext
from chatbot.dialogue.flows.credit_common import LARGEST_SUM
from chatbot.dialogue.flows.lending_common import (extract_income, free_text, keep_income, open_application, ordinal,
                                                   refused, split_amounts, validate_income)
from chatbot.dialogue.flows.lending_products import loan_terms, where_to_apply
from chatbot.dialogue.flows.loan_calculator import BARE_MONTHS, apply_figures, loan_products, named_product
from chatbot.dialogue.forms import MAX_REASKS, Flow, Slot, flow
from chatbot.money import format_amount
from chatbot.nlu.entities.numbers import parse_number
from chatbot.security.masking import mask_card
from chatbot.tools.amortization import equal_installment, equal_principal, largest_principal
from chatbot.tools.banking import BankingRefusal
from chatbot.tools.lending import DEMO_RULES, METHOD_NAMES

CENT = Decimal("0.01")
NOTED = ("amount", "term_months", "purpose", "monthly_income")  # said back when given before the product
SCHEDULES = {"equal_installment": equal_installment, "equal_principal": equal_principal}
PURPOSES = re.compile(r"装修|旅游|旅行|教育|学费|培训|留学|买车|购车|医疗|看病|治病|结婚|婚庆|家电|家具|数码|购物|"
                      r"日常消费|资金周转|周转|经营|进货|租房")
# Regulators forbid consumer and business loans from going into property or securities.
FORBIDDEN = re.compile(r"炒股|股票|证券|基金|理财|期货|买房|购房|首付|房款|赌|彩票|虚拟货币|比特币|币圈")
# Repaying a loan early or in full is not borrowing: done in the mobile bank or at a branch.
REPAYING = re.compile(r"提前还|提前结清|还清|结清|一次性还|还掉")
EARLY_REPAYMENT = ("提前还款不在对话中办理：请在示例银行手机银行“贷款—提前还款”或贷款经办网点提交申请，"
                   "在约定日期从还款卡扣款（请提前备足资金）。如需查看还款计划，可回复“我的贷款还款计划”。")
# "借-5000", "借负5000": a signed number (the amount extractor yields nothing for it).
NEGATIVE_AMOUNT = re.compile(r"(?:^|借|贷|要|是|为|金额|额度)\s*(?:-|−|－|负)\s*([0-9.,，万千kK一二两三四五六七八九十百]+)")
# The bank's own advice on a debt-to-income refusal; the flow says what can still help instead.
BANK_ROOM_ADVICE = re.compile(r"，?可减少金额或延长期限后再申请")
BARE_AMOUNT = re.compile(r"^(?:借|贷|要|就)?([0-9.,，万千kK一二两三四五六七八九十百]+)\s*(?:元|块钱?)?(?:吧)?[。.!！]*$")


def _catalogue(ctx: FlowContext):
    return loan_terms(ctx.graph)


def _terms(ctx: FlowContext):
    return _catalogue(ctx)[ctx.state.slots["product"]]


def _range(terms) -> str:
    return (f"{terms.name}可借 {format_amount(terms.min_amount)}至 {format_amount(terms.max_amount)}，"
            f"期限 {terms.min_months} 至 {terms.max_months} 期")


def _product_prompt(ctx: FlowContext) -> str:
    """The whole menu the first time; once shown, the question in one short line."""
    if ctx.state.slots.get("_menu_shown"):
        names = "、".join(f"{n}. {t.name}" for n, t in enumerate(_catalogue(ctx).values(), 1))
        return f"请问申请哪一种贷款（{names}）？回复名称或序号即可。"
    ctx.state.slots["_menu_shown"] = True
    lines = [f"{n}. {_range(t)}，年化利率 {t.annual_rate * 100:.2f}% 起" for n, t in enumerate(_catalogue(ctx).values(), 1)]
    return "可在线申请的贷款有（示例数据）：\n" + "\n".join(lines) + "\n请问申请哪一种？回复名称或序号即可。"


def _extract_product(ctx: FlowContext):
    code = named_product(ctx)
    if code is None and ctx.state.asking == "product":
        index = ordinal(ctx, len(_catalogue(ctx)))
        code = list(_catalogue(ctx))[index] if index is not None else None
    return code


def _validate_product(ctx: FlowContext, code) -> str | None:
    if code in _catalogue(ctx):
        error = open_application(ctx, "loan", code)
        return f"{error}\n{_product_prompt(ctx)}" if error else None
    names = "、".join(t.name for t in _catalogue(ctx).values())
    return f"{where_to_apply(ctx.graph, code)}。在线可申请{names}，请问申请哪一种？"


def _amount_prompt(ctx: FlowContext) -> str:
    return f"{_range(_terms(ctx))}。请问借多少钱？"


def _extract_amount(ctx: FlowContext):
    if ctx.state.asking == "monthly_income" and not re.search(r"借|贷|金额", ctx.text):
        return None  # "9600元" answers the income question
    other, _income = split_amounts(ctx)
    amount = other[0] if other else None
    negative = NEGATIVE_AMOUNT.search(ctx.text.replace(" ", ""))
    if amount is None and negative and (ctx.state.asking == "amount" or re.search(r"借|贷|金额", ctx.text)):
        number = parse_number(negative.group(1))  # said back as not positive by the validator
        return str(-Decimal(str(number))) if number is not None else None
    if amount is None and ctx.state.asking == "amount":
        match = BARE_AMOUNT.match(ctx.text.replace(" ", ""))
        amount = parse_number(match.group(1)) if match else None
        if amount is not None and Decimal(str(amount)) >= LARGEST_SUM:
            amount = None  # "1" and 40 zeros: no sum
    return str(Decimal(str(amount))) if amount is not None else None


def _validate_amount(ctx: FlowContext, value) -> str | None:
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return "金额格式不正确，请重新告诉我借款金额。"
    if amount.is_finite() and amount <= 0:
        return "借款金额须为正数（大于 0），请重新告诉我借款金额。"
    if not amount.is_finite() or amount != amount.quantize(CENT):
        return "借款金额须大于 0，最多到分，请重新告诉我借款金额。"
    product = ctx.state.slots.get("product")
    if product in _catalogue(ctx):
        terms = _terms(ctx)
        if not terms.min_amount <= amount <= terms.max_amount:
            return f"{_range(terms)}，请重新告诉我借款金额。"
    return None


def _term_prompt(ctx: FlowContext) -> str:
    terms = _terms(ctx)
    return f"期限可选 {terms.min_months} 至 {terms.max_months} 期（按月还款），请问分多少期？"


def _extract_term(ctx: FlowContext):
    months = ctx.entity("term_months")
    if months is None and ctx.state.asking == "term_months":
        bare = BARE_MONTHS.match(ctx.text)
        months = int(bare.group(1)) if bare else None
    return months


def _validate_term(ctx: FlowContext, months) -> str | None:
    if ctx.state.slots.get("product") in _catalogue(ctx):
        terms = _terms(ctx)
        if not terms.min_months <= months <= terms.max_months:
            return f"{terms.name}期限为 {terms.min_months} 至 {terms.max_months} 期，请重新告诉我分多少期。"
    return None


def _without_products(ctx: FlowContext) -> str:
    """The message without the loan products it names: "经营贷" says which loan, not its purpose."""
    names = {word for product in loan_products(ctx.graph).values() for word in (product.name, *product.aliases)}
    text = ctx.text
    for word in sorted(names, key=len, reverse=True):
        text = text.replace(word, " ")
    return text


def _extract_purpose(ctx: FlowContext):
    text = _without_products(ctx)
    forbidden = FORBIDDEN.search(text)
    if forbidden and (ctx.state.asking == "purpose" or re.search(r"用于|用来|拿来|用途", text)):
        return forbidden.group(0)
    found = PURPOSES.search(text)
    if found:
        return found.group(0)
    return free_text(ctx, "purpose", 2, 20) if text.strip(" ,，。.!！") else None


def _validate_purpose(ctx: FlowContext, purpose) -> str | None:
    if FORBIDDEN.search(purpose):
        return "按监管规定，贷款资金不得用于购房、炒股、理财等投资，请告诉我其他用途（如装修、教育、旅游）。"
    return None


def _payment(ctx: FlowContext) -> Decimal:
    slots, terms = ctx.state.slots, _terms(ctx)
    return SCHEDULES[DEMO_RULES.method](Decimal(slots["amount"]), terms.annual_rate,
                                        int(slots["term_months"])).first_payment


def _savings_tail(ctx: FlowContext) -> str | None:
    savings = [a for a in ctx.bank.accounts(ctx.customer_id, ctx.now) if a.kind == "savings" and a.status == "active"]
    return savings[0].card_tail if savings else None


@flow
class LoanApplyFlow(Flow):
    name = "loan.apply"
    title = "贷款申请"
    confirm = needs_code = high_risk = True
    slots = (
        Slot("product", _product_prompt, _extract_product, _validate_product, label="贷款品种",
             words="品种|产品|消费贷|经营贷"),
        Slot("amount", _amount_prompt, _extract_amount, _validate_amount, label="金额",
             words="金额|借款|额度|钱", reads_bare=True),
        Slot("term_months", _term_prompt, _extract_term, _validate_term, label="期限", words="期限|期数|年限|期"),
        Slot("purpose", "请问借款用途是什么？（如装修、教育、旅游）", _extract_purpose, _validate_purpose,
             label="用途", words="用途|用来|用于"),
        Slot("monthly_income", "请问您每月税后收入大约多少元？", extract_income, validate_income, keep=keep_income,
             label="月收入", words="收入|月薪|工资|薪水"),
    )

    def on_start(self, ctx: FlowContext) -> bool:
        if REPAYING.search(ctx.text) and not ctx.parse.entity_values("amount"):  # "我想提前还贷款"
            ctx.say(EARLY_REPAYMENT)
            ctx.outcome = "answered"
            ctx.step("answer", intent="loan.early_repayment")
            ctx.state.end_flow(keep_context=False)
            return False
        code = named_product(ctx)
        if code is not None and code not in _catalogue(ctx):  # "我要办房贷": documents, elsewhere
            ctx.say(f"{where_to_apply(ctx.graph, code)}。如需试算月供，可以告诉我金额和期限。")
            ctx.outcome = "answered"
            ctx.step("applied_elsewhere", product=code)
            ctx.state.end_flow(keep_context=False)
            return False
        self.on_carry(ctx)
        return True

    def next_step(self, ctx: FlowContext, filled: list[str]) -> None:
        """An amount or term given before the product is held to the product's range once it is
        chosen, and said back then ("已记下：借款 50,000.00 元，12 期"), as it is when given while
        the bot asks which product: nothing said earlier is applied unseen."""
        slots = ctx.state.slots
        chosen = slots.get("product") in _catalogue(ctx)
        if chosen:
            for name, check in (("amount", _validate_amount), ("term_months", _validate_term)):
                if name in slots and (error := check(ctx, slots[name])):
                    slots.pop(name)
                    ctx.say(error)
                    ctx.step("slot_invalid", slot=name)
        if ctx.state.step == "collect":
            earlier = [n for n in ("amount", "term_months") if n in slots and n not in filled]
            if not chosen:  # given while the product is asked: kept, and said so
                self._noted(ctx, [n for n in NOTED if n in filled])
            elif "product" in filled and earlier:
                self._noted(ctx, earlier)
        super().next_step(ctx, filled)

    @staticmethod
    def _noted(ctx: FlowContext, names: list[str]) -> None:
        slots, said = ctx.state.slots, []
        if "amount" in names:
            said.append(f"借款 {format_amount(Decimal(slots['amount']))}")
        if "term_months" in names:
            said.append(f"{slots['term_months']} 期")
        if "purpose" in names:
            said.append(f"用途 {slots['purpose']}")
        if "monthly_income" in names:
            said.append(f"月收入 {format_amount(Decimal(slots['monthly_income']))}")
        if said:
            ctx.say(f"已记下：{'，'.join(said)}。")
            ctx.step("slots_noted", slots=names)

    def ask(self, ctx: FlowContext, slot: Slot, filled: list[str]) -> None:
        """A value refused by its validator ("借一百万": out of range) has been answered with the
        range and the question again: it counts as a retry at most, never ends the flow. A yes
        at the product menu, or details noted there, ask for the product in one line."""
        refused = any(s["action"] == "slot_invalid" and s.get("slot") == slot.name for s in ctx.steps)
        if refused and ctx.state.asking == slot.name and not filled:
            ctx.state.retries = min(ctx.state.retries, MAX_REASKS - 1)
        if slot.name == "product" and ctx.state.asking == "product" and not filled and steps.is_affirm(ctx):
            filled = ["(product asked again)"]  # not a failed answer: no "没能识别", no retry
        super().ask(ctx, slot, filled)

    def on_carry(self, ctx: FlowContext) -> None:
        """"那我申请吧" right after a what-if: its product, amount and term (loan_calculator.apply_figures)."""
        figures = apply_figures(ctx)
        if not figures:
            return
        ctx.step("what_if_carried", **{k: str(v) for k, v in figures.items()})
        product = figures["product"]
        if product not in _catalogue(ctx):  # "房贷100万30年" then "帮我申请": documents, at a branch
            ctx.say(f"{where_to_apply(ctx.graph, product)}。")
            return
        slots = ctx.state.slots
        error = _validate_product(ctx, product)
        if error:
            ctx.say(error)
            ctx.step("slot_invalid", slot="product")
            return
        slots["product"] = product
        said = []
        for name, check in (("amount", _validate_amount), ("term_months", _validate_term)):
            if (error := check(ctx, figures[name])) is None:
                slots[name] = figures[name]
        if "amount" in slots:
            said.append(format_amount(Decimal(slots["amount"])))
        if "term_months" in slots:
            said.append(f"{slots['term_months']} 期")
        ctx.say(f"好的，按刚才试算的方案申请{_terms(ctx).name}：{'，'.join(said)}。" if said
                else f"好的，为您申请{_terms(ctx).name}。")

    def how_to(self, ctx: FlowContext) -> str:
        products = "；".join(_range(t) for t in _catalogue(ctx).values())
        return (f"贷款可以直接在这里申请（需先绑定您的银行账户）。在线可申请：{products}。\n"
                "告诉我品种、金额、期限、用途和每月税后收入，我会算出月供并读给您核对，确认后凭短信验证码提交，"
                "审批结果以银行通知为准。房贷、车贷需携带材料到网点办理。")

    def summary(self, ctx: FlowContext) -> str:
        slots, terms = ctx.state.slots, _terms(ctx)
        tail = _savings_tail(ctx)
        account = f"\n放款及还款账户：储蓄卡 {mask_card(tail)}" if tail else ""
        return ("好的，请核对贷款申请：\n"
                f"产品：{terms.name}（年化利率 {terms.annual_rate * 100:.2f}% 起，以审批为准）\n"
                f"金额：{format_amount(Decimal(slots['amount']))}\n期限：{slots['term_months']} 期\n"
                f"还款方式：{METHOD_NAMES[DEMO_RULES.method]}，每月约 {format_amount(_payment(ctx))}\n"
                f"用途：{slots['purpose']}\n月收入：{format_amount(Decimal(slots['monthly_income']))}{account}\n"
                "确认提交请回复“确认”，如需修改请直接告诉我。")

    def before_code(self, ctx: FlowContext) -> bool:
        slots = ctx.state.slots
        try:
            ctx.bank.check_loan_application(ctx.customer_id, _terms(ctx), Decimal(slots["amount"]),
                                            int(slots["term_months"]), Decimal(slots["monthly_income"]), ctx.now)
        except BankingRefusal as refusal:
            self._refuse(ctx, refusal)
            return False
        return True

    def _refuse(self, ctx: FlowContext, refusal: BankingRefusal) -> None:
        if refusal.code == "ineligible" and "月供" in refusal.message:
            ctx.state.step, ctx.state.retries = "confirm", 0  # the read-back stays: change and confirm again
            message = BANK_ROOM_ADVICE.sub("", refusal.message).rstrip("。")
            refused(ctx, self.name, refusal.code, f"很抱歉，暂不能按此方案提交：{message}。\n{self._what_helps(ctx)}",
                    keep=True)
        elif refusal.code == "application_open":
            refused(ctx, self.name, refusal.code, f"{refusal.message}。回复“贷款进度”可查看进度。")
        else:
            refused(ctx, self.name, refusal.code, f"很抱歉，您暂不符合{_terms(ctx).name}的申请条件：{refusal.message}。"
                                                  "如有疑问可回复“人工”。")

    def _what_helps(self, ctx: FlowContext) -> str:
        """Only what can still pass: a longer term while the product allows one, and the largest
        amount that would pass at the longest term (the pre-review's own check finds the room)."""
        slots, terms = ctx.state.slots, _terms(ctx)
        months, income = int(slots["term_months"]), Decimal(slots["monthly_income"])
        try:
            decision = ctx.bank.check_loan_application(ctx.customer_id, terms, terms.min_amount, terms.max_months,
                                                       income, ctx.now)
        except BankingRefusal:  # not even the smallest amount at the longest term
            return "按目前的收入和负债，暂无可通过的方案，建议先结清部分现有负债后再申请。如需取消请回复“取消”。"
        room = income * DEMO_RULES.max_debt_ratio - decision.existing_payments
        largest = min(largest_principal(room, terms.annual_rate, terms.max_months, DEMO_RULES.method),
                      terms.max_amount)
        amount = format_amount(largest)
        if months < terms.max_months:
            return (f"您可以延长期限（最长 {terms.max_months} 期）或减少金额：按 {terms.max_months} 期最多约可借 {amount}。"
                    f"请直接告诉我新的期限或金额（如“{terms.max_months}期”“改成{largest:.0f}”），或回复“取消”。")
        return (f"期限已是最长的 {terms.max_months} 期，可将金额减至 {amount}以内。"
                f"请直接告诉我新的金额（如“改成{largest:.0f}”），或回复“取消”。")

    def otp_use(self, ctx: FlowContext) -> str:
        return f"申请{_terms(ctx).name} {format_amount(Decimal(ctx.state.slots['amount']))}"

    def operation(self, ctx: FlowContext) -> str:
        slots = ctx.state.slots
        return json.dumps([slots[s.name] for s in self.slots], ensure_ascii=False, default=str)

    def cancelled(self, ctx: FlowContext) -> str:
        return "好的，贷款申请先不办了。如需试算月供，可以随时问我。"

    def execute(self, ctx: FlowContext) -> None:
        slots, terms = ctx.state.slots, _terms(ctx)
        details = {"purpose": slots["purpose"], "monthly_income": slots["monthly_income"]}
        try:
            app = ctx.bank.apply_loan(ctx.customer_id, terms, Decimal(slots["amount"]), int(slots["term_months"]),
                                      details, f"flow:{ctx.state.flow_id}", ctx.now)
        except BankingRefusal as refusal:
            self._refuse(ctx, refusal)
            if ctx.state.step == "confirm":
                ctx.state.end_flow(keep_context=False)
            return
        review = f"审批时间：{terms.review_time}。\n" if terms.review_time else ""
        tail = _savings_tail(ctx)
        into = f"放款后资金将转入储蓄卡 {mask_card(tail)}。" if tail else ""
        ctx.say(f"贷款申请已提交，申请编号 {app.reference}。\n"
                f"{terms.name} {format_amount(app.amount)}，{app.term_months} 期，"
                f"每月约还 {format_amount(Decimal(app.details['monthly_payment']))}（以审批结果为准）。\n"
                f"{review}{into}可随时回复“贷款进度”查询。")
        ctx.outcome = "completed"
        ctx.step("executed", flow=self.name, reference=app.reference, replayed=app.replayed)
        ctx.state.end_flow()
