"""news.subscribe: subscribe to news categories at a frequency; pause, resume, unsubscribe,
change part of it, and say what one is subscribed to.

A subscription belongs to a customer (pushes go to their bound web and WeChat identities),
so the flow needs a binding (news.latest does not). What the first message asks decides:

- "我订阅了什么" / "我的订阅": the current subscription;
- "暂停推送", "恢复推送": the status (kept: categories and frequency stay);
- "取消订阅" / "退订": cancelled; "取消订阅宏观经济": that category dropped (the last one: cancelled);
- with a subscription in force, a new frequency or categories alone change just that
  ("改成每周", "只订阅理财产品"; "加上行业分析" adds);
- otherwise the form: categories (names, "全部", or numbers 1-5) then frequency (每天 /
  每周三次 / 每周, or 1-3). A later answer corrects an earlier one ("不对，只要理财产品").
"""
from __future__ import annotations

import re

from chatbot.dialogue.context import FlowContext
from chatbot.dialogue.forms import Flow, Slot, flow
from chatbot.news import catalogue, subscriptions
from chatbot.news.subscriptions import FREQUENCY_NAMES

QUERY = re.compile(r"订阅了(?:什么|哪些|啥|哪几)|订了(?:什么|哪些|啥)|我的订阅|订阅(?:情况|状态|设置|内容)|"
                   r"(?:有没有|是否)订阅|推送(?:设置|频率)是")
CANCEL = re.compile(r"取消订阅|退订|不再订阅|不订(?:阅)?了|取消推送|(?:不要|不用|别|不想)(?:再)?(?:给我)?(?:推送|推了|发资讯|收到)|"
                    r"关闭推送|推送关掉|关掉推送|不订阅")
PAUSE = re.compile(r"暂停|先停|停一(?:下|段)|暂时(?:不要|别|不用)")
RESUME = re.compile(r"恢复|重新(?:开始)?推送|继续推送|开启推送|打开推送|重新开启")
ADD = re.compile(r"加上|增加|再订|也订|添加|还要|加订")
THRICE = re.compile(r"(?:每周|一周|每星期|一星期)(?:三|3)次|一三五|周一三五")
DAILY = re.compile(r"每天|每日|天天|一天一次|daily")
WEEKLY = re.compile(r"每周|一周一次|每星期|一星期一次|weekly")
NUMBERS = re.compile(r"[1-9]")

CATEGORY_PROMPT = ("想订阅哪些资讯？可多选：\n1. 宏观经济\n2. 金融政策\n3. 市场动态\n4. 行业分析\n5. 理财产品\n"
                   "回复名称或序号（如“1和5”），或回复“全部”。")
FREQUENCY_PROMPT = "推送频率选哪种？\n1. 每天\n2. 每周三次（周一、三、五）\n3. 每周一次"
NOT_SUBSCRIBED = "您还没有订阅财经资讯。需要的话回复“订阅资讯”。"


def frequency_in(text: str) -> str | None:
    if THRICE.search(text):
        return "thrice_weekly"
    if DAILY.search(text):
        return "daily"
    if WEEKLY.search(text):
        return "weekly"
    return None


def _categories(ctx: FlowContext):
    named = catalogue.categories_in(ctx.text)
    if named:
        return named
    if ctx.state.asking == "categories" and re.fullmatch(r"[\d\s,，、和与及跟+/]+", ctx.text):
        picked = {int(n) for n in NUMBERS.findall(ctx.text)}
        if picked and picked <= set(range(1, 6)):
            return [catalogue.CATEGORIES[n - 1] for n in sorted(picked)]
    return None


def _categories_valid(ctx: FlowContext, value) -> str | None:
    return None if value else "请回复资讯类别的名称或序号 1-5。"


def _frequency(ctx: FlowContext):
    found = frequency_in(ctx.text)
    if found:
        return found
    if ctx.state.asking == "frequency" and re.fullmatch(r"\s*[1-3]\s*", ctx.text):
        return subscriptions.FREQUENCIES[int(ctx.text.strip()) - 1]
    return None


def _end(ctx: FlowContext, text: str, outcome: str = "completed") -> bool:
    ctx.say(text)
    ctx.outcome = outcome
    ctx.state.end_flow(keep_context=False)
    ctx.state.context = {"flow": NewsSubscribeFlow.name, "slots": {}}  # for a bare "恢复" next (is_follow_up)
    return False


@flow
class NewsSubscribeFlow(Flow):
    name = "news.subscribe"
    title = "订阅财经资讯"
    requires_binding = True
    slots = (
        Slot("categories", CATEGORY_PROMPT, _categories, _categories_valid, label="资讯类别",
             words=r"类别|类型|资讯|订阅"),
        Slot("frequency", FREQUENCY_PROMPT, _frequency, label="推送频率", words=r"频率|推送|每天|每周"),
    )

    def on_start(self, ctx: FlowContext) -> bool:
        text, cid = ctx.text, ctx.customer_id
        sub = subscriptions.current(ctx.db, cid)
        cats, freq = catalogue.categories_in(text), frequency_in(text)
        if QUERY.search(text):
            ctx.step("news_subscription_shown")
            if sub is None or sub.status == "cancelled":
                return _end(ctx, NOT_SUBSCRIBED, "answered")
            tip = "回复“恢复推送”继续接收。" if sub.status == "paused" else "如需修改，直接告诉我，如“改成每周”。"
            return _end(ctx, f"您的资讯订阅：\n{sub.describe()}\n{tip}", "answered")
        if CANCEL.search(text):
            return self._cancel(ctx, sub, cats)
        if PAUSE.search(text) or RESUME.search(text):
            return self._status(ctx, sub, "paused" if PAUSE.search(text) else "active")
        if sub is not None and sub.status != "cancelled" and (cats or freq):
            if ADD.search(text) and cats:
                cats = sub.categories + [c for c in cats if c not in sub.categories]
            if not (cats and freq):  # a part of a subscription in force: change just that
                changed = subscriptions.change(ctx.db, cid, ctx.now, categories=cats or None, frequency=freq)
                ctx.step("news_subscription_changed", categories=changed.categories, frequency=changed.frequency)
                paused = "（推送目前已暂停，回复“恢复推送”继续）" if changed.status == "paused" else ""
                return _end(ctx, f"已为您修改订阅{paused}：\n{changed.describe()}")
            ctx.state.slots.update(categories=cats, frequency=freq)
        elif sub is not None and sub.status == "active":
            ctx.step("news_subscription_shown")
            return _end(ctx, f"您已订阅财经资讯：\n{sub.describe()}\n如需修改，直接告诉我，如“改成每周”“只订阅理财产品”；"
                             f"回复“暂停推送”或“取消订阅”也可以。", "answered")
        return True

    def _cancel(self, ctx: FlowContext, sub, cats: list[str]) -> bool:
        if sub is None or sub.status == "cancelled":
            return _end(ctx, NOT_SUBSCRIBED, "answered")
        left = [c for c in sub.categories if c not in cats] if cats and len(cats) < len(catalogue.CATEGORIES) else []
        if left:
            changed = subscriptions.change(ctx.db, ctx.customer_id, ctx.now, categories=left)
            ctx.step("news_subscription_changed", categories=changed.categories)
            return _end(ctx, f"已不再推送{'、'.join(cats)}资讯。当前订阅：\n{changed.describe()}")
        subscriptions.change(ctx.db, ctx.customer_id, ctx.now, status="cancelled")
        ctx.step("news_unsubscribed")
        return _end(ctx, "已为您取消财经资讯订阅，之后不再推送。想再订阅时回复“订阅资讯”即可。")

    def _status(self, ctx: FlowContext, sub, status: str) -> bool:
        if sub is None or sub.status == "cancelled":
            return _end(ctx, NOT_SUBSCRIBED, "answered")
        if sub.status == status:
            said = "推送已经是暂停状态。回复“恢复推送”可继续。" if status == "paused" else "推送正常进行中，无需恢复。"
            return _end(ctx, said, "answered")
        changed = subscriptions.change(ctx.db, ctx.customer_id, ctx.now, status=status)
        ctx.step("news_subscription_status", status=status)
        if status == "paused":
            return _end(ctx, "已暂停资讯推送，订阅设置为您保留。回复“恢复推送”可继续接收。")
        return _end(ctx, f"已恢复资讯推送：\n{changed.describe()}")

    def execute(self, ctx: FlowContext) -> None:
        cats, freq = ctx.state.slots["categories"], ctx.state.slots["frequency"]
        sub = subscriptions.subscribe(ctx.db, ctx.customer_id, cats, freq, ctx.now)
        ctx.step("news_subscribed", categories=sub.categories, frequency=sub.frequency)
        ctx.say(f"已为您订阅{'、'.join(sub.categories)}资讯，{FREQUENCY_NAMES[freq]}推送。\n"
                f"资讯会发到这里（已关注公众号的也会在微信收到）。回复“暂停推送”可暂停，“取消订阅”可退订。")
        ctx.outcome = "completed"
        ctx.state.end_flow(keep_context=False)

    def cancelled(self, ctx: FlowContext) -> str:
        return "好的，先不订阅了。想看资讯随时回复“最新资讯”。"


# "恢复" right after the subscription was paused resumes the pushes (alone, the model hears
# the lifting of a card loss report in it).
BARE_RESUME = re.compile(r"^(?:恢复|恢复一下|恢复吧|那恢复吧)[。.!！]*$")


def is_follow_up(ctx: FlowContext) -> bool:
    return ctx.state.context.get("flow") == NewsSubscribeFlow.name and bool(BARE_RESUME.match(ctx.text))
