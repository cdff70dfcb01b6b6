"""The compiled intent model scores exactly like the scikit-learn pipeline it came from."""
from __future__ import annotations

import numpy as np
import pytest

from chatbot.errors import ServiceUnavailable
from chatbot.nlu.classifier import LEGACY_FEATURES, LinearIntentModel, build_pipeline, features
from chatbot.nlu import model_store
from chatbot.nlu.model_store import load_model, load_pipeline, promoted_version
from chatbot.settings import DATA_DIR
from training.datasets import load_intents
from training.features import prepare

SENTENCES = [
    "查一下我卡里还有多少钱",
    "帮我把信用卡账单分12期",
    "給李娜轉２５００",  # Traditional, full-width digits
    "好",
    "zzqx qwv",  # nothing the model has seen
    "👍",  # normalizes to the empty string
    "您好，我上个月在网点申请了一笔二十万的装修贷款，到现在还没放款，麻烦帮我看看卡在哪一步了",
]


@pytest.fixture(scope="module")
def model(model_dir) -> LinearIntentModel:
    """Compiled from the pipeline (which the comparisons below need)."""
    return LinearIntentModel(load_pipeline(model_dir, promoted_version(model_dir)))


def assert_compiled_equals_pipeline(model: LinearIntentModel) -> None:
    docs = prepare(SENTENCES)
    expected = model.pipeline.predict_proba(docs)
    order = [list(model.pipeline.classes_).index(name) for name in model.classes]
    for (text, tokens), row in zip(docs, expected):
        np.testing.assert_allclose(model.probabilities(text, tokens), row[order], rtol=0, atol=1e-9)


def test_compiled_probabilities_equal_predict_proba(model):
    assert_compiled_equals_pipeline(model)


def test_ranking_is_sorted_and_confidences_sum_to_one(model):
    for text, tokens in prepare(SENTENCES):
        ranking = model.rank(text, tokens)
        confidences = [score.confidence for score in ranking]
        assert confidences == sorted(confidences, reverse=True)
        assert sum(confidences) == pytest.approx(1.0, abs=1e-9)
        assert sorted(score.name for score in ranking) == sorted(model.classes)


def test_obvious_requests_get_their_intent(model):
    for text, intent in [("我要挂失", "account.report_loss"), ("转人工", "human.request")]:
        (normalized, tokens), = prepare([text])
        assert model.rank(normalized, tokens)[0].name == intent


def test_features_are_words_and_bounded_character_ngrams():
    assert features(("好的", ("好的",))) == [
        "w:好的", "c1:^", "c1:好", "c1:的", "c1:#", "c2:^好", "c2:好的", "c2:的#",
    ]


def test_legacy_features_are_the_old_scheme():
    assert LEGACY_FEATURES(("好的呀", ("好的", "呀"))) == [
        "w:好的", "w:呀", "b:好的|呀", "c1:好", "c1:的", "c1:呀", "c2:好的", "c2:的呀", "c3:好的呀",
    ]


def test_a_model_pickled_with_the_old_feature_function_keeps_its_features():
    examples = [e for e in load_intents(DATA_DIR / "intents.yaml") if e.intent in ("greet", "thanks", "cancel")]
    pipeline = build_pipeline(extractor=LEGACY_FEATURES)
    pipeline.fit(prepare(e.text for e in examples), [e.intent for e in examples])
    pipeline.named_steps["features"].set_params(analyzer=features)  # how older models were pickled
    model = LinearIntentModel(pipeline)
    assert model.extractor == LEGACY_FEATURES
    assert_compiled_equals_pipeline(model)


def test_a_model_with_an_unknown_feature_function_is_refused():
    pipeline = build_pipeline()
    pipeline.named_steps["features"].set_params(analyzer=lambda doc: list(doc[1]))
    with pytest.raises(ServiceUnavailable) as caught:
        LinearIntentModel(pipeline)
    assert caught.value.code == "model_unknown_features"


def test_boundary_markers_never_come_from_a_normalized_message():
    from chatbot.nlu.normalize import normalize

    assert normalize("^好#").text == "好"


# --- the compiled arrays saved beside the pipeline (chatbot/nlu/model_store.py) -------------

def _version_copy(model_dir, tmp_path):
    import shutil

    version = promoted_version(model_dir)
    shutil.copytree(model_dir / version, tmp_path / version)
    return tmp_path / version


def _same_scores(a: LinearIntentModel, b: LinearIntentModel) -> None:
    assert a.classes == b.classes and a.vocabulary == b.vocabulary and a.extractor == b.extractor
    for text, tokens in prepare(SENTENCES):
        assert np.array_equal(a.probabilities(text, tokens), b.probabilities(text, tokens))


def test_training_saves_the_compiled_arrays_and_loading_them_scores_identically(model_dir, model):
    version = promoted_version(model_dir)
    assert (model_dir / version / model_store.COMPILED_FILE).exists()
    loaded = load_model(model_dir, version)
    assert loaded.pipeline is None  # restored from the arrays, not unpickled
    _same_scores(loaded, model)


def test_a_version_without_compiled_arrays_gets_them_on_first_load(model_dir, tmp_path, model):
    path = _version_copy(model_dir, tmp_path)
    (path / model_store.COMPILED_FILE).unlink()
    assert model_store.ensure_compiled(tmp_path, path.name) is True
    assert (path / model_store.COMPILED_FILE).exists()
    assert model_store.ensure_compiled(tmp_path, path.name) is False
    _same_scores(load_model(tmp_path, path.name), model)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "other_model", "other_format"])
def test_unusable_compiled_arrays_are_never_used(model_dir, tmp_path, model, damage, caplog):
    path = _version_copy(model_dir, tmp_path)
    compiled = path / model_store.COMPILED_FILE
    if damage == "truncated":
        compiled.write_bytes(compiled.read_bytes()[:5000])
    elif damage == "garbage":
        compiled.write_bytes(b"not a numpy file")
    elif damage == "other_model":  # the pipeline was replaced: the arrays are of the old one
        with (path / model_store.MODEL_FILE).open("ab") as handle:
            handle.write(b"\0")
    else:
        import json

        with np.load(compiled, allow_pickle=False) as saved:
            arrays = {name: saved[name] for name in saved.files}
        meta = json.loads(arrays.pop("meta").tobytes())
        meta["format"] = model_store.COMPILED_FORMAT + 1
        np.savez(compiled, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **arrays)
    if damage == "other_model":
        assert model_store.load_compiled(path) is None
        return  # the appended byte also breaks the pickle: nothing more to load
    loaded = load_model(tmp_path, path.name)
    assert loaded.pipeline is not None  # compiled again from the pipeline
    _same_scores(loaded, model)
    assert model_store.load_compiled(path) is not None  # and saved again


def test_arrays_that_do_not_fit_their_features_are_refused(model):
    meta, arrays = model.state()
    with pytest.raises(ValueError):
        LinearIntentModel.restore(meta, {**arrays, "idf": arrays["idf"][:-1]})
