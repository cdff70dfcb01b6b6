from chatbot.security.masking import mask_id_number, mask_phone, mask_text, mask_value


def test_formats_of_design():
    assert mask_id_number("110105199003071239") == "1101**********1239"
    assert mask_phone("13800138000") == "138****8000"
    assert mask_text("卡号6222021000191234") == "卡号**** 1234"


def test_free_text_with_several_numbers():
    text = "我叫张伟，身份证110105199003071239，手机13800138000，卡6222 0210 0019 1234"
    masked = mask_text(text)
    assert "110105199003071239" not in masked and "13800138000" not in masked
    assert "1101**********1239" in masked and "138****8000" in masked and "**** 1234" in masked


def test_id_with_x_and_phone_with_country_code():
    assert mask_text("44030519951120331X") == "4403**********331X"
    assert mask_text("+86 138-0013-8000") == "138****8000"


def test_short_numbers_are_left_alone():
    for text in ("尾号1234", "转账2500元", "验证码482913", "流水号 T20261124-000123"):
        assert mask_text(text) == text


def test_nested_values():
    assert mask_value({"a": ["13800138000", 5]}) == {"a": ["138****8000", 5]}
