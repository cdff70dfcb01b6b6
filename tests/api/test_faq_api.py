"""FAQ search and admin maintenance that takes effect without a restart."""
import shutil

import pytest

from chatbot.settings import DATA_DIR
from knowledge.faq.store import load_faq
from tests.faq_samples import SMALL_FAQ


def _token(client, user="admin", password="admin-sandbox"):
    response = client.post("/v1/auth/login", json={"username": user, "password": password})
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_search_shape(client):
    body = client.post("/v1/faq/search", json={"text": "ATM吞卡了怎么办", "top_k": 3}).json()
    assert len(body["results"]) == 3
    first = body["results"][0]
    assert set(first) == {"id", "question", "answer", "score"} and "吞卡" in first["question"]
    scores = [r["score"] for r in body["results"]]
    assert scores == sorted(scores, reverse=True) and 0 <= scores[-1] <= scores[0] <= 1


@pytest.mark.parametrize(("payload", "code"), [
    ({"text": ""}, "empty_text"), ({"text": "问" * 501}, "text_too_long"),
    ({"text": "年费", "top_k": 0}, "validation_error"), ({}, "validation_error"),
])
def test_search_bad_input(client, payload, code):
    response = client.post("/v1/faq/search", json=payload)
    assert response.status_code == 422 and response.json()["error"]["code"] == code


@pytest.fixture
def faq_copy(tmp_path, client, knowledge_desk):
    """Edits go to a small FAQ file (every edit re-indexes the whole file: seconds for the real
    one), which the desk answers from meanwhile; the shared index is restored afterwards."""
    path = tmp_path / "faq.yaml"
    path.write_text(SMALL_FAQ, encoding="utf-8")
    original, stamp = knowledge_desk.retriever, knowledge_desk._stamp
    knowledge_desk.install(original.with_entries(load_faq(path)))
    client.app.state.faq_editor.path = path
    yield path
    knowledge_desk.install(original, stamp)


def test_admin_crud_is_live_and_saved(client, faq_copy):
    headers = _token(client)
    entry = {"id": "test-001", "question": "示例银行的吉祥物叫什么名字？",
             "similar": ["你们的吉祥物是谁", "银行吉祥物叫啥"], "answer": "示例银行的吉祥物是熊猫“小示”。",
             "category": "其他"}
    app_client = client
    created = app_client.post("/v1/admin/faq", json=entry, headers=headers)
    assert created.status_code == 201, created.text
    hits = app_client.post("/v1/faq/search", json={"text": "你们银行吉祥物是啥"}).json()["results"]
    assert hits[0]["id"] == "test-001"
    assert "test-001" in faq_copy.read_text(encoding="utf-8")
    assert app_client.post("/v1/admin/faq", json=entry, headers=headers).status_code == 409
    updated = app_client.put("/v1/admin/faq/test-001", json={**entry, "answer": "是熊猫。"}, headers=headers)
    assert updated.json()["answer"] == "是熊猫。"
    assert app_client.delete("/v1/admin/faq/test-001", headers=headers).status_code == 204
    hits = app_client.post("/v1/faq/search", json={"text": "你们银行吉祥物是啥"}).json()["results"]
    assert all(h["id"] != "test-001" for h in hits)
    assert app_client.delete("/v1/admin/faq/test-001", headers=headers).status_code == 404


def test_admin_faq_needs_the_admin_role(client):
    assert client.get("/v1/admin/faq").status_code == 401
    agent = _token(client, "agent1", "agent1-sandbox")
    response = client.post("/v1/admin/faq", json={"id": "x", "question": "q", "answer": "a", "category": "c"},
                           headers=agent)
    assert response.status_code == 403 and response.json()["error"]["code"]


def test_a_learned_entry_with_many_phrasings_can_be_saved(client, faq_copy):
    """Analysts' labels add up to MAX_SIMILAR phrasings to an entry; the admin API takes as many."""
    from knowledge.faq.store import MAX_PHRASING_LENGTH, MAX_SIMILAR

    headers = _token(client)
    entry = {"question": "银行卡丢了怎么挂失？", "answer": "请尽快通过手机银行或客服热线办理挂失。", "category": "银行卡",
             "similar": [f"卡丢了第{n}种说法" for n in range(MAX_SIMILAR)]}
    entry_id = client.get("/v1/admin/faq", headers=headers).json()["entries"][0]["id"]
    saved = client.put(f"/v1/admin/faq/{entry_id}", json=entry, headers=headers)
    assert saved.status_code == 200, saved.text
    assert len(saved.json()["similar"]) == MAX_SIMILAR
    for refused in ({**entry, "similar": [*entry["similar"], "再多一种"]},
                    {**entry, "similar": ["长" * (MAX_PHRASING_LENGTH + 1)]}):
        response = client.put(f"/v1/admin/faq/{entry_id}", json=refused, headers=headers)
        assert response.status_code == 422 and response.json()["error"]["code"] == "validation_error"


def test_an_admin_edit_on_a_worker_that_loaded_the_faq_earlier_keeps_the_other_edits(client, faq_copy,
                                                                                      knowledge_desk):
    """Another process (its own desk and editor) adds a learned entry after this worker loaded
    the FAQ; the admin API's create neither drops it nor reuses its id."""
    from knowledge.desk import KnowledgeDesk
    from knowledge.faq.editor import FaqEditor
    from knowledge.faq.store import load_faq
    from training.annotations.faq_entries import new_faq_entry

    other = FaqEditor(KnowledgeDesk(knowledge_desk.retriever, faq_path=faq_copy), faq_copy)
    learned = new_faq_entry(other, "支票怎么兑现？", "请持支票到出票行网点办理。", ["支票能取现吗"])
    assert learned.id == "learned-0001"
    headers = _token(client)
    entry = {"id": "test-001", "question": "示例银行的吉祥物叫什么名字？", "similar": ["你们的吉祥物是谁"],
             "answer": "示例银行的吉祥物是熊猫“小示”。", "category": "其他"}
    assert client.post("/v1/admin/faq", json=entry, headers=headers).status_code == 201
    ids = [e.id for e in load_faq(faq_copy)]
    assert "learned-0001" in ids and ids[-2:] == ["learned-0001", "test-001"]
    taken = client.post("/v1/admin/faq", json={**entry, "id": "learned-0001"}, headers=headers)
    assert taken.status_code == 409  # the other process's entry is in the file: its id is taken
    assert client.delete("/v1/admin/faq/learned-0001", headers=headers).status_code == 204
    assert "learned-0001" not in [e.id for e in load_faq(faq_copy)] and "test-001" in [e.id for e in load_faq(faq_copy)]


def test_the_admin_list_shows_the_file_as_it_is_now(client, faq_copy, knowledge_desk):
    """An entry another process added is listed at once, before this worker's index catches up."""
    from knowledge.desk import KnowledgeDesk
    from knowledge.faq.editor import FaqEditor
    from training.annotations.faq_entries import new_faq_entry

    other = FaqEditor(KnowledgeDesk(knowledge_desk.retriever, faq_path=faq_copy), faq_copy)
    learned = new_faq_entry(other, "支票怎么兑现？", "请持支票到出票行网点办理。", ["支票能取现吗"])
    listed = client.get("/v1/admin/faq", headers=_token(client)).json()["entries"]
    assert listed[-1]["id"] == learned.id and listed[-1]["question"] == "支票怎么兑现？"
    assert client.get("/v1/admin/faq", headers=_token(client, "analyst", "analyst-sandbox")).status_code == 403
