"""news.latest through POST /v1/chat: lists, categories, reading one in full, unpublished items."""
from datetime import timedelta

from sqlalchemy import select

from chatbot.storage.models import NewsItem


def _titles(database, **where):
    with database.read() as db:
        query = select(NewsItem).where(NewsItem.unpublished_at.is_(None))
        for key, value in where.items():
            query = query.where(getattr(NewsItem, key) == value)
        return [i.title for i in db.scalars(query.order_by(NewsItem.published_at.desc(), NewsItem.id.desc()))]


def test_latest_five_without_binding_and_read_by_number(chat, database):
    c = chat()
    reply = c.say("最新资讯")
    newest = _titles(database)
    assert "最新财经资讯" in reply and c.flow is None
    for n, title in enumerate(newest[:5], 1):
        assert f"{n}. 【" in reply and title in reply
    assert newest[5] not in reply and "回复序号查看全文" in reply
    second = c.say("2")
    assert newest[1] in second
    with database.read() as db:
        body = db.scalar(select(NewsItem.body).where(NewsItem.title == newest[1]))
    assert body in second
    assert newest[3] in c.say("看第4条")


def test_by_category_with_dates(chat, database):
    c = chat()
    reply = c.say("最近有什么金融政策")
    policy = _titles(database, category="金融政策")
    assert "最新金融政策资讯" in reply
    assert all(title in reply for title in policy[:5])
    assert not any(title in reply for title in _titles(database, category="市场动态"))
    assert "11月24日" in reply or "11月23日" in reply  # dated
    reply = c.say("市场动态")
    assert all(title in reply for title in _titles(database, category="市场动态")[:5])


def test_pick_by_title_words_and_out_of_range(chat, database):
    c = chat()
    c.say("最新资讯")
    assert "刚才列出了 5 条资讯" in c.say("第9条")
    reply = c.say("存款准备金那条")
    assert "下调存款准备金率" in reply and "释放长期流动性" in reply


def test_search_words_in_titles(chat):
    c = chat()
    reply = c.say("降准的新闻")
    assert "央行宣布下调存款准备金率" in reply.splitlines()[1]
    reply = c.say("1")
    assert "本次降准预计向市场释放" in reply or "释放长期流动性" in reply


def test_unpublished_items_never_shown(chat, database, clock):
    with database.write() as db:
        newest = db.scalars(select(NewsItem).order_by(NewsItem.published_at.desc()).limit(1)).one()
        title = newest.title
    c = chat()
    c.say("最新资讯")  # listed while published
    with database.write() as db:
        db.get(NewsItem, newest.id).unpublished_at = clock.now()
    assert "已下线" in c.say("1")
    reply = c.say("最新资讯")
    assert title not in reply
    with database.write() as db:  # not yet published either
        db.add(NewsItem(title="示例：明天才发布的资讯", summary="s", body="body", category="宏观经济",
                        important=False, published_at=clock.now() + timedelta(hours=2), created_by="test"))
    reply = c.say("宏观经济资讯")
    assert "最新宏观经济资讯" in reply and "明天才发布" not in reply
