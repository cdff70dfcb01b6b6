"""api/worker.py: what each `chatbot serve` worker runs builds the app with the cyclic garbage
collector paused, then freezes what the start made and turns the collector back on."""
from __future__ import annotations

import gc

import pytest


def test_a_worker_builds_its_app_with_the_collector_paused_then_frozen(monkeypatch):
    import api.app
    import api.worker

    seen = {}

    def build():
        seen["collecting"] = gc.isenabled()
        seen["made"] = [[n] for n in range(1000)]  # long-lived start-up objects
        return "the app"

    monkeypatch.setattr(api.app, "create_app", build)
    frozen = gc.get_freeze_count()
    assert gc.isenabled()
    try:
        assert api.worker.create_app() == "the app"
        assert seen["collecting"] is False
        assert gc.isenabled()  # back on for what requests allocate
        assert gc.get_freeze_count() >= frozen + len(seen["made"])
    finally:
        gc.unfreeze()  # this is the test process, not a worker


def test_a_failing_build_still_turns_the_collector_back_on(monkeypatch):
    import api.app
    import api.worker

    def build():
        raise RuntimeError("no database")

    monkeypatch.setattr(api.app, "create_app", build)
    try:
        with pytest.raises(RuntimeError):
            api.worker.create_app()
    finally:
        gc.unfreeze()
    assert gc.isenabled()
