"""Fixed wording: small talk, fallbacks, and business the chat cannot do yet.

Kept short for a phone screen, polite (您), in Simplified Chinese.
"""
from __future__ import annotations

CAPABILITIES = ("我可以帮您查余额和明细、转账、挂失，办理信用卡账单、还款、分期、调额度，申请信用卡和贷款，"
                "风险测评和理财，查看和订阅财经资讯，也能解答业务问题；需要时可为您转接人工客服。")
HUMAN_HINT = "回复“人工”可转接人工客服。"
NOT_UNDERSTOOD = "抱歉，我没太明白您的意思，您可以换个说法试试，或" + HUMAN_HINT
TITLES = {
    "account.balance": "查询余额", "account.transactions": "查询交易明细", "account.report_loss": "挂失",
    "account.cancel_loss": "解除挂失", "account.bind": "绑定账户", "transfer.create": "转账",
    "card.apply": "申请信用卡", "card.application_status": "查询信用卡申请进度", "card.activate": "激活信用卡",
    "card.bill": "查询信用卡账单", "card.repay": "还信用卡", "card.installment": "办理分期",
    "card.limit": "查询或调整信用卡额度", "loan.apply": "申请贷款", "loan.status": "查询贷款进度",
    "loan.repayment_plan": "查询还款计划", "loan.my_plan": "查询还款计划", "wealth.products": "了解理财产品", "wealth.risk_assessment": "风险测评",
    "wealth.buy": "购买理财", "wealth.holdings": "查询理财持仓", "news.subscribe": "订阅财经资讯",
    "news.latest": "查看财经资讯",
}
BUSINESS_INTENTS = frozenset(TITLES)
SMALL_TALK = {
    "greet": "您好！我是示例银行智能客服。" + CAPABILITIES,
    "thanks": "不客气，很高兴为您服务。还有其他需要吗？",
    "goodbye": "感谢您的咨询，祝您生活愉快，再见！",
    "affirm": "好的。请问还有什么可以帮您？",
    "deny": "好的。请问还有什么可以帮您？",
    "cancel": "好的，当前没有正在办理的业务。还有什么可以帮您？",
    "out_of_scope": "抱歉，这个问题我回答不了。" + CAPABILITIES,
    "faq": "抱歉，这个问题我暂时回答不了。" + HUMAN_HINT,
}


# Offers and stickers (policy.py, offers.py, stickers.py).
LOST_CARD_OFFER = "卡片丢失请尽快挂失。需要我现在为您挂失吗？"
GO_ON = "好的，请问需要办理什么业务？"
STICKER = "在的～请问有什么可以帮您？"
ANYTHING_ELSE = "请问还有其他需要吗？"
TELL_ME_WHAT = "好的，请问您想了解或办理什么？可以直接说，比如“查余额”“转账”“挂失”。"
STICKER_AFTER_MISS = "在的～您可以直接告诉我想办的业务，比如“查余额”“挂失”，或回复“人工”联系人工客服。"
PICK_A_NUMBER = "请回复序号选择您想问的问题，或直接告诉我您的问题。"
CONFIRM_IN_WORDS = "请回复“确认”二字继续办理，或直接告诉我要修改的内容；不办了请回复“取消”。"
CODE_IN_WORDS = "请回复短信中的 6 位验证码；没收到可回复“重新发送”。"
NO_CODE_AWAITED = "当前没有等待验证码的业务，已办理完成的无需再输入。如需办理其他业务，请直接告诉我。"
COOLING_OFF_IN_WORDS = "本笔转账处于冷静期，冷静期结束后请回复“继续转账”，或回复“取消”。"


def offer_to_do(intent: str) -> str:
    """After a how-to answer: the offer to do that business now ("好的" starts it)."""
    return f"如需我直接帮您{intent_title(intent)}，请告诉我。"


def declined(intent: str | None) -> str:
    """The answer to "不用了" after the bot offered to do `intent`."""
    if intent == "account.report_loss":
        return "好的。如卡片确实丢失，建议尽快挂失，以免资金损失。"
    return "好的。还有什么可以帮您？"


def brief_name_question(resume_intent: str | None) -> str:
    """The binding's name question asked again: no preamble, what the binding is for."""
    if resume_intent:
        return f"请告诉我您的姓名，验证身份后为您{intent_title(resume_intent)}。"
    return "请告诉我您的姓名，以便验证身份。"


def intent_title(intent: str) -> str:
    return TITLES.get(intent, "该业务")


def aside(intent: str) -> str:
    """The answer for an intent that starts no flow."""
    if intent in SMALL_TALK:
        return SMALL_TALK[intent]
    return (f"{intent_title(intent)}暂不支持在对话中办理，您可以通过示例银行手机银行、网点或客服热线 955888 办理。"
            + HUMAN_HINT)
