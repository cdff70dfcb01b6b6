"""A three-entry FAQ file for tests that edit one (the real one takes seconds to index)."""

SMALL_FAQ = """\
- id: lost
  question: 银行卡丢了怎么挂失？
  similar: [卡丢了咋办, 借记卡被偷了怎么办]
  answer: 请尽快通过手机银行或客服热线办理挂失。
  category: 银行卡
- id: fee
  question: 信用卡年费多少？
  similar: [年费怎么收, 信用卡要交年费吗]
  answer: 普卡首年免年费，刷卡满 6 次免次年年费。
  category: 信用卡
- id: rate
  question: 房贷利率是多少？
  similar: [买房贷款利息多少]
  answer: 以贷款合同约定的利率为准。
  category: 贷款
"""
