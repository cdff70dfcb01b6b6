"""wealth.risk_assessment: the risk-tolerance questionnaire, one question at a time.

Asked while an assessment is in force, the bot says the level, its date and expiry and what
it may buy, and offers a re-assessment ("重新测评" starts one at once). The questionnaire
(chatbot/wealth/questionnaire.py) is answered by letter, number or words; "第3题选B" or
"上一题改成C" changes an earlier answer; after the last question the answers are read back
for "确认"; then the level is stored (valid 12 months) with an evidence record of every
question shown and every answer given (chatbot/wealth/evidence.py). "取消" at any point
keeps nothing.

The flow keeps its own progress (`_q`, `_answers`) instead of one slot per question: a bare
"B" must answer only the open question, never every question at once.
"""
from __future__ import annotations

import re

from chatbot.clock import BANK_TZ

from chatbot.dialogue import offers
from chatbot.dialogue.context import FlowContext
from chatbot.dialogue.flows.wealth_common import assessment, day, level_line
from chatbot.dialogue.forms import MAX_REASKS, Flow, Slot, flow
from chatbot.wealth import evidence
from chatbot.wealth import questionnaire as q

RETAKE = re.compile(r"重新|重做|再做|再测|重测|更新|过期|再来|重来|提高|调高|测高")
_NUM = r"(\d{1,2}|[一二两三四五六七八九十]{1,3})"
FIX_NTH = re.compile(rf"第\s*{_NUM}\s*(?:题|个问题|道题)\s*(?:的?答案)?\s*(?:改成|改为|换成|改选|选|选择|答|应该是|是|要)?\s*(.*)$")
FIX_PREV = re.compile(r"(?:上一题|上题|前一题|刚才那题|上一个问题)\s*(?:的?答案)?\s*(?:改成|改为|换成|改选|选|选择|答|应该是|是|要)?\s*(.*)$")
BACK = re.compile(r"^(?:返回|回到|退回)?上一题$")
WRONG = re.compile(r"^(?:不对|错了|答错了|选错了|我要改|要改|改一下|修改)[。!！]*$")
_CN = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
HOW_TO_ANSWER = "请回复选项字母或序号（如“B”或“2”），也可以直接说答案。"


def _number(text: str) -> int:
    if text.isdigit():
        return int(text)
    if text == "十":
        return 10
    if text.startswith("十"):
        return 10 + _CN[text[1]]
    if text.endswith("十"):
        return _CN[text[0]] * 10
    return _CN[text[0]]


def _stage(ctx: FlowContext) -> str:
    return ctx.state.slots.get("_stage", "new")


def _read(ctx: FlowContext):
    """What this message does to the questionnaire, or None."""
    stage, text = _stage(ctx), ctx.text.strip()
    if stage not in ("questions", "review"):
        return None
    current = ctx.state.slots.get("_q", 0)
    open_question = ctx.state.slots.get("_fix", current)
    if match := FIX_NTH.search(text):
        index = _number(match.group(1)) - 1
        if not 0 <= index < len(q.QUESTIONS):
            return {"bad_index": index + 1}
        return {"fix": index, "letter": q.read_answer(index, match.group(2)) if match.group(2) else None}
    if BACK.match(text):
        return {"fix": max(current - 1, 0), "letter": None}
    if match := FIX_PREV.search(text):
        index = len(q.QUESTIONS) - 1 if stage == "review" else max(current - 1, 0)
        return {"fix": index, "letter": q.read_answer(index, match.group(1)) if match.group(1) else None}
    if stage == "review":
        return {"which": True} if WRONG.match(text) else None
    letter = q.read_answer(open_question, text)
    return {"answer": open_question, "letter": letter} if letter else None


def _summary(ctx: FlowContext) -> str:
    answers = ctx.state.slots["_answers"]
    lines = [f"{i + 1}. {question.text.rstrip('？')}：{answers[question.key]}. "
             f"{question.options[q.LETTERS.index(answers[question.key])].text}"
             for i, question in enumerate(q.QUESTIONS)]
    return ("10 题已答完，请核对您的答案：\n" + "\n".join(lines) +
            "\n确认提交请回复“确认”；如需修改，请说“第3题选B”。")

# "我的风险等级是什么", "我是什么等级": asks for the level (said first when there is none).
ASKS_LEVEL = re.compile(r"什么等级|哪个等级|几级|等级是|风险等级|测评结果|是什么类型|哪一类")

@flow
class RiskAssessmentFlow(Flow):
    name = "wealth.risk_assessment"
    title = "风险测评"
    confirm = True
    slots = (Slot("answer", HOW_TO_ANSWER, _read, label="答案"),)

    def on_start(self, ctx: FlowContext) -> bool:
        current = assessment(ctx)
        offered = any(s["action"] == "offer_answered" for s in ctx.steps)
        if current is not None and current.valid_on(ctx.today) and not (offered or RETAKE.search(ctx.text)):
            ctx.say(f"您当前的风险承受能力等级为 {level_line(current)}。\n"
                    f"测评日期 {day(current.assessed_at.astimezone(BANK_TZ).date())}，有效期至 {day(current.expires_on)}。")
            ctx.outcome = "answered"
            ctx.step("assessment_shown", level=current.level)
            ctx.state.end_flow(keep_context=False)
            offers.make(ctx, "flow", "如您的财务状况或投资目标有变化，需要现在重新测评吗？", self.name)
            return False
        if current is not None and not current.valid_on(ctx.today):
            lead = f"您的风险测评已于 {day(current.expires_on)} 过期，现在为您重新测评。"
        elif current is not None:
            lead = f"好的，为您重新测评（当前等级 {q.describe(current.level)}，新结果将替代它）。"
        elif ASKS_LEVEL.search(ctx.text) and not offered:
            lead = "您还没有做过风险测评，现在就可以测。"  # "我的风险等级是什么": first say there is none
        else:
            lead = "好的，开始风险测评。"
        ctx.say(f"{lead}共 {len(q.QUESTIONS)} 题，每题回复选项字母或序号即可；答错了可以说“第3题选B”修改，"
                "回复“取消”可随时退出。")
        ctx.state.slots.update({"_stage": "questions", "_q": 0, "_answers": {}})
        ctx.state.missing_slots = [question.key for question in q.QUESTIONS]
        ctx.state.slots["_asked"] = True
        ctx.say(q.ask(0))
        ctx.step("ask", slot="q1")
        return False  # the first question is out; the answers come in later messages

    # The policy calls advance for a message this flow reads (see `_read`), and next_step to
    # ask the open question again after an interruption.
    def advance(self, ctx: FlowContext) -> None:
        found = _read(ctx)
        state = ctx.state
        if found is None:
            state.retries += 1
            if state.retries > MAX_REASKS:
                self.give_up(ctx, f"ask_q{state.slots.get('_q', 0) + 1}")
                return
            ctx.say("抱歉，没能识别您的回答。" + HOW_TO_ANSWER)
            self.next_step(ctx, ["(retry)"])
            return
        state.retries = 0
        answers = state.slots["_answers"]
        if "bad_index" in found:
            ctx.say(f"问卷共 {len(q.QUESTIONS)} 题，没有第 {found['bad_index']} 题。")
        elif "which" in found:
            ctx.say("请告诉我要修改第几题和新的选项，例如“第3题选B”。")
            return
        elif "fix" in found:
            index, letter = found["fix"], found["letter"]
            question = q.QUESTIONS[index]
            if letter is None:
                if index >= len(answers) and _stage(ctx) == "questions" and index >= state.slots["_q"]:
                    ctx.say(f"第 {index + 1} 题还没有作答。")
                else:  # go back and ask that question again; later answers are kept
                    state.slots["_fix"] = index
                    ctx.say(f"好的，请重新回答第 {index + 1} 题。\n{q.ask(index)}")
                    ctx.step("ask", slot=f"q{index + 1}")
                    return
            elif question.key not in answers and index != state.slots["_q"]:
                ctx.say(f"第 {index + 1} 题还没有作答，请先回答当前题目。")
            else:
                answers[question.key] = letter
                ctx.step("slot_filled", slot=question.key, corrected=True)
                ctx.say(f"已将第 {index + 1} 题改为 {letter}. {question.options[q.LETTERS.index(letter)].text}。")
                if index == state.slots["_q"]:
                    state.slots["_q"] += 1
        else:
            index, letter = found["answer"], found["letter"]
            question = q.QUESTIONS[index]
            answers[question.key] = letter
            ctx.step("slot_filled", slot=question.key)
            if state.slots.pop("_fix", None) is not None:
                ctx.say(f"已将第 {index + 1} 题改为 {letter}. {question.options[q.LETTERS.index(letter)].text}。")
            if index == state.slots["_q"]:
                state.slots["_q"] += 1
        self.next_step(ctx, [found.get("answer", "fix")])

    def next_step(self, ctx: FlowContext, filled: list[str]) -> None:
        state = ctx.state
        if _stage(ctx) == "new":
            return
        if "_fix" in state.slots:
            ctx.say(q.ask(state.slots["_fix"]))
            return
        current = state.slots["_q"]
        answers = state.slots["_answers"]
        state.missing_slots = [question.key for question in q.QUESTIONS if question.key not in answers]
        if current < len(q.QUESTIONS):
            ctx.say(q.ask(current))
            ctx.step("ask", slot=f"q{current + 1}", retries=state.retries)
            return
        state.slots["_stage"], state.step, state.asking = "review", "confirm", None
        ctx.say(_summary(ctx))
        ctx.step("confirm", flow=self.name)

    def summary(self, ctx: FlowContext) -> str:
        return _summary(ctx)

    def cancelled(self, ctx: FlowContext) -> str:
        return "好的，风险测评先不做了，已答的题目不会保存。需要时说“风险测评”即可重新开始。"

    def execute(self, ctx: FlowContext) -> None:
        answers = dict(ctx.state.slots["_answers"])
        total = q.score(answers)
        level = q.level_for(total)
        info = ctx.bank.record_assessment(ctx.customer_id, answers, total, level, ctx.now)
        shown = "\n\n".join(q.ask(i) for i in range(len(q.QUESTIONS)))
        result = (f"测评完成：您的风险承受能力等级为 {level_line(info)}（得分 {total} 分）。\n"
                  f"测评日期 {day(ctx.today)}，有效期至 {day(info.expires_on)}。\n"
                  "想看适合您的产品，可以说“推荐理财”。")
        evidence.append(ctx.db, ctx.customer_id, "risk_assessment", {
            "assessment_id": info.id, "questions_shown": shown, "questions_sha256": evidence.text_hash(shown),
            "answers": [{"no": i + 1, "key": question.key, "question": question.text, "answer": answers[question.key],
                         "text": question.options[q.LETTERS.index(answers[question.key])].text}
                        for i, question in enumerate(q.QUESTIONS)],
            "score": total, "level": level, "expires_on": info.expires_on.isoformat(),
            "result_shown": result, "result_sha256": evidence.text_hash(result),
            "channel": ctx.channel}, ctx.now)
        ctx.say(result)
        ctx.outcome = "completed"
        ctx.step("executed", flow=self.name, level=level, score=total)
        ctx.state.end_flow()
