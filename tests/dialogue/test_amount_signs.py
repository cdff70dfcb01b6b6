"""A sign or an exponent in a sum is never dropped: "-500" or "1e30" is not read back as
500 or 1 in a money flow (the read-back must show only what the customer typed)."""
import pytest


@pytest.mark.parametrize("text", ["给李娜转-500", "给李娜转负500元", "给李娜转5e2", "给李娜转1e30"])
def test_a_transfer_never_reads_back_a_sum_not_typed(chat, text):
    c = chat()
    c.bind()
    reply = c.say(text)
    assert "500.00" not in reply and "1.00 元" not in reply and "请核对" not in reply, reply
    assert c.flow == "transfer.create"  # the amount is asked for instead
    assert "2,500.00" in c.say("2500")


def test_a_what_if_with_a_negative_sum_computes_nothing(chat):
    c = chat()
    reply = c.say("借-5万分12期每月还多少")
    assert "50,000.00" not in reply and "等额本息" not in reply, reply
