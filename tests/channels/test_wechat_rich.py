"""Rich replies in WeChat (docs/rich_replies.md), plaintext and safe mode: WeChat text has no
buttons, chips, cards or tables, so each arrives as its plain text (which says what to reply:
“确认”, a question to ask, the rows one per line), and download links as `<a href>` anchors
with their labels, never a bare 200-character URL."""
import re

import pytest
from sqlalchemy import select

from chatbot.storage.models import ChannelBinding, Customer


def _bind(database, openid):
    with database.write() as db:
        customer = db.scalars(select(Customer).where(Customer.name == "张伟")).one()
        db.add(ChannelBinding(channel="wechat", user_id=openid, customer_id=customer.id, bound_at=customer.created_at))


@pytest.mark.parametrize("safe", [False, True], ids=["plaintext", "safe"])
def test_a_read_back_and_download_links_in_both_message_modes(wx, database, safe):
    openid = f"o-rich-{safe}"
    _bind(database, openid)
    said = lambda text, msg_id: wx.reply(wx.post(wx.text(openid, text, msg_id), safe=safe), safe=safe)["Content"]

    read_back = said("给李娜转500", 91001)
    assert "500.00 元" in read_back and "回复“确认”" in read_back and "<a " not in read_back
    said("取消", 91002)
    said("最近的交易明细", 91003)
    links = said("导出", 91004)
    anchors = re.findall(r'<a href="([^"]+)">([^<]+)</a>', links)
    assert [label for _, label in anchors] == ["Excel", "CSV"]
    assert all("/v1/exports/" in url for url, _ in anchors)
    assert "明细下载链接" in links and links.count("http") == 2  # each URL only inside its anchor


@pytest.mark.parametrize("safe", [False, True], ids=["plaintext", "safe"])
def test_chips_cards_and_tables_arrive_as_their_plain_text(wx, database, safe):
    openid = f"o-rich-items-{safe}"
    _bind(database, openid)
    said = lambda text, msg_id: wx.reply(wx.post(wx.text(openid, text, msg_id), safe=safe), safe=safe)["Content"]

    greeting = said("你好", 92001)  # quick replies on the page: the greeting says what it can do
    assert greeting.startswith("您好") and "转人工" not in greeting.splitlines()[-1:] or "人工" in greeting
    balance = said("储蓄卡余额", 92002)  # a card on the page
    assert "储蓄卡 **** 1234：可用余额 52,380.50 元" in balance
    table = said("金卡和白金卡有什么区别", 92003)  # a table on the page: one line per row
    assert table.splitlines()[0].startswith("金卡和白金卡的对比") and "年费：金卡 200 元；白金卡 600 元" in table
    for content in (greeting, balance, table):
        assert "{" not in content and "<a " not in content  # no drawing data, no anchors where there is no link
