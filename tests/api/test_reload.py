"""POST /v1/admin/reload: the promoted model and the FAQ file are looked at now, by an admin only."""
import shutil

from chatbot.storage.models import AuditLog
from tests.faq_samples import SMALL_FAQ
from training.registry import promote


def _token(client, user="admin"):
    response = client.post("/v1/auth/login", json={"username": user, "password": f"{user}-sandbox"})
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_only_an_admin_reloads(client):
    assert client.post("/v1/admin/reload").status_code == 401
    for role in ("agent1", "analyst"):
        refused = client.post("/v1/admin/reload", headers=_token(client, role))
        assert refused.status_code == 403 and refused.json()["error"]["code"]


def test_a_hand_edited_faq_and_a_new_model_are_answered_from_at_once(client, services, tmp_path, model_dir,
                                                                     knowledge_desk):
    from chatbot.nlu.model_store import PromotedModel
    from knowledge.faq.store import load_faq

    models = tmp_path / "models"
    shutil.copytree(model_dir, models)
    classifier = PromotedModel(models)
    services.parser.classifier, original_classifier = classifier, services.parser.classifier
    faq = tmp_path / "faq.yaml"  # small: a changed file is indexed again (seconds for the real one)
    faq.write_text(SMALL_FAQ, encoding="utf-8")
    saved_path, saved_retriever, saved_stamp = knowledge_desk.faq_path, knowledge_desk.retriever, knowledge_desk._stamp
    knowledge_desk.faq_path = faq
    try:
        nothing = client.post("/v1/admin/reload", headers=_token(client))
        assert nothing.status_code == 200 and nothing.json()["model_changed"] is False

        first = classifier.version
        second = f"{first[:-1]}{'0' if first[-1] != '0' else '1'}"
        shutil.copytree(models / first, models / second)
        promote(models, second)
        faq.write_text(SMALL_FAQ + "- id: atm\n  question: 卡被取款机吞了怎么办？\n  answer: 请联系网点。\n"
                       "  category: 银行卡\n", encoding="utf-8")
        answer = client.post("/v1/admin/reload", headers=_token(client)).json()
        assert answer["model_changed"] is True and answer["model_version"] == second
        assert answer["faq_changed"] is True and answer["faq_entries"] == len(load_faq(faq))
        assert answer["model_error"] is None
        with services.database.read() as db:
            rows = db.query(AuditLog).filter(AuditLog.action == "reload").all()
        assert len(rows) == 2 and rows[-1].actor == "staff:admin"
    finally:
        services.parser.classifier = original_classifier
        knowledge_desk.faq_path = saved_path
        knowledge_desk.install(saved_retriever, saved_stamp)  # the shared desk as the other tests know it
