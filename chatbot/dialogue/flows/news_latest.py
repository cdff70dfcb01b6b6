"""news.latest: the latest published news (5), of a category when one is named ("最近有什么金融
政策", "市场动态"), or about words in titles ("降准的新闻"); a short numbered list with dates.
Right after a list, "看第2条", "2" or words of one listed title ("存款准备金那条") show that item
in full (`is_follow_up`, called by the policy when no flow is active). News is public: no
binding needed. Listing and reading are logged as turn steps (`news_listed`, `news_read`) that
the push reads as the customer's interests (chatbot/news/push.py)."""
from __future__ import annotations

import re

from chatbot.dialogue.context import FlowContext
from chatbot.dialogue.forms import Flow, flow
from chatbot.news import catalogue

SHOWN = 5
CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
ORDINAL = re.compile(r"^(?:我要|我想|帮我)?(?:看|看看|打开|读|查看|展开|点开|详细说说|说说|讲讲)?(?:一下)?(?:第\s*)?"
                     r"([1-9]|10|[一二两三四五六七八九十])\s*(?:条|个|篇)?(?:的)?(?:详情|全文|内容|新闻|资讯|消息)?"
                     r"(?:吧|呢|呀)?[。.!！]?$")
# Words around a request that say nothing about which news (left out before a title search).
FILLER = re.compile(r"最近|最新|近期|今天|今日|这几天|有什么|有啥|有没有|哪些|什么|关于|相关|的|了|吗|呢|吧|啊|"
                    r"新闻|资讯|消息|快讯|财经|金融|动态|看看|看|说说|讲讲|详细|详情|全文|那条|这条|那篇|一下|给我|我想|我要|"
                    r"帮我|查|一条|条|[，,。.!！?？\s]")


def _listed(ctx: FlowContext) -> list[int]:
    context = ctx.state.context
    return list(context.get("slots", {}).get("ids") or []) if context.get("flow") == NewsLatestFlow.name else []


def _number(text: str) -> int | None:
    match = ORDINAL.match(text)
    if not match:
        return None
    token = match.group(1)
    return int(token) if token.isdigit() else CN_DIGITS[token]


def _words(text: str) -> str:
    rest = text.lower()
    for name in catalogue.CATEGORIES:
        rest = rest.replace(name, "")
    return FILLER.sub("", rest)


def _by_title(ctx: FlowContext, ids: list[int]) -> int | None:
    """The one listed item whose title or summary holds the message's words, if exactly one."""
    words = _words(ctx.text)
    if len(words) < 2:
        return None
    pieces = [words[i:i + 2] for i in range(0, len(words) - 1, 2)] if len(words) > 3 else [words]
    hits = []
    for news_id in ids:
        item = catalogue.get(ctx.db, news_id, ctx.now)
        said = f"{item.title} {item.summary}".lower() if item is not None else ""
        if said and (words in said or all(piece in said for piece in pieces)):
            hits.append(news_id)
    return hits[0] if len(hits) == 1 else None


def is_follow_up(ctx: FlowContext) -> bool:
    """A pick from the list just shown: its number, or words of one of its titles."""
    ids = _listed(ctx)
    return bool(ids) and (_number(ctx.text) is not None or _by_title(ctx, ids) is not None)


def follow_up(ctx: FlowContext) -> None:
    ids = _listed(ctx)
    number = _number(ctx.text)
    if number is not None:
        if not 1 <= number <= len(ids):
            ctx.say(f"刚才列出了 {len(ids)} 条资讯，请回复 1 到 {len(ids)} 的序号。")
            ctx.outcome = "answered"
            return
        news_id = ids[number - 1]
    else:
        news_id = _by_title(ctx, ids)
    show(ctx, news_id)


def show(ctx: FlowContext, news_id: int) -> None:
    item = catalogue.get(ctx.db, news_id, ctx.now)
    ctx.outcome = "completed"
    if item is None:
        ctx.say("这条资讯已下线。回复“最新资讯”看看其他的吧。")
        ctx.step("news_gone", news_id=news_id)
        return
    ctx.say(f"【{item.category}】{item.title}\n{item.day}\n{item.body}\n\n回复其他序号继续阅读。")
    ctx.step("news_read", news_id=item.id, category=item.category)


@flow
class NewsLatestFlow(Flow):
    name = "news.latest"
    title = "查看财经资讯"
    requires_binding = False

    def execute(self, ctx: FlowContext) -> None:
        ids = _listed(ctx)
        if ids and is_follow_up(ctx):  # "看第2条" understood as news.latest
            ctx.state.end_flow(keep_context=False)
            follow_up(ctx)
            return
        categories = catalogue.categories_in(ctx.text)
        if len(categories) == len(catalogue.CATEGORIES):
            categories = []  # "全部资讯": no filter
        words = _words(ctx.text)
        items = catalogue.latest(ctx.db, ctx.now, categories, SHOWN, words) if len(words) >= 2 else []
        lead = ""
        if not items:
            if len(words) >= 2:
                lead = f"没有找到与“{words}”相关的资讯。"
            items = catalogue.latest(ctx.db, ctx.now, categories, SHOWN)
        what = "、".join(categories) if categories else "财经"
        if not items:
            ctx.say(lead + f"暂时没有{what}资讯。")
            ctx.outcome = "answered"
            ctx.state.end_flow(keep_context=False)
            return
        lines = [f"{lead}最新{what}资讯：" if not lead else f"{lead}最新{what}资讯如下："]
        lines += [f"{n}. {'【重要】' if item.important else ''}{item.title}（{item.day}）"
                  if categories else f"{n}. 【{item.category}】{item.title}（{item.day}）"
                  for n, item in enumerate(items, 1)]
        lines.append("回复序号查看全文，如“2”。")
        ctx.say("\n".join(lines))
        ctx.step("news_listed", categories=categories, count=len(items))
        ctx.outcome = "completed"
        ctx.state.slots = {"ids": [item.id for item in items], "categories": categories}
        ctx.state.end_flow(keep_context=True)
