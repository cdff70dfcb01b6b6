"""Rich replies in WeChat (docs/rich_replies.md), plaintext and safe mode: WeChat text has no
buttons, so a read-back arrives as its plain text (which says to reply 确认), and download
links as `<a href>` anchors with their labels, never a bare 200-character URL."""
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
