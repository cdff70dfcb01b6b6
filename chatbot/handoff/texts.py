"""What the customer reads around a handoff (short lines for a phone screen)."""
from __future__ import annotations

import re
from datetime import datetime

from chatbot.clock import BANK_TZ

# What is true while the customer waits: they are queued ("排队等候"); "已接入" comes only
# when an agent accepts (`accepted`).
APOLOGY = {
    "complaint": "非常抱歉给您带来不便。已为您优先排队等候人工客服，",
    "flow_failed": "抱歉这一步没能办成。已为您排队等候人工客服，",
    "fraud_risk": "为了您的资金安全，已为您优先排队等候人工客服核实，",
    "not_understood": "抱歉我没能帮上忙。已为您排队等候人工客服，",
    "call_back": "在线客服暂不能预约回电。已为您排队等候在线人工客服（急事可拨热线 955888），",
}
DEFAULT_OPENING = "好的，已为您排队等候人工客服，"
SORRY = {
    "complaint": "非常抱歉给您带来不便。",
    "flow_failed": "抱歉这一步没能办成。",
    "fraud_risk": "为了您的资金安全，这笔业务需要人工客服核实。",
    "not_understood": "抱歉我没能帮上忙。",
    "call_back": "在线客服无法预约回电，急事请拨打 24 小时客服热线 955888。",
}
CANCEL_HINT = "等待期间回复“取消”可退出排队。"
NOBODY_ONLINE = "目前暂无人工客服在线，暂时无法预估等待时间，客服上线后将按顺序为您服务。"
CANCEL_WORDS = {"取消", "取消排队", "不等了", "算了", "算了不等了", "退出排队", "不用了", "退出", "不留言了", "不留言"}
RATING_WORDS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_RATING = re.compile(r"^\s*([1-5一二两三四五])\s*(分|星|颗星)?\s*[。.!！]?\s*$")


def _wait(wait_minutes: int | None) -> str:
    return f"，预计等待约 {wait_minutes} 分钟。" if wait_minutes else f"。{NOBODY_ONLINE}"


def queued(reason: str, position: int, wait_minutes: int | None, announced: bool = False) -> str:
    """Place and wait (or that nobody is online); `announced`: the policy already said a person is coming."""
    opening = "" if announced else APOLOGY.get(reason, DEFAULT_OPENING)
    place = f"当前第 {position} 位" if opening else f"您当前排队第 {position} 位"
    return f"{opening}{place}{_wait(wait_minutes)}\n{CANCEL_HINT}"


URGENT_LOSS_WHILE_QUEUED = ("卡片丢失请尽快挂失：回复“取消”退出排队，我可以马上为您挂失；"
                            "也可拨打客服热线 955888。")


def still_queued(position: int, wait_minutes: int | None, lost_card: bool = False) -> str:
    """The reply to a message while waiting; a lost card cannot wait for the queue."""
    text = f"您的消息已收到，客服接入后会第一时间查看。当前排队第 {position} 位{_wait(wait_minutes)}"
    return f"{URGENT_LOSS_WHILE_QUEUED}\n{text}" if lost_card else text


def when(at: datetime, now: datetime) -> str:
    """`今天 09:00` / `明天 09:00` / `11月27日 09:00` in bank time."""
    local, today = at.astimezone(BANK_TZ), now.astimezone(BANK_TZ).date()
    days = (local.date() - today).days
    day = {0: "今天", 1: "明天"}.get(days, f"{local.month}月{local.day}日")
    return f"{day} {local:%H:%M}"


def after_hours(reason: str, hours: str, reply_from: datetime, now: datetime, announced: bool = False) -> str:
    """Outside service hours: say so, and take a message instead of a wait."""
    sorry = "" if announced else SORRY.get(reason, "")
    return (f"{sorry}现在不在人工客服服务时间（每天 {hours}）。"
            f"请直接发送一条留言说明您的问题，客服将在{when(reply_from, now)} 上班后按顺序回复您。\n"
            "回复“取消”可不留言。")


def message_taken(reply_from: datetime, now: datetime) -> str:
    return (f"已收到您的留言，客服将在{when(reply_from, now)} 上班后按顺序回复您，回复会显示在这里。"
            "其间您仍可以继续向我咨询。")


def message_again(reply_from: datetime, now: datetime) -> str:
    """A second request for a person while the message still waits, still outside hours."""
    return (f"您的留言已收到，客服将在{when(reply_from, now)} 上班后回复您。"
            "如需补充，请直接发送，我会一并转给客服；回复“取消”可不补充。")


def message_cancelled() -> str:
    return "好的，不留言了。还有什么可以帮您？"


def cancelled() -> str:
    return "好的，已为您取消排队。还有什么可以帮您？"


def expired(minutes: int) -> str:
    """A live wait closed after CHATBOT_HANDOFF_QUEUE_MINUTES without a free agent."""
    return (f"抱歉，您已等候 {minutes} 分钟，目前仍没有空闲的人工客服，本次排队已结束。"
            "急事请拨打 24 小时客服热线 955888；您也可以直接把问题写下来发给我，我先为您解答，"
            "或稍后发送“转人工”重新排队。")


def accepted(agent_name: str, message: bool = False) -> str:
    if message:
        return f"客服{agent_name}已接入，正在查看您的留言。"
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
