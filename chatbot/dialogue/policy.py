"""The dialogue policy: continue the active flow, start one, answer, clarify or hand off.

Order of decisions for one message:
  0. emoji, sticker codes or punctuation alone: small talk, the open question asked again
     (stickers.py); an answer to "您是想问：1. …";
  1. a pending "abandon the current flow?" question is answered; so is the bot's last offer
     ("需要我现在为您挂失吗？" -> "好的", offers.py), else the offer is dropped;
  2. inside a flow: cancel, ask for a person, answer an interruption and re-ask, offer to
     switch to another business, or take the message further (slots, confirm, code);
  3. otherwise: follow-ups of the last query, small talk, knowledge, hand-off (complaints
     without 投诉 too: people.py), a lost card (offered a loss report at once), a question
     between two businesses the model cannot tell apart (choices.py), or a new flow (binding
     first when the customer's own money is involved, then the request goes on with
     everything said: own_money.py, offers.py); a message the model placed nowhere but the
     FAQ knows is answered from it;
  4. a second request in the same message ("…，顺便查下余额") is offered once the first is
     served.
"""
from __future__ import annotations

import re
import uuid
from contextlib import contextmanager
from dataclasses import replace

from chatbot.clock import BANK_TZ
from chatbot.dialogue import actions, choices, corrections, fraud, offers, own_money, people, replies, steps
from chatbot.dialogue.context import FlowContext
from chatbot.dialogue.flows import (bind, card_bill, loan_calculator, loan_status, news_latest, news_subscribe,
                                   transactions)
from chatbot.dialogue.forms import FLOWS, get_flow
from chatbot.dialogue.popular import PopularQuestions
from knowledge.related import related_questions
from chatbot.dialogue.stickers import is_sticker
from chatbot.dialogue.turn import HandoffRequest, PolicyResult, TurnContext  # noqa: F401 (re-exported)
from chatbot.nlu.parser import ParseResult
from chatbot.security.masking import PASSWORD_REMINDER, mentions_password
from chatbot.security.otp import OtpService
from chatbot.security.rate_limit import LookOnlyLimiter, RateLimiter, SqlRateLimiter
from chatbot.tools.sms import SandboxGateways, SmsGateways
from chatbot.tools.sql_bank import SqlBank
from knowledge.faq import products

CONFIDENT = 0.5
SWITCH_CONFIDENT = 0.6
# Inside a flow only: an offer's "不用了" is answered before (offers.py, _answer_switch).
CANCEL_WORDS = re.compile(r"^(算了|不办了|取消|不要了|不转了|不挂了|退出|先不.{0,3}了|不用(?:转|办|挂)?了?|不需要(?:转|办)?了?|"
                          r"cancel|stop)(?:[,，]?谢谢(?:你|您)?)?[。!.！]*$")
HUMAN_WORDS = re.compile(r"^(人工|转人工|人工客服)$")
# Asking for a person or complaining in so many words, anywhere in the message.
ASKS_PERSON = re.compile(r"人工|真人|找人|投诉|举报|报案")
# Words that make a message a complaint or a request for a person, whatever figure it carries.
PERSON_WORDS = re.compile(r"投诉|举报|人工|客服|经理|银保监|金管|差评|太差|差劲|垃圾|破|骗|坑|耍|搞什么|凭什么|乱扣|"
                          r"气死|火大|态度|效率")
SURE_COMPLAINT = 0.75
DIGIT = re.compile(r"\d")
CODE_ONLY = re.compile(r"^\d{6}$")
# Said to "要先放弃，改为…吗？": stay with the business at hand.
KEEP_GOING = re.compile(r"继续|接着办|接着做|先办完")
# "请告诉我" with no offer open asks the bot to go on; the model hears a complaint in it.
TELL_ME = re.compile(r"^(?:请|麻烦)?(?:你)?(?:告诉我|跟我说|说一下|讲一下|说说)(?:吧|呗|一下)?[。.!！~～]*$")
# Answered mid-flow, then the flow re-asks (out_of_scope is not: it may be a bad slot answer).
INTERRUPTIONS = {"faq", "greet", "thanks"}
DIGITS_ONLY = re.compile(r"^[\d\s.,-]+$")
# card.limit: a raise request ("提额", "申请临时额度", "额度提到5万"), unless it only asks how much
# ("临时额度还有多少": the balance answer).
RAISE_LIMIT = re.compile(r"提|调|升|涨|增加|加额|临时|临额")
LIMIT_VERB = re.compile(r"提额|提高|提升|调高|调整|调到|调至|调额|升额|涨|增加|加额|提到|提至|申请|办理?|要|想")
LIMIT_QUERY = re.compile(r"多少|几|剩|还有|查|是什么")


def flow_for(parse: ParseResult) -> str | None:
    """The flow that serves the message's intent; querying a credit limit is a balance
    question; a loan payment to compute ("借10万分36期每月还多少") is the calculator, a
    question about the customer's own loan ("下期还多少") their repayment plan."""
    intent, text = parse.intent.name, parse.normalized
    if intent == "card.limit" and (not RAISE_LIMIT.search(text)
                                   or (LIMIT_QUERY.search(text) and not LIMIT_VERB.search(text))):
        return "account.balance"
    if intent in ("loan.repayment_plan", "loan.apply"):  # a what-if, else the customer's own loan or application
        if loan_calculator.is_what_if(intent, text, bool(parse.entity_values("amount"))):
            return "loan.repayment_plan"
        return "loan.my_plan" if intent == "loan.repayment_plan" else "loan.apply"
    return intent if intent in FLOWS else None


class DialoguePolicy:
    """Routes each understood message; flows do the business (see `forms.Flow`)."""

    def __init__(self, secret_key: str, public_base_url: str, knowledge=None,
                 limiter: RateLimiter | None = None, sms: SmsGateways | None = None) -> None:
        self.secret_key = secret_key
        # Where codes go (CHATBOT_SMS_GATEWAY); the sandbox inbox unless the service says otherwise.
        self.sms = sms or SandboxGateways(secret_key)
        self.limiter = limiter or SqlRateLimiter(secret_key)
        self.public_base_url = public_base_url.rstrip("/")
        self.knowledge = knowledge  # answers `faq` questions; None until the knowledge base loads
        self.popular = PopularQuestions(self._faq_entries)  # the welcome chips' questions

    def respond(self, turn: TurnContext) -> PolicyResult:
        ctx = self._context(turn)
        fraud.note_risky_wording(ctx)
        asked = (ctx.state.active_flow, ctx.state.asking)
        self._route(ctx)
        self._offer_business_answered(ctx)
        self._offer_later_request(ctx)
        sticker = any(step["action"] == "sticker" for step in ctx.steps)
        if ctx.outcome != "not_understood" and not sticker:  # a sticker neither fails nor succeeds
            ctx.state.not_understood = 0
        self._drop_stale_request(ctx)
        self._brief_binding_question(ctx, asked)
        products.note(ctx)  # what the conversation is about, for look-alike FAQ entries
        actions.mark_answers(ctx, self._faq_answer, self._related)
        actions.add_actions(ctx, self._faq_question, lambda: self.popular.questions(turn.db, turn.now))
        if mentions_password(turn.parse.text):
            ctx.replies.append(PASSWORD_REMINDER)
        return PolicyResult(ctx.replies, ctx.state, ctx.outcome, ctx.steps, ctx.handoff)

    def _context(self, turn: TurnContext) -> FlowContext:
        otp = OtpService(self.secret_key, self.sms.gateway(turn.db))
        return FlowContext(
            db=turn.db, parse=turn.parse, state=turn.state, bank=SqlBank(turn.db), otp=otp,
            customer_id=turn.customer_id, now=turn.now, today=turn.now.astimezone(BANK_TZ).date(),
            channel=turn.channel, user_id=turn.user_id, session_id=turn.session_id, secret_key=self.secret_key,
            limiter=LookOnlyLimiter(self.limiter) if turn.read_only else self.limiter, address=turn.address,
            graph=self._graph(), public_base_url=self.public_base_url)

    def _faq_entries(self):
        return self.knowledge.retriever.entries if self.knowledge is not None else ()

    def _faq_entry(self, entry_id: str):
        return next((entry for entry in self._faq_entries() if entry.id == entry_id), None)

    def _faq_question(self, entry_id: str) -> str | None:
        entry = self._faq_entry(entry_id)
        return entry.question if entry is not None else None

    def _faq_answer(self, entry_id: str) -> str | None:
        entry = self._faq_entry(entry_id)
        return entry.answer if entry is not None else None

    def _related(self, entry_id: str) -> tuple[str, ...]:
        return related_questions(self.knowledge.retriever, entry_id) if self.knowledge is not None else ()

    def _graph(self):
        """The product graph the knowledge desk loaded, if any (flows read rates and limits)."""
        answerer = getattr(self.knowledge, "graph", None)
        return answerer.graph if answerer is not None else None

    def _route(self, ctx: FlowContext) -> None:
        state = ctx.state
        offer, state.offer = state.offer, {}  # an offer lives one turn: answered now or dropped
        if is_sticker(ctx.parse.text):
            self._sticker(ctx, offer)
        elif self._picks_offered_question(ctx):
            if state.active_flow:
                get_flow(state.active_flow).next_step(ctx, filled=["(interruption)"])
        elif state.pending_switch:
            self._answer_switch(ctx, offer)
        elif offer and not state.active_flow and self._answer_offer(ctx, offer):
            pass
        elif state.active_flow:
            self._in_flow(ctx)
        else:
            self._no_flow(ctx)

    def _sticker(self, ctx: FlowContext, offer: dict) -> None:
        """😊 👍 [微笑] "。。。" alone: small talk; the open question is asked again, nothing is
        confirmed by it and nothing counts as a failed answer."""
        state = ctx.state
        ctx.step("sticker")
        ctx.outcome = "in_flow" if state.active_flow else "answered"
        if offer:
            state.offer = offer  # still open: ask it again
        if state.pending_switch or (offer and not state.active_flow):
            ctx.say(offer.get("question") or replies.STICKER)
        elif state.active_flow and state.step == "confirm":
            ctx.say(replies.CONFIRM_IN_WORDS)
        elif state.active_flow and state.step == "otp":
            ctx.say(replies.CODE_IN_WORDS)
        elif state.active_flow and state.step == "cooling_off":
            ctx.say(replies.COOLING_OFF_IN_WORDS)
        elif state.active_flow:
            get_flow(state.active_flow).next_step(ctx, filled=["(interruption)"])  # not a failed answer
        elif state.offered_faq:
            ctx.say(replies.PICK_A_NUMBER)
        else:
            ctx.say(replies.STICKER_AFTER_MISS if state.not_understood else replies.STICKER)

    def _answer_offer(self, ctx: FlowContext, offer: dict) -> bool:
        """The customer answers the bot's offer ("需要我现在为您挂失吗？" -> "好的"); False when the
        message is something else (the offer is dropped and the message routed as usual)."""
        if offer.get("kind") == "choose":
            return self._answer_choice(ctx, offer)
        answer, target = offers.reply_to(ctx), offer.get("intent")
        saved = offers.open_request(ctx, offer.get("request"))
        asked_for = target and ((flow_for(ctx.parse) == target and ctx.parse.intent.confidence >= CONFIDENT)
                                or self._takes_offer(ctx, target))
        if answer is None and not asked_for:
            return False
        ctx.step("offer_answered", kind=offer.get("kind"), answer=answer or "asked_for")
        if answer == "no":
            ctx.outcome = "answered"
            if offer.get("kind") == "more":
                ctx.say(replies.SMALL_TALK["goodbye"])
            else:
                ctx.say(replies.declined(target))
            return True
        if not target:
            ctx.outcome = "answered"
            ctx.say(replies.GO_ON)
            return True
        request = offers.merged(saved, ctx.parse) if saved and asked_for else (saved or ctx.parse)
        with self._replaying(ctx, request):
            self._start(ctx, target)
        return True

    @staticmethod
    def _takes_offer(ctx: FlowContext, target: str) -> bool:
        """The offered flow reads the message as asking for it, whatever the model thinks
        (`takes_offer`: "分12期每个月还多少" right after 分期 was offered is the card's, not a loan)."""
        takes = getattr(FLOWS.get(target), "takes_offer", None)
        return bool(takes and takes(ctx))

    def _picks_offered_question(self, ctx: FlowContext) -> bool:
        """An answer to "您是想问：1. … 2. …" (unless it answers the flow's question)."""
        state = ctx.state
        if not state.offered_faq or self.knowledge is None:
            return False
        if state.active_flow and self._fills_something(get_flow(state.active_flow), ctx):
            state.offered_faq = []
            return False
        return self.knowledge.resolve_offer(ctx)

    # --- inside a flow ---------------------------------------------------------------------------
    def _in_flow(self, ctx: FlowContext) -> None:
        flow = get_flow(ctx.state.active_flow)
        if ctx.state.step == "otp" and steps.is_code_reply(ctx):
            steps.handle_code(flow, ctx)  # a code is never a cancel or a request for a person
        elif self._is_cancel(ctx):
            ctx.say(flow.cancelled(ctx))
            ctx.step("flow_cancelled", flow=flow.name)
            ctx.outcome = "cancelled"
            ctx.state.end_flow(keep_context=False)
            return
        elif not flow.screen(ctx):
            pass  # scam wording ("客服让我转的") is warned about and handed over as such (fraud.py)
        elif self._wants_person(ctx) and not self._answers_the_flow(flow, ctx):
            self._hand_off(ctx)  # the flow stays where it is for the agent to see
            return
        elif TELL_ME.match(ctx.text):
            flow.next_step(ctx, filled=["(interruption)"])  # the open question again, no retry counted
        else:
            self._in_flow_step(flow, ctx)
        self._after_flow(ctx)

    def _in_flow_step(self, flow, ctx: FlowContext) -> None:
        step = ctx.state.step
        if not flow.screen(ctx):
            pass  # new scam wording: warned and handed over before anything else (fraud.py)
        elif step in ("collect", "confirm") and flow.aside(ctx):
            flow.next_step(ctx, filled=["(interruption)"])  # answered by the flow: its question again
        elif self._other_business_at_read_back(ctx, flow):
            self._offer_switch(ctx, flow)
        elif steps.correct(flow, ctx):
            pass  # "改成3000", "不对，是王芳": updated and read back (corrections.py)
        elif step == "otp" and not steps.is_code_reply(ctx) and self._interruption(ctx):
            self._answer_aside(ctx)  # "激活要收年费吗" while the code is awaited: answered, code asked again
            ctx.say(replies.CODE_IN_WORDS)
        elif step == "otp":
            steps.handle_code(flow, ctx)
        elif step == "cooling_off":
            self._cooling_off_step(flow, ctx)
        elif self._fills_something(flow, ctx):
            flow.advance(ctx)
        elif step == "confirm" and (steps.is_affirm(ctx) or steps.is_deny(ctx)):
            steps.handle_confirm(flow, ctx)
        elif self._interruption(ctx):
            self._answer_aside(ctx)
            flow.next_step(ctx, filled=["(interruption)"])  # re-ask without counting a retry
        elif self._switch_wanted(ctx, flow):
            self._offer_switch(ctx, flow)
        elif step == "confirm":
            steps.handle_confirm(flow, ctx)
        else:
            flow.advance(ctx)

    def _other_business_at_read_back(self, ctx: FlowContext, flow) -> bool:
        """"借10万分36期每月还多少" at an installment's read-back asks for other business: its
        36期 is not a new term. Only without a correction word ("改成…") and not a bare value."""
        if ctx.state.step not in corrections.SETTLED_STEPS or corrections.CUE.search(ctx.text):
            return False
        return not DIGITS_ONLY.match(ctx.text) and self._switch_wanted(ctx, flow)

    def _cooling_off_step(self, flow, ctx: FlowContext) -> None:
        """A transfer cooling off holds the money, not the customer: a question is answered
        and another business may be switched to; only "继续转账" after the time sends a code."""
        going_on = fraud.asks_to_continue(ctx)
        if not going_on and self._interruption(ctx):
            self._answer_aside(ctx)
            fraud.cooling_over(ctx)  # not going on: it only reminds when the transfer may continue
        elif not going_on and self._switch_wanted(ctx, flow):
            self._offer_switch(ctx, flow)
        elif fraud.cooling_over(ctx):
            steps.send_code(flow, ctx)

    def _fills_something(self, flow, ctx: FlowContext) -> bool:
        return any(slot.needed(ctx) and slot.extract(ctx) is not None for slot in flow.slots)

    def _interruption(self, ctx: FlowContext) -> bool:
        intent = ctx.parse.intent
        return intent.name in INTERRUPTIONS and intent.confidence >= CONFIDENT

    def _switch_target(self, ctx: FlowContext, flow) -> str | None:
        """Another business the message asks for, a lost card included ("我卡丢了怎么办").
        A bare number never is: inside a flow it answers the flow (a stale code "500000" at a
        read-back once read as a transfer amount)."""
        if DIGITS_ONLY.match(ctx.text):
            return None
        if flow.name != "account.report_loss" and own_money.lost_card(ctx.text):
            return "account.report_loss"
        intent = ctx.parse.intent
        if intent.name in replies.BUSINESS_INTENTS and intent.confidence >= SWITCH_CONFIDENT:
            target = flow_for(ctx.parse) or intent.name
            return target if target != flow.name else None
        return None

    def _switch_wanted(self, ctx: FlowContext, flow) -> bool:
        return self._switch_target(ctx, flow) is not None

    def _offer_switch(self, ctx: FlowContext, flow) -> None:
        target = self._switch_target(ctx, flow)
        if flow.name == "account.bind" and target in FLOWS and get_flow(target).requires_binding:
            self._bind_for(ctx, flow, target)
            return
        ctx.state.pending_switch = target
        question = f"您正在办理{flow.title}，要先放弃，改为{replies.intent_title(target)}吗？请回复“是”或“否”。"
        offers.make(ctx, "switch", question, target)
        ctx.step("offer_switch", current=flow.name, to=target)

    def _bind_for(self, ctx: FlowContext, flow, target: str) -> None:
        """Binding is on the way to any of the customer's money: asking for that business (the
        same again, "我的卡丢了，快点", or another) changes what follows the binding, never
        abandons it."""
        state = ctx.state
        saved = offers.open_request(ctx, state.resume_request) if target == state.resume_intent else None
        self._remember_request(ctx, target, offers.merged(saved, ctx.parse) if saved else ctx.parse)
        ctx.step("resume_changed", to=target)
        if state.asking != "name":  # the brief name question says it (_brief_binding_question)
            ctx.say(f"好的，验证身份后马上为您{replies.intent_title(target)}。")
        flow.next_step(ctx, filled=["(interruption)"])

    def _answer_switch(self, ctx: FlowContext, offer: dict) -> None:
        target, ctx.state.pending_switch = ctx.state.pending_switch, None
        answer = offers.reply_to(ctx)
        if KEEP_GOING.search(ctx.text):  # "好，继续分期": the 好 agrees to go on, not to switch
            answer = "no"
        # "消费贷" to "改为申请贷款吗？" names the new business: a yes, not an answer to the old flow.
        names_target = answer is None and flow_for(ctx.parse) == target and ctx.parse.intent.confidence >= CONFIDENT
        if answer == "yes" or (answer is None and steps.is_affirm(ctx)) or names_target:
            ctx.step("switched", to=target)
            ctx.state.end_flow(keep_context=False)
            if target not in FLOWS:  # business the chat does not do: say where it is done
                ctx.say(replies.aside(target))
                ctx.outcome = "answered"
                return
            with self._replaying(ctx, offers.open_request(ctx, offer.get("request"))):
                self._start(ctx, target)
        elif not ctx.state.active_flow:
            self._no_flow(ctx)
        elif answer == "no" or steps.is_deny(ctx):
            ctx.say("好的，我们继续。")
            if ctx.state.step == "cooling_off":
                fraud.cooling_over(ctx)  # the cooling-off goes on: only its reminder
            else:
                get_flow(ctx.state.active_flow).next_step(ctx, filled=["(resume)"])
        else:
            self._in_flow(ctx)

    def _after_flow(self, ctx: FlowContext) -> None:
        """When binding just finished, go on with what the customer wanted first, with
        everything they said then (payee, amount, card, dates)."""
        state = ctx.state
        if state.active_flow is None and state.resume_intent and ctx.customer_id is not None:
            target, state.resume_intent = state.resume_intent, None
            request, state.resume_request = state.resume_request, None
            ctx.step("resumed", flow=target)
            with self._replaying(ctx, offers.open_request(ctx, request)):
                self._start(ctx, target)

    def _remember_request(self, ctx: FlowContext, name: str, request=None) -> None:
        ctx.state.resume_intent = name
        ctx.state.resume_request = offers.seal_request(ctx, request or ctx.parse)

    @contextmanager
    def _replaying(self, ctx: FlowContext, request):
        """Let a flow start from an earlier message (the request), then back to this one."""
        if request is None:
            yield
            return
        live, ctx.parse = ctx.parse, request
        try:
            yield
        finally:
            ctx.parse = live

    def _drop_stale_request(self, ctx: FlowContext) -> None:
        """A binding detour that ended unbound (cancelled, failed, abandoned) forgets its request."""
        state = ctx.state
        if state.resume_intent and state.active_flow is None and ctx.customer_id is None:
            state.resume_intent = state.resume_request = None

    def _brief_binding_question(self, ctx: FlowContext, asked: tuple) -> None:
        """The binding's name question, asked again (after an interruption, a sticker, a retry):
        briefly, saying what it is for, without the whole preamble again."""
        state = ctx.state
        if asked != ("account.bind", "name") or (state.active_flow, state.asking) != asked:
            return
        full = next(slot for slot in get_flow("account.bind").slots if slot.name == "name").ask(ctx)
        brief = replies.brief_name_question(state.resume_intent)
        ctx.replies[:] = [text.replace(full, brief) for text in ctx.replies]

    # --- no flow ---------------------------------------------------------------------------------
    def _no_flow(self, ctx: FlowContext) -> None:
        intent = ctx.parse.intent
        if ctx.customer_id is not None and card_bill.is_follow_up(ctx):  # "导出", "那上个月的呢" after a bill
            card_bill.follow_up(ctx, self.public_base_url)
        elif ctx.customer_id is not None and transactions.is_follow_up(ctx):
            transactions.follow_up(ctx, self.public_base_url)
        elif loan_calculator.is_follow_up(ctx):
            loan_calculator.follow_up(ctx)
        elif ctx.customer_id is not None and news_subscribe.is_follow_up(ctx):
            self._start(ctx, news_subscribe.NewsSubscribeFlow.name)
        elif loan_calculator.is_apply_follow_up(ctx):  # "那我申请吧" after a what-if: its figures go on
            self._start(ctx, "loan.apply")
        elif loan_status.asks_when_paid_out(ctx):  # "什么时候能放款" with an open loan application
            self._start(ctx, "loan.status")
        elif news_latest.is_follow_up(ctx):  # "2", "看第2条" right after a news list
            news_latest.follow_up(ctx)
        elif TELL_ME.match(ctx.text):
            ctx.say(replies.TELL_ME_WHAT)
            ctx.outcome = "answered"
        elif CODE_ONLY.match(ctx.text):
            # A code typed twice, or after its business was done: nothing waits for it, and it
            # is no failed message (two of those would queue the customer for a person).
            ctx.say(replies.NO_CODE_AWAITED)
            ctx.outcome = "answered"
            ctx.step("code_not_awaited")
        elif self._tells_of_a_scam(ctx):
            self.knowledge.answer(ctx)  # the FAQ's warning; a transfer later is stopped (fraud.py)
        elif self._wants_person(ctx):
            self._hand_off(ctx)
        elif bind.UNBIND.search(ctx.text):
            self._start(ctx, "account.bind")
        elif own_money.lost_card(ctx.text) and (own_money.asks_what_to_do(ctx.text)
                                                or flow_for(ctx.parse) != "account.report_loss"
                                                or intent.confidence < CONFIDENT):
            # "我卡丢了怎么办啊" is an emergency, not a knowledge question: offer to freeze it now.
            ctx.outcome = "answered"
            offers.make(ctx, "flow", replies.LOST_CARD_OFFER, "account.report_loss")
        elif options := self._two_businesses(ctx):
            self._ask_between(ctx, options)
        elif intent.confidence < CONFIDENT:
            # Unplaced by the intent model, but perhaps a topic the FAQ knows ("吞卡的事情").
            if self.knowledge is None or not self.knowledge.answer_if_known(ctx):
                self._not_understood(ctx)
        elif target := flow_for(ctx.parse):
            if not self._how_to_answered(ctx):
                self._start(ctx, target)
        else:
            self._answer_aside(ctx)

    def _how_to_answered(self, ctx: FlowContext) -> bool:
        """"卡被吞了咋办" asks how, not to act: a sure FAQ answer wins, else the flow's own
        account of how it is done ("怎么申请信用卡", `Flow.how_to`); the flow is offered.
        "余额多少", "我卡里还有多少钱" ask for the customer's own money: never a how-to."""
        if self.knowledge is None or not own_money.is_how_to(ctx.text):
            return False
        target = flow_for(ctx.parse)
        if not self.knowledge.answer_if_sure(ctx):
            told = get_flow(target).how_to(ctx)
            if told is None:
                return False
            ctx.say(told)
            ctx.outcome = "answered"
            ctx.step("how_to_answer", flow=target)
        if ctx.outcome != "faq_clarify":  # the FAQ asked which product first: one question at a time
            self._offer_to_do(ctx, target)
        return True

    def _offer_business_answered(self, ctx: FlowContext) -> None:
        """An FAQ answer about business the chat can do ("信用卡怎么还款", the entry's `offers`)
        ends with the offer to do it now, whichever way the question reached the FAQ."""
        state = ctx.state
        if state.active_flow or state.offer or ctx.handoff is not None:
            return
        target = next((step.get("offers") for step in ctx.steps if step["action"] == "faq_answer"), None)
        if target in FLOWS:
            self._offer_to_do(ctx, target)

    @staticmethod
    def _offer_to_do(ctx: FlowContext, target: str) -> None:
        if target == "account.bind" and ctx.customer_id is not None:
            return  # bound already: binding again is not something to offer
        offers.make(ctx, "flow", replies.offer_to_do(target), target)

    # --- two businesses, and a second request ---------------------------------------------------
    def _two_businesses(self, ctx: FlowContext) -> tuple[str, str] | None:
        """The two businesses to ask between (choices.py), unless both would start the same flow."""
        options = choices.close_call(ctx.parse)
        if options is None:
            return None
        first, second = (flow_for(choices.as_chosen(ctx.parse, name)) or name for name in options)
        return options if first != second else None

    def _ask_between(self, ctx: FlowContext, options: tuple[str, str]) -> None:
        offers.make(ctx, "choose", choices.question(options))
        ctx.state.offer["options"] = list(options)
        ctx.state.offer["request"] = offers.seal_request(ctx, ctx.parse)
        ctx.outcome = "intent_clarify"
        ctx.step("intent_clarify", options=list(options))

    def _answer_choice(self, ctx: FlowContext, offer: dict) -> bool:
        """The reply to "您是想…，还是…？": start the chosen business from the first message;
        "都不是" asks again in words; anything else is a new message (False)."""
        options = [name for name in offer.get("options") or () if name in replies.BUSINESS_INTENTS]
        chosen = choices.picked(ctx, options) if options else None
        if chosen is None:
            if not choices.says_neither(ctx):
                return False
            ctx.say(replies.GO_ON)
            ctx.outcome = "answered"
            ctx.step("choice_answered", chosen=None)
            return True
        ctx.step("choice_answered", chosen=chosen)
        saved = offers.open_request(ctx, offer.get("request"))
        if saved is not None and not choices.by_number(ctx):  # "帮我还3000": the 3000 counts too
            saved = offers.merged(saved, ctx.parse)
        request = choices.as_chosen(saved or ctx.parse, chosen)
        with self._replaying(ctx, request):
            target = flow_for(request)
            if target is None:
                self._answer_aside(ctx)
            else:
                self._start(ctx, target)
        return True

    def _offer_later_request(self, ctx: FlowContext) -> None:
        """"帮我还一下信用卡，顺便查下余额": once the first business is done (now, or when its flow
        ends), the second is offered; the original message goes with it."""
        state, later = ctx.state, ctx.parse.later
        if later is not None:  # the parser only reads one apart when it is other business (Parser._split)
            request = replace(ctx.parse, intent=later, ranking=(later,), entities=ctx.parse.later_entities,
                              later=None, later_entities=(), request=None, request_tokens=())
            state.later = {"intent": later.name, "request": offers.seal_request(ctx, request)}
        if ctx.handoff is not None:
            state.later = {}  # a person takes over: they hear the whole message
        if not state.later or state.active_flow or state.pending_switch:
            return
        if state.offer and state.offer.get("kind") != "more":  # "还有其他需要吗？" gives way to it
            return  # the reply asks something ("需要我现在为您挂失吗？"): one question at a time; later
        pending, state.later = state.later, {}
        request = offers.open_request(ctx, pending.get("request"))
        target = flow_for(choices.as_chosen(request, pending["intent"])) if request else None
        if target in FLOWS:
            offers.make(ctx, "flow", f"您刚才还提到{replies.intent_title(pending['intent'])}，需要现在办理吗？", target)
            state.offer["request"] = pending.get("request")

    def _start(self, ctx: FlowContext, name: str) -> None:
        flow = get_flow(name)
        if flow.requires_binding and ctx.customer_id is None:
            if not flow.screen(ctx):
                return  # scam wording: warned and handed over before any binding question (fraud.py)
            self._remember_request(ctx, name)  # the whole message, to go on with after binding
            ctx.say(f"{replies.intent_title(name)}需要先绑定您的银行账户。")
            name, flow = "account.bind", get_flow("account.bind")
        ctx.state.start_flow(name, uuid.uuid4().hex)
        ctx.step("flow_started", flow=name)
        if flow.on_start(ctx):
            flow.advance(ctx)
        self._after_flow(ctx)

    def _answer_aside(self, ctx: FlowContext) -> None:
        """Small talk, knowledge questions and business we cannot do in chat."""
        name = ctx.intent
        if name == "faq" and self.knowledge is not None:
            self.knowledge.answer(ctx)
            return
        ctx.say(replies.aside(name))
        ctx.outcome = "answered" if name != "out_of_scope" else "out_of_scope"
        ctx.step("answer", intent=name)
        if name == "thanks" and not ctx.state.active_flow:
            offers.remember(ctx, "more", replies.ANYTHING_ELSE)  # asked again as itself, not "不客气"

    def _not_understood(self, ctx: FlowContext) -> None:
        ctx.state.not_understood += 1
        ctx.outcome = "not_understood"
        ctx.step("fallback", confidence=ctx.parse.intent.confidence, count=ctx.state.not_understood)
        if ctx.state.not_understood >= 2:
            ctx.say("抱歉，我还是没能理解您的问题，正在为您转接人工客服。")
            ctx.handoff = HandoffRequest("not_understood")
            ctx.state.not_understood = 0
        else:
            ctx.say(replies.NOT_UNDERSTOOD)

    # --- people ----------------------------------------------------------------------------------
    def _answers_the_flow(self, flow, ctx: FlowContext) -> bool:
        """"我一个月挣六千" at the income question, "基本不了解" at a questionnaire's: the model hears
        a complaint in them. A message the flow takes as an answer, without complaint or person
        words, is one: a figure, or anything unless the model is quite sure of the complaint."""
        if HUMAN_WORDS.match(ctx.text) or PERSON_WORDS.search(ctx.text) or not self._fills_something(flow, ctx):
            return False
        figure = any(e.entity in ("amount", "term_months") for e in ctx.parse.entities) or DIGIT.search(ctx.text)
        return bool(figure) or ctx.parse.intent.confidence < SURE_COMPLAINT

    def _tells_of_a_scam(self, ctx: FlowContext) -> bool:
        """"客服让我把钱转到安全账户" outside a transfer: the model may hear a complaint about
        客服; it is a scam to warn about. Not when the customer asks for a person or complains
        outright ("有人冒充公安让我转账，帮我转人工"): then a person checks it (`_hand_off`)."""
        if self.knowledge is None or not self._risk_wording_now(ctx) or ASKS_PERSON.search(ctx.text):
            return False
        intent = ctx.parse.intent
        if intent.name in ("complaint", "human.request") and intent.confidence >= SURE_COMPLAINT:
            return False
        return intent.name in ("complaint", "human.request", "faq", "out_of_scope")

    @staticmethod
    def _risk_wording_now(ctx: FlowContext) -> bool:
        return any(step["action"] == "risk_wording" for step in ctx.steps)

    def _is_cancel(self, ctx: FlowContext) -> bool:
        return (ctx.intent == "cancel" and ctx.parse.intent.confidence >= CONFIDENT) or bool(CANCEL_WORDS.match(ctx.text))

    def _wants_person(self, ctx: FlowContext) -> bool:
        if DIGITS_ONLY.match(ctx.text) or TELL_ME.match(ctx.text):
            return False  # the classifier's guess on a bare number (or "请告诉我") means nothing
        intent = ctx.parse.intent
        confident = intent.confidence >= CONFIDENT and intent.name in ("human.request", "complaint")
        return confident or bool(HUMAN_WORDS.match(ctx.text)) or people.sounds_like_complaint(ctx.parse)

    def _hand_off(self, ctx: FlowContext) -> None:
        # The desk apologises and says where they wait; a call-back it cannot promise.
        complaint = ctx.intent == "complaint" or (ctx.intent != "human.request" and people.sounds_like_complaint(ctx.parse))
        if self._risk_wording_now(ctx) and not ctx.state.active_flow and ctx.intent != "complaint":
            ctx.handoff = HandoffRequest("fraud_risk", 8)  # "冒充公安让我转账，转人工": checked first
        elif complaint:
            ctx.handoff = HandoffRequest("complaint", 10)
        else:
            ctx.handoff = HandoffRequest("call_back" if people.asks_call_back(ctx.text) else "human_request")
        ctx.outcome = "handoff"
        ctx.step("handoff", reason=ctx.handoff.reason)
