"""What the customer reads around a handoff (short lines for a phone screen)."""
from __future__ import annotations

import re

APOLOGY = {
    "complaint": "非常抱歉给您带来不便。已为您优先转接人工客服，",
    "flow_failed": "抱歉这一步没能办成。已为您转接人工客服，",
    "fraud_risk": "为了您的资金安全，已为您转接人工客服核实，",
    "not_understood": "抱歉我没能帮上忙。已为您转接人工客服，",
}
DEFAULT_OPENING = "好的，已为您转接人工客服，"
CANCEL_HINT = "等待期间回复“取消”可退出排队。"
CANCEL_WORDS = {"取消", "取消排队", "不等了", "算了", "算了不等了", "退出排队", "不用了", "退出"}
RATING_WORDS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_RATING = re.compile(r"^\s*([1-5一二两三四五])\s*(分|星|颗星)?\s*[。.!！]?\s*$")


def queued(reason: str, position: int, wait_minutes: int, announced: bool = False) -> str:
    """Place and wait; `announced`: the policy already said it is fetching a person."""
    opening = "" if announced else APOLOGY.get(reason, DEFAULT_OPENING)
    place = f"当前排队第 {position} 位" if opening else f"您当前排队第 {position} 位"
    return f"{opening}{place}，预计等待 {wait_minutes} 分钟。\n{CANCEL_HINT}"


def still_queued(position: int, wait_minutes: int) -> str:
    return f"您的消息已收到，客服接入后会第一时间查看。当前排队第 {position} 位，预计等待 {wait_minutes} 分钟。"


def cancelled() -> str:
    return "好的，已为您取消排队。还有什么可以帮您？"


def accepted(agent_name: str) -> str:
    return f"客服{agent_name}已接入，正在为您服务。"


def transferred(agent_name: str) -> str:
    return f"已为您转接客服{agent_name}，请稍候。"


def released(resuming_flow: bool) -> str:
    if resuming_flow:
        return "人工客服已将您转回智能助手，您可以从刚才的步骤继续办理。"
    return "人工客服已将您转回智能助手，还有什么可以帮您？"


def released_after_edit(read_back: str) -> str:
    """Back to the bot after the agent changed the details: read them back, confirm again."""
    return f"人工客服已将您转回智能助手。办理信息已由客服更新，请重新核对：\n{read_back}"


def closed(agent_name: str) -> str:
    return (f"本次人工服务已结束，感谢您的耐心。\n请为客服{agent_name}的服务打分："
            "回复 1–5 的数字（5 分最满意）。")


def thanks_for_rating(rating: int) -> str:
    return f"感谢您的评价（{rating} 分）！还有什么可以帮您？"


def is_cancel(text: str, intent: str | None) -> bool:
    """A wish to leave the queue: the cancel intent or one of the plain words."""
    return intent == "cancel" or text.strip().rstrip("。.!！") in CANCEL_WORDS


def parse_rating(text: str) -> int | None:
    """1–5 from '5', '5分', '五星'; None for anything else."""
    match = _RATING.match(text)
    if match is None:
        return None
    digit = match.group(1)
    return int(digit) if digit.isdigit() else RATING_WORDS[digit]
