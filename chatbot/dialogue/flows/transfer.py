"""transfer.create: payee (payee book or a new account), amount, confirmation, code, posting.

Account numbers are kept in the dialogue state only sealed (with their masked form); the
read-back and the code's SMS name the payee's masked account, and a code confirms exactly
the payee, account, card and amount it was sent for (`operation`).
"""
from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation

from chatbot.dialogue import corrections, fraud, rich
from chatbot.dialogue.context import FlowContext
from chatbot.dialogue.flows.cards import pick_card
from chatbot.dialogue.forms import Flow, Slot, flow, get_flow, opened, sealed_value
from chatbot.dialogue.names import is_kin, looks_like_name
from chatbot.money import format_amount, to_capital
from chatbot.nlu.entities.numbers import parse_number
from chatbot.security.masking import mask_card
from chatbot.tools.banking import BankingRefusal

ACCOUNT_NUMBER = re.compile(r"(?<!\d)\d{12,19}(?!\d)")
CENT = Decimal("0.01")
BARE_AMOUNT = re.compile(r"^(转|就|给)|(元|块钱?|rmb)?(吧|吧。|。)?$")
NAME_ANSWER = re.compile(r"^(?:收款人|户名|名字|姓名)?(?:是|叫|为|:)?\s*([\u4e00-\u9fff]{2,4})$")
ACCOUNT_LABEL = "transfer.create/account"
CHOICES = "_amount_choices"  # "转500转1000": the amounts asked about ("是 500.00 元还是 1,000.00 元？")
FIRST = re.compile(r"^(?:第一|第1|前面|前一|头一)")
SECOND = re.compile(r"^(?:第二|第2|后面|后一|后来|最后)")
PROBE = Decimal("0.01")  # check_transfer with the smallest sum: can this card pay at all?


def seal_account(ctx: FlowContext, number: str) -> dict:
    return sealed_value(ctx, ACCOUNT_LABEL, number, mask_card(number))


def open_account(ctx: FlowContext, value) -> str | None:
    return opened(ctx, ACCOUNT_LABEL, value)


def _keep_payee(ctx: FlowContext, payee: dict) -> dict:
    kept = dict(payee)
    if isinstance(kept.get("account_no"), str):
        kept["account_no"] = seal_account(ctx, kept["account_no"])
    return kept


def _book(ctx: FlowContext):
    return ctx.bank.payees(ctx.customer_id)


def _payee_from_book(ctx: FlowContext, name: str | None):
    for payee in _book(ctx):
        if name == payee.name or (name is None and payee.name in ctx.text):
            return {"name": payee.name, "account_no": payee.account_no, "in_book": True}
    return None


def _transfer() -> Flow:
    return get_flow("transfer.create")


def _entities(ctx: FlowContext, kind: str) -> list:
    """This message's `kind` entities, from the customer's last correction on (corrections.py)."""
    return corrections.after_last_cue(ctx, [e for e in ctx.parse.entities if e.entity == kind])


def extract_payee(ctx: FlowContext):
    restated = corrections.restated(_transfer(), ctx, "payee")  # "给李娜转，不对，给王芳"
    if restated is not None:
        return restated
    payees = _entities(ctx, "payee")
    named = payees[0].value if payees else None
    if named and not _payee_from_book(ctx, named) and not (looks_like_name(named) or is_kin(named)):
        named = None  # "给房贷利率转", "改成王芳": not a person (corrections read the name after the cue)
    found = _payee_from_book(ctx, named) or (None if named else _payee_from_book(ctx, None))
    if found:
        return found
    if named:
        return {"name": named, "in_book": False}
    answer = NAME_ANSWER.match(ctx.text) if ctx.state.asking == "payee" else None
    if answer and looks_like_name(answer.group(1)):  # "请问转给谁？" answered with a bare name
        return {"name": answer.group(1), "in_book": False}
    number = _account_number(ctx)
    if number and not ctx.state.slots.get("payee"):  # a bare card number names a new payee
        beside = _name_beside(ctx)  # "王芳，卡号6222…": the name; the account is payee_account's
        if beside:
            return _payee_from_book(ctx, beside) or {"name": beside, "in_book": False}
        return {"name": None, "account_no": number, "in_book": False}
    return None


def _name_beside(ctx: FlowContext) -> str | None:
    """A name said as a clause of its own beside an account number ("王芳，卡号6222…")."""
    for clause in re.split(r"[\s,，。;；、]+", ctx.text):
        answer = NAME_ANSWER.match(clause)
        if answer and looks_like_name(answer.group(1)):
            return answer.group(1)
    return None


def _account_number(ctx: FlowContext) -> str | None:
    match = ACCOUNT_NUMBER.search(re.sub(r"[\s-]", "", ctx.parse.text))
    return match.group(0) if match else None


def _needs_account(ctx: FlowContext) -> bool:
    payee = ctx.state.slots.get("payee") or {}
    return bool(payee) and not payee.get("account_no")


def _needs_name(ctx: FlowContext) -> bool:
    payee = ctx.state.slots.get("payee") or {}
    return bool(payee) and not payee.get("name")


def _extract_name(ctx: FlowContext):
    if ctx.state.asking != "payee_name":
        return None
    match = NAME_ANSWER.match(ctx.text)
    name = ctx.entity("payee") or (match.group(1) if match else None)
    return name if looks_like_name(name) else None


def _extract_account(ctx: FlowContext):
    return _account_number(ctx) if ctx.state.asking == "payee_account" or _needs_account(ctx) else None


def _validate_account(ctx: FlowContext, number: str) -> str | None:
    try:
        ctx.bank.check_payee(number)
    except BankingRefusal as refusal:
        return f"{refusal.message}。"
    holder = ctx.bank.resolve_account(number)
    name = (ctx.state.slots.get("payee") or {}).get("name") or ctx.state.slots.get("payee_name")
    if holder and name and holder[0] != name:
        return "收款账号与户名不一致，请核对后重新提供卡号。"
    return None


def _stated_amounts(ctx: FlowContext) -> list[Decimal]:
    """The different amounts this message states for the transfer; a correction's wins
    ("转2500，哦不对是250" -> [250]); two with no correction between them are both kept."""
    restated = corrections.restated(_transfer(), ctx, "amount")
    if restated is not None:
        return [Decimal(restated)]
    return list(dict.fromkeys(e.value for e in _entities(ctx, "amount")))


def _extract_amount(ctx: FlowContext):
    amounts = _stated_amounts(ctx)
    if len(amounts) > 1:
        return None  # "转500转1000": which one? (asked: _amount_prompt)
    amount = amounts[0] if amounts else None
    if amount is None and ctx.state.asking == "amount":
        # Answering "转多少钱？" with a bare "800" is an amount, whatever the extractor thinks.
        bare = BARE_AMOUNT.sub("", ctx.text)
        amount = None if ACCOUNT_NUMBER.search(bare) else parse_number(bare)  # a card number is no sum
        choices = ctx.state.slots.get(CHOICES) or []
        if amount is None and len(choices) > 1:  # "请问转账金额是…还是…？" answered "第一个" / "后面那个"
            amount = choices[0] if FIRST.match(ctx.text) else choices[-1] if SECOND.match(ctx.text) else None
    return str(amount) if amount is not None else None


def _amount_prompt(ctx: FlowContext) -> str:
    choices = [Decimal(c) for c in ctx.state.slots.get(CHOICES) or []]
    if len(choices) < 2:
        return "请问转多少钱？"
    said = [format_amount(c) for c in choices]
    return f"请问转账金额是 {'、'.join(said[:-1])}还是 {said[-1]}？"


def _validate_amount(ctx: FlowContext, value: str) -> str | None:
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return "金额格式不正确，请重新输入。"
    if not amount.is_finite():
        return "金额格式不正确，请重新输入。"
    if amount <= 0:
        return "转账金额须大于 0，请重新输入。"
    try:
        if amount != amount.quantize(CENT):
            return "转账金额最多到分（两位小数），请重新输入。"
    except InvalidOperation:  # more digits than any account holds
        return "转账金额超出单笔限额，请重新输入金额。"
    try:
        ctx.bank.check_transfer(ctx.customer_id, _from_tail(ctx), amount, ctx.now)
    except BankingRefusal as refusal:
        if refusal.code == "card_frozen":
            return f"{refusal.message}。如卡片已找回，可回复“解挂”后再转账。"
        return f"{refusal.message}，请重新输入金额。"
    return None


def _from_tail(ctx: FlowContext) -> str:
    if ctx.state.slots.get("from_tail"):
        return ctx.state.slots["from_tail"]
    savings = [a for a in ctx.bank.accounts(ctx.customer_id, ctx.now) if a.kind == "savings"]
    return savings[0].card_tail


def _savings(ctx: FlowContext):
    return [a for a in ctx.bank.accounts(ctx.customer_id, ctx.now) if a.kind == "savings"]


def _needs_from(ctx: FlowContext) -> bool:
    """Asked when there are several savings cards; kept once the customer chose one."""
    return len(_savings(ctx)) > 1 or "from_tail" in ctx.state.slots


def _extract_from(ctx: FlowContext):
    tail = pick_card(ctx, _savings(ctx))
    if tail is None and ctx.state.asking == "from_tail":  # "用哪张储蓄卡？" answered "1234"
        bare = re.fullmatch(r"(?:尾号)?(\d{4})(?:的?卡|那张卡?)?", ctx.text)
        tail = bare.group(1) if bare else None
    return tail


def _frozen(ctx: FlowContext, tail: str) -> BankingRefusal | None:
    """The bank's refusal when this card cannot pay at all (lost or frozen), else None."""
    try:
        ctx.bank.check_transfer(ctx.customer_id, tail, PROBE, ctx.now)
    except BankingRefusal as refusal:
        return refusal if refusal.code == "card_frozen" else None
    return None


def _validate_from(ctx: FlowContext, tail: str) -> str | None:
    savings = _savings(ctx)
    if any(a.card_tail == tail for a in savings):
        frozen = _frozen(ctx, tail)
        usable = [a for a in savings if a.card_tail != tail and not _frozen(ctx, a.card_tail)]
        if frozen and usable:
            return f"{frozen.message}，请使用储蓄卡 {' 或 '.join(mask_card(a.card_tail) for a in usable)}。"
        return None  # the only card, frozen: the flow stops (TransferFlow.advance)
    others = " 或 ".join(mask_card(a.card_tail) for a in savings)
    if any(a.card_tail == tail for a in ctx.bank.accounts(ctx.customer_id, ctx.now)):
        return f"尾号{tail}的卡不是储蓄卡，不能用于转账付款，请使用储蓄卡 {others}。"
    return f"您名下没有尾号{tail}的卡，请使用储蓄卡 {others}。"


@flow
class TransferFlow(Flow):
    name = "transfer.create"
    title = "转账"
    confirm = needs_code = high_risk = True
    edit_resets = ("_cooled", "_cool_until")  # a changed transfer cools off afresh
    slots = (
        Slot("payee", "请问转给谁？可以说收款人姓名（如“李娜”），或提供对方卡号。", extract_payee,
             keep=_keep_payee, phrase="转给{}", label="收款人",
             words="收款人|收款方|对方|户名|名字|姓名|转给|给谁"),
        Slot("payee_account", lambda ctx: f"您的收款人名单里没有{ctx.state.slots['payee']['name']}，"
             "请提供对方的银行卡号。", _extract_account, _validate_account, _needs_account,
             keep=seal_account, depends_on=("payee",), label="收款账号", words="卡号|账号"),
        Slot("payee_name", "请提供收款人的姓名。", _extract_name, needed=_needs_name, depends_on=("payee",),
             label="收款人姓名"),
        Slot("from_tail", "请问用哪张储蓄卡付款？请说卡号尾号。", _extract_from, _validate_from,
             needed=_needs_from, label="付款卡", words="付款卡|付款账户|扣款卡|储蓄卡|尾号|哪张卡|用.{0,4}卡",
             correctable=True),
        Slot("amount", _amount_prompt, _extract_amount, _validate_amount, label="金额",
             words="金额|钱|数额|数目", reads_bare=True),
    )

    def advance(self, ctx: FlowContext) -> None:
        """A payer card that cannot pay (every savings card lost or frozen) ends the transfer at
        once, saying how to lift the loss: nothing else is asked (scam wording still comes first)."""
        refusal = self._payer_frozen(ctx)
        if refusal is None:
            super().advance(ctx)
        elif self.screen(ctx):
            self._stop_frozen(ctx, refusal)

    def fill(self, ctx: FlowContext) -> list[str]:
        filled = super().fill(ctx)
        amounts = _stated_amounts(ctx)
        if "amount" not in filled and len(amounts) > 1:
            ctx.state.slots[CHOICES] = [str(a) for a in amounts]
            ctx.step("amount_unclear", choices=len(amounts))
        return filled

    def next_step(self, ctx: FlowContext, filled: list[str]) -> None:
        if "amount" in ctx.state.slots:
            ctx.state.slots.pop(CHOICES, None)
        super().next_step(ctx, filled)

    def _payer_frozen(self, ctx: FlowContext) -> BankingRefusal | None:
        """The refusal when the card this transfer would be paid from cannot pay and no other can."""
        if ctx.customer_id is None:
            return None
        chosen = ctx.state.slots.get("from_tail")
        tails = [chosen] if chosen else [a.card_tail for a in _savings(ctx) if a.card_tail]
        refusals = [_frozen(ctx, tail) for tail in tails]
        return refusals[0] if refusals and all(refusals) else None

    def _stop_frozen(self, ctx: FlowContext, refusal: BankingRefusal) -> None:
        ctx.say(f"{refusal.message}，本次转账无法办理。如卡片已找回，可回复“解挂”解除挂失后再转账。")
        ctx.outcome = "refused"
        ctx.step("refused", code=refusal.code)
        ctx.state.end_flow(keep_context=False)

    def payee(self, ctx: FlowContext) -> tuple[str, str, bool]:
        """(name, full account number, in the payee book)."""
        payee, slots = ctx.state.slots["payee"], ctx.state.slots
        account = open_account(ctx, payee.get("account_no") or slots["payee_account"])
        return payee.get("name") or slots["payee_name"], account, payee.get("in_book", False)

    def summary(self, ctx: FlowContext) -> str:
        name, account, _ = self.payee(ctx)
        amount = Decimal(ctx.state.slots["amount"])
        return ("好的，请核对转账信息：\n"
                f"收款人：{name}（账号 {mask_card(account)}）\n"
                f"付款卡：储蓄卡 {mask_card(_from_tail(ctx))}\n"
                f"金额：{format_amount(amount)}（{to_capital(amount)}）\n"
                "确认转账请回复“确认”，如需修改请直接告诉我。")

    def same_value(self, ctx: FlowContext, name: str, value) -> bool:
        current = ctx.state.slots.get(name)
        if name == "payee" and isinstance(current, dict) and isinstance(value, dict):
            return (current.get("name") == value.get("name")
                    and open_account(ctx, current.get("account_no")) == value.get("account_no"))
        if name == "payee_account" and current is not None:
            return open_account(ctx, current) == value
        return super().same_value(ctx, name, value)

    def screen(self, ctx: FlowContext) -> bool:
        """Scam wording stops the transfer in the first reply, before any read-back (fraud.py)."""
        return not fraud.stop_at_once(ctx)

    def otp_use(self, ctx: FlowContext) -> str:
        name, account, _ = self.payee(ctx)
        return f"向{name}（账号 {mask_card(account)}）转账 {format_amount(Decimal(ctx.state.slots['amount']))}"

    def operation(self, ctx: FlowContext) -> str:
        name, account, _ = self.payee(ctx)
        return json.dumps([name, account, _from_tail(ctx), str(Decimal(ctx.state.slots["amount"]))],
                          ensure_ascii=False)

    def before_code(self, ctx: FlowContext) -> bool:
        amount = Decimal(ctx.state.slots["amount"])
        try:
            ctx.bank.check_transfer(ctx.customer_id, _from_tail(ctx), amount, ctx.now)
        except BankingRefusal as refusal:
            if refusal.code == "card_frozen":  # the card cannot pay whatever the sum: stop here
                self._stop_frozen(ctx, refusal)
                return False
            ctx.say(f"{refusal.message}，请重新输入金额。")
            ctx.state.slots.pop("amount", None)
            ctx.state.step, ctx.state.asking = "collect", "amount"
            ctx.step("refused", code=refusal.code)
            return False
        if fraud.stop_for_scam(ctx):
            return False
        return not fraud.start_cooling_off(ctx, amount, self.payee(ctx)[2])

    def execute(self, ctx: FlowContext) -> None:
        name, account, _ = self.payee(ctx)
        amount = Decimal(ctx.state.slots["amount"])
        try:
            receipt = ctx.bank.transfer(ctx.customer_id, _from_tail(ctx), account, name, amount, None,
                                        f"flow:{ctx.state.flow_id}", ctx.now)
        except BankingRefusal as refusal:
            ctx.say(f"转账未成功：{refusal.message}")
            ctx.outcome = "refused"
            ctx.step("refused", code=refusal.code)
        else:
            ctx.say(rich.card(f"转账成功：已向{name}（账号 {mask_card(account)}）转出 {format_amount(amount)}。\n"
                              f"流水号 {receipt.reference}，付款卡当前余额 {format_amount(receipt.balance_after)}。",
                              "转账成功", [("收款人", f"{name}（{mask_card(account)}）"),
                                           ("金额", format_amount(amount)), ("流水号", receipt.reference),
                                           ("付款卡余额", format_amount(receipt.balance_after))]))
            ctx.outcome = "completed"
            ctx.step("executed", flow=self.name, reference=receipt.reference, replayed=receipt.replayed)
        ctx.state.end_flow()
