"""Reading a correction inside a flow: "改成3000", "不对，是王芳", "换成王芳", "用尾号5678的卡".

    read(flow, ctx) -> Correction | None

A message corrects the flow when
  - it carries a correction cue (改成/换成/不对/错了/应该是/用…卡 …): the words after the cue
    are read as the answer to each slot already given (as if the bot had just asked for
    it: "改成3000" at the read-back is 3000 yuan, "不对，是王芳" at the ID step is the name);
    a slot the customer names ("金额错了，是2000", "收款人改成王芳") decides between readings;
    before any slot is given, only a value for the open question counts ("改成3000" answering
    "请问还多少？" is 3000 yuan; "不对" alone, or words that do not answer it, are no correction);
  - or, once every slot is given (read-back, code, cooling-off), it states a new value the
    flow recognises without being asked (an amount with a unit, a card tail, an ID number),
    or, at the read-back, a bare value of a slot that reads bare answers (a number for the
    transfer amount).

Each value is read by the slot's own extractor (on a copy of the state without the old
value, asking for that slot) and checked by its validator, so a correction is held to the
same rules as a first answer; a refused value is reported with its reason and the old one
stays. "不对" / "我要改一下" alone, or a cue whose words nothing reads, is `unclear` (the bot
asks which detail to change); a cue naming a slot without a new value ("金额错了") is
`asked` (the bot asks for that slot again). Applying a correction is `steps.correct`.
"""
from __future__ import annotations

import copy
import re
import unicodedata
from contextvars import ContextVar
from dataclasses import dataclass, field

from chatbot.dialogue.context import FlowContext
from chatbot.dialogue.forms import Flow, Slot
from chatbot.nlu.entities import extract_entities
from chatbot.nlu.normalize import normalize
from chatbot.nlu.parser import ParseResult

CUE = re.compile(
    r"改成|改为|改到|改作|改回|换成|换为|换到|变成|更正为|更改为|修改为|应该是|应为|其实是|我说的是|"
    r"不对|错了|(?:哦|噢|喔|呃|额)不(?![对是用要需必办转了想会行过])|(?<![无没])有误|(?<!是)不是|搞错|弄错|说错|写错|输错|打错|改一下|改下|修改|更改|更正|换一下|"
    r"(?:^|(?<=[,.;:!?\s我就请改还那]))(?:用|换)(?=[^,。;]{0,8}(?:卡|尾号))"
)
# What is left of "我想改一下" once cue, particles and fillers are gone: nothing to read.
FILLER = re.compile(r"[\s,.;:!?，。；：！？、~…]+|^(?:是|为|成|要|想|我|帮我|麻烦|请|能|可以)+|"
                    r"(?:一下|下|了|的|吧|啊|呀|呢|哦|嘛)+$")
# What comes before a new value: punctuation, the 了 of "写错了", a linking 是.
LEAD = re.compile(r"^[\s,.;:!?，。；：！？、]*(?:[了啦呀啊哦][\s,.;:!?，。；：！？、]*)?(?:是|为|成|应该是|改成|换成)?\s*")
SETTLED_STEPS = ("confirm", "otp", "cooling_off")  # every slot given; the read-back was shown
CODE_LIKE = re.compile(r"^\d{6}$")  # a code typed after its code was retired is not an amount
WHICH = "_which"  # the bot asked "请问要修改…？": the next answer corrects one of these slots
# A bare number shorter than an account number ("3000"), or an amount with nothing else ("8万",
# "两千块"): the value of a slot that reads bare (the amount), never a card tail, an income or a
# purpose unless the customer was asked for it or names it ("尾号3000", "收入改成8000").
BARE_NUMBER = re.compile(r"^(?:\d{1,11}(?:\.\d+)?|[\d.零〇一二两三四五六七八九十百千万亿kw]*[\d零〇一二两三四五六七八九十百千万亿]"
                         r"[\d.零〇一二两三四五六七八九十百千万亿kw]*)(?:元|块钱?)?$")
NEGATION = "不是"
_restating = ContextVar("restating", default=False)


@dataclass
class Correction:
    values: dict = field(default_factory=dict)  # slot name -> value (extracted, not yet kept)
    refused: dict = field(default_factory=dict)  # slot name -> the validator's reason
    asked: list = field(default_factory=list)  # slots named without a new value: ask again
    unclear: bool = False  # a change was wanted, but of what?
    unread: list = field(default_factory=list)  # slots named whose new value could not be read


def read(flow: Flow, ctx: FlowContext) -> Correction | None:
    """What this message changes in the active flow, or None when it is not a correction."""
    state = ctx.state
    which = state.slots.pop(WHICH, None)
    given = [s for s in flow.slots if s.name in state.slots]
    cue = _last_cue(ctx.text)
    if not given and (cue is None or state.asking is None):
        return None  # nothing to correct yet: an answer to the current question
    candidates = [s for s in flow.slots if s.name in state.slots or s.correctable or s.name == state.asking]
    if isinstance(which, list):  # "请问用哪张储蓄卡付款？" after "付款卡改一下": that slot only
        candidates = [s for s in candidates if s.name in which]
    if cue is None and not which:
        return _stated(flow, ctx, candidates) if state.step in SETTLED_STEPS else None
    texts = [ctx.text] if cue is None else _value_texts(ctx.text, cue)
    value_text = texts[0] if texts else ""
    named = [s for s in candidates if s.words and re.search(s.words, ctx.text)]
    typed = _typed_value(ctx.parse.text, value_text)
    asked = {s.name for s in named} | {state.asking} | set(which if isinstance(which, list) else ())
    found, source = {}, {}
    for slot in named or candidates:
        for text in texts:  # the whole new value first, then its clauses, the last first
            bare_ok = slot.reads_bare or slot.name in asked or not BARE_NUMBER.match(text)
            value = _read_slot(flow, ctx, slot, text, typed if text == value_text else None) if bare_ok else None
            if value is not None:
                found[slot.name], source[slot.name] = value, text
                break
    if not given:  # "改成3000" answering the first question: the words after the cue answer it
        found = {name: value for name, value in found.items() if name == state.asking}
        if not found:
            return None
    if not found and named:
        # The customer named what is wrong: ask for it again, or say the new value was unreadable.
        left = _bare(_strip_words(value_text, named))
        return Correction(asked=[s.name for s in named]) if not left else Correction(unread=[s.name for s in named])
    if not found:
        if cue is not None and not _bare(value_text):  # "不对" / "我要改一下" / "不是王芳"
            listed = _listed(flow, ctx)
            return Correction(asked=listed) if len(listed) == 1 else Correction(unclear=True)
        return None  # the cue belonged to something else ("转错了怎么办"): not ours
    return _checked(flow, ctx, found, source, _reparse(ctx, value_text) if value_text else None)


def restated(flow: Flow, ctx: FlowContext, name: str):
    """A message that corrects itself ("给李娜转2500，哦不对是250", "给李娜转，不对，给王芳"): the
    value slot `name` reads in the words after its last cue, or None (then the slot reads the
    message as usual). Extractors ask this first, so the customer's last word wins."""
    if _restating.get():
        return None
    cue = _last_cue(ctx.text)
    if cue is None:
        return None
    slot = next(s for s in flow.slots if s.name == name)
    token = _restating.set(True)
    try:
        for text in _value_texts(ctx.text, cue):
            value = _read_slot(flow, ctx, slot, text, None)
            if value is not None:
                return value
    finally:
        _restating.reset(token)
    return None


def after_last_cue(ctx: FlowContext, entities: list) -> list:
    """Of this message's entities (in order), those the customer said after their last
    correction ("转250元，不对，2500元" -> 2500), or all of them when none comes after one."""
    cue = _last_cue(ctx.text)
    if cue is None or not entities:
        return entities
    try:
        _, end = normalize(ctx.parse.text).to_original(cue.start(), cue.end())
    except (IndexError, ValueError):
        return entities
    later = [e for e in entities if e.start >= end]
    return later or entities


def _listed(flow: Flow, ctx: FlowContext) -> list[str]:
    """The details a customer would name: given or changeable, not derived from another."""
    names = []
    for slot in flow.slots:
        listed = slot.label and (slot.name in ctx.state.slots or slot.correctable)
        if listed and not any(dep in ctx.state.slots for dep in slot.depends_on):
            names.append(slot.name)
    return names


def ask_which(flow: Flow, ctx: FlowContext) -> str:
    """"请问要修改收款人、付款卡还是金额？" over the details the customer gave or can change."""
    listed = _listed(flow, ctx)
    labels = list(dict.fromkeys(label(flow, name) for name in listed))
    ctx.state.slots[WHICH] = listed or True
    if len(labels) <= 1:
        return f"好的，请直接告诉我新的{labels[0]}。" if labels else "好的，请直接告诉我要修改的内容。"
    return f"请问要修改{'、'.join(labels[:-1])}还是{labels[-1]}？"


def label(flow: Flow, name: str) -> str:
    slot = next((s for s in flow.slots if s.name == name), None)
    return (slot.label if slot and slot.label else name) if slot else name


def reason(error: str) -> str:
    """A validator's error without its request to answer again ("…，请重新输入金额。")."""
    text = re.sub(r"[，,。]?(?:请|麻烦)(?:重新|核对|再|您|使用|提供|说)[^。]*。?$", "", error.strip())
    return text.rstrip("。，, ") or error


# --- reading -------------------------------------------------------------------------------------
def _stated(flow: Flow, ctx: FlowContext, candidates: list[Slot]) -> Correction | None:
    """No cue, every slot given: a new value stated outright (or a bare one, at the read-back)."""
    found, source = {}, {}
    for slot in candidates:
        value = _extract(flow, ctx, slot, ctx.parse, None)
        if value is not None and not flow.same_value(ctx, slot.name, value):
            found[slot.name], source[slot.name] = value, slot.name  # each read from its own words
    if not found and ctx.state.step in ("confirm", "cooling_off") and not CODE_LIKE.match(ctx.text):
        for slot in candidates:
            if slot.reads_bare:
                value = _extract(flow, ctx, slot, _reparse(ctx, slot.phrase.format(ctx.text)), slot.name)
                if value is not None and not flow.same_value(ctx, slot.name, value):
                    found[slot.name], source[slot.name] = value, ctx.text
    return _checked(flow, ctx, found, source, ctx.parse) if found else None


def _read_slot(flow: Flow, ctx: FlowContext, slot: Slot, value_text: str, typed: str | None):
    """The words after a cue read as this slot's answer: as they are, then as the slot phrases it."""
    if not value_text:
        return None
    for text in dict.fromkeys((value_text, slot.phrase.format(value_text))):
        value = _extract(flow, ctx, slot, _reparse(ctx, text, typed if text == value_text else None), slot.name)
        if value is not None:
            return value
    return None


def _extract(flow: Flow, ctx: FlowContext, slot: Slot, parse: ParseResult, asking: str | None):
    """`slot.extract` on a copy of the state without the slot (and what depends on it)."""
    saved_state, saved_parse = ctx.state, ctx.parse
    work = copy.deepcopy(saved_state)
    flow.drop(work.slots, slot.name)
    work.asking = asking
    ctx.state, ctx.parse = work, parse
    try:
        if not (slot.needed(ctx) or slot.correctable):
            return None
        return slot.extract(ctx)
    finally:
        ctx.state, ctx.parse = saved_state, saved_parse


def _checked(flow: Flow, ctx: FlowContext, found: dict, source: dict | None = None,
             parse: ParseResult | None = None) -> Correction:
    """Validate the new values in slot order, each on the state the earlier ones made.

    A slot that depends on a changed one and is needed again ("不对，是王芳，卡号6222…": the new
    payee's account) is read from the same words (`parse`). When one slot accepts some words,
    other slots' refusals of the same words are not reported ("改成3000" is the amount, and
    says nothing about a card)."""
    result = Correction()
    source = dict(source or {})
    saved_state = ctx.state
    work = ctx.state = copy.deepcopy(saved_state)
    try:
        for slot in flow.slots:
            if slot.name not in found and parse is not None and _follows(flow, slot, result.values):
                value = _extract(flow, ctx, slot, parse, None)
                if value is not None:
                    found, source[slot.name] = {**found, slot.name: value}, None
            if slot.name not in found:
                continue
            before = dict(work.slots)
            flow.drop(work.slots, slot.name)
            error = slot.validate(ctx, found[slot.name])
            if error:
                result.refused[slot.name] = error
                work.slots = before  # the old value (and what depends on it) stays
            else:
                result.values[slot.name] = found[slot.name]
                work.slots[slot.name] = slot.keep(ctx, found[slot.name])
    finally:
        ctx.state = saved_state
    accepted = {source.get(name) for name in result.values}
    result.refused = {name: error for name, error in result.refused.items()
                      if source.get(name) is None or source.get(name) not in accepted}
    return result


def _follows(flow: Flow, slot: Slot, changed: dict) -> bool:
    """`slot` depends on a slot just changed (and is not yet given): the new payee's account."""
    return any(dep in changed for dep in slot.depends_on)


def _reparse(ctx: FlowContext, text: str, typed: str | None = None) -> ParseResult:
    """`text` (already normalized) with its own entities; the intent of the message is kept."""
    normalized = normalize(text)
    entities = tuple(extract_entities(normalized, ctx.today))
    intent = ctx.parse.intent
    return ParseResult(typed or text, normalized.text, intent, (intent,), entities, ())


def _last_cue(text: str) -> re.Match | None:
    last = None
    for match in CUE.finditer(text):
        last = match
    return last


def _after(text: str, cue: re.Match) -> str:
    """The new value: after the cue, the last clause ("不是2500，是3000" -> 3000), no linking word."""
    texts = _value_texts(text, cue)
    return texts[0] if texts else ""


def _value_texts(text: str, cue: re.Match) -> list[str]:
    """Where the new value may be, best first: all the words after the cue ("是王芳，卡号6222…"),
    then each clause, the last first ("改成3000，谢谢"); after "不是" the words it denies are
    no new value ("不是2500，是3000" -> 3000; "不是王芳" -> nothing), unless "不是" stands alone
    ("不是，还500" -> 还500)."""
    rest = text[cue.end():]
    if cue.group(0) == NEGATION and not re.match(r"[,，。;；\s]", rest):  # "不是，还500": said alone
        said = re.search(r"(?:^|[,，。;；\s]|[^不])(?:应该|而)?是", rest)
        rest = rest[said.end():] if said else ""
    clauses = [LEAD.sub("", c).strip() for c in re.split(r"[,，。;；]", rest)]
    clauses = [c for c in clauses if c]
    whole = LEAD.sub("", rest).strip(" ,，。;；")
    texts = ([whole] if len(clauses) > 1 else []) + clauses[::-1]
    return list(dict.fromkeys(t for t in texts if t))


def _typed_value(typed: str, value_text: str) -> str | None:
    """The value as typed (keeps a minority name's middle dot, which normalization drops)."""
    typed = unicodedata.normalize("NFKC", typed).strip()
    cue = _last_cue(typed)
    if cue is None:
        return None
    candidate = _after(typed, cue)
    return candidate if candidate and candidate != value_text else None


def _strip_words(text: str, slots: list[Slot]) -> str:
    for slot in slots:
        text = re.sub(slot.words, "", text)
    return text


def _bare(text: str) -> str:
    """What remains once fillers are gone ("" for "我想改一下")."""
    previous = None
    while previous != text:
        previous, text = text, FILLER.sub("", text)
    return text
