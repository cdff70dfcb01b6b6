"""Promoting a model version, behind a regression gate (`chatbot models promote`, the admin API).

The gate compares the candidate with the promoted version on the held-out data
(`training/heldout.py`, scored by `training/compare.py`) and refuses when

- overall accuracy drops by more than `CHATBOT_PROMOTE_MAX_DROP` (default 0.01), or
- an intent with at least `CHATBOT_PROMOTE_MIN_SUPPORT` held-out examples (10) drops in
  accuracy (the share of its examples answered right) by more than
  `CHATBOT_PROMOTE_MAX_INTENT_DROP` (0.05).

With nothing promoted yet, or the candidate already promoted, there is nothing to compare:
it passes. Without any held-out data it cannot tell, and refuses. When the promoted version
cannot be scored (its directory deleted, its `model.joblib` unreadable after a library
upgrade) the gate is not evaluated (`evaluated` false) and refuses, naming the error.
`force` promotes anyway in every case.

The check and the pointer write run under the model directory's promotion lock
(`training/registry.py`), so concurrent promotions (the API and the CLI) take turns and each
is compared with the version it actually replaces.

Every promotion is audited (`model.promote`: who, the previous version, whether it was
forced, what the gate said), and so is every refusal (`model.promote_refused`). Version names
are written into the audit detail as `20261207-122251-(1a2b3c4d)` (`audit_versions`). After the
pointer is written the promotion is announced, so serving workers swap at once
(`chatbot/nlu/model_watch.py`).
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from chatbot.errors import ChatbotError, Conflict, NotFound
from chatbot.nlu import model_store
from chatbot.settings import Settings
from chatbot.storage import audit
from chatbot.storage.db import Database
from training import heldout, registry
from training.compare import Comparison, compare, score

log = logging.getLogger(__name__)

EPSILON = 1e-9  # metrics are rounded to 4 places: a drop equal to the margin is allowed


@dataclass(frozen=True)
class Limits:
    max_drop: float = 0.01
    max_intent_drop: float = 0.05
    min_support: int = 10

    @classmethod
    def of(cls, settings: Settings) -> "Limits":
        return cls(settings.promote_max_drop, settings.promote_max_intent_drop, settings.promote_min_support)


@dataclass(frozen=True)
class Drop:
    """Overall accuracy (`intent` None) or one intent's accuracy, beyond its margin."""

    intent: str | None
    before: float
    after: float
    allowed: float
    support: int

    @property
    def drop(self) -> float:
        return round(self.before - self.after, 4)

    def describe(self) -> str:
        what = "整体准确率" if self.intent is None else f"意图 {self.intent} 的准确率"
        support = "" if self.intent is None else f"，n={self.support}"
        return (f"{what} {self.before:.4f} → {self.after:.4f}（下降 {self.drop:.4f}，"
                f"允许 {self.allowed:.4f}{support}）")

    def to_dict(self) -> dict:
        return {"intent": self.intent, "baseline": self.before, "candidate": self.after, "drop": self.drop,
                "allowed": self.allowed, "support": self.support}


@dataclass(frozen=True)
class GateResult:
    candidate: str
    baseline: str | None
    limits: Limits
    passed: bool
    reason: str
    drops: tuple[Drop, ...] = ()
    comparison: Comparison | None = field(default=None, compare=False)
    evaluated: bool = True  # False: the promoted version could not be scored (`reason` says why)

    def summary(self) -> str:
        """What the gate found, one line (also after a forced promotion)."""
        if not self.evaluated:
            return f"回归门禁未评估：{self.reason}"
        if self.passed:
            return f"回归门禁通过：{self.reason}"
        return f"回归门禁未通过：{self._findings()}"

    def message(self) -> str:
        """The refusal, one line."""
        if not self.evaluated:
            return (f"回归门禁无法评估 {self.candidate}：{self.reason}，无法与之对比。"
                    f"确认仍要发布请加 --force")
        against = f"（对比已发布的 {self.baseline}）" if self.baseline else ""
        return f"回归门禁拒绝发布 {self.candidate}{against}：{self._findings()}。确认仍要发布请加 --force"

    def _findings(self) -> str:
        return "；".join(d.describe() for d in self.drops) or self.reason

    def to_dict(self) -> dict:
        body = {"passed": self.passed, "evaluated": self.evaluated, "candidate": self.candidate,
                "baseline": self.baseline,
                "summary": self.summary(), "reason": self.reason, "drops": [d.to_dict() for d in self.drops],
                "limits": {"max_drop": self.limits.max_drop, "max_intent_drop": self.limits.max_intent_drop,
                           "min_support": self.limits.min_support}}
        if self.comparison is not None:
            overall = self.comparison.to_dict()["overall"]
            body |= {"held_out": self.comparison.held_out.to_dict(),
                     "accuracy": _renamed(overall["accuracy"]), "macro_f1": _renamed(overall["macro_f1"])}
        return body


class RegressionRefused(Conflict):
    """The gate said no; `gate` says why (HTTP 409 with its details): `regression_gate`, or
    `gate_not_evaluated` when the promoted version could not be scored."""

    def __init__(self, gate: GateResult) -> None:
        super().__init__(gate.message(), "regression_gate" if gate.evaluated else "gate_not_evaluated")
        self.gate = gate


def check(settings: Settings, database: Database | None, version: str) -> GateResult:
    """Compare `version` with the promoted one on the held-out data (NotFound: unknown version;
    Conflict `model_unloadable`: the candidate itself cannot be loaded, whatever `force` says)."""
    model_store.version_dir(settings.model_dir, version)
    limits = Limits.of(settings)
    baseline = model_store.promoted_version(settings.model_dir)
    if baseline is None:
        return GateResult(version, None, limits, True, "尚无已发布版本，无需比较")
    if baseline == version:
        return GateResult(version, baseline, limits, True, "该版本已是发布版本")
    held_out = heldout.load(settings.data_dir, database)
    if not held_out.examples:
        return GateResult(version, baseline, limits, False, f"没有留出数据，无法比较（{held_out.describe()}）")
    try:
        comparison = compare(settings.model_dir, baseline, version, held_out)
    except NotFound as error:  # the candidate's directory was looked up above: the baseline is gone
        return _not_evaluated(version, baseline, limits, error)
    except ChatbotError as error:  # e.g. no held-out data both versions left untrained
        return GateResult(version, baseline, limits, False, error.message)
    except Exception as error:  # noqa: BLE001 (an unreadable model file, a library upgrade, I/O)
        # Whose model failed? Scoring the candidate alone raises its own error (the failure
        # path only: a comparison that works scores each version once).
        try:
            score(settings.model_dir, version, held_out)
        except ChatbotError:
            raise
        except Exception as own:  # noqa: BLE001
            raise _unloadable(version, own) from own
        return _not_evaluated(version, baseline, limits, error)
    drops = _drops(comparison, limits)
    reason = (f"{held_out.describe()}；准确率 {comparison.before.metrics.accuracy:.4f} → "
              f"{comparison.after.metrics.accuracy:.4f}（{comparison.accuracy_delta:+.4f}）")
    return GateResult(version, baseline, limits, not drops, reason, tuple(drops), comparison)


def _loadable(model_dir, version: str) -> None:
    """What the workers will load (the compiled arrays, compiled now if missing or stale) must
    load: promoting a version no worker can use would leave every worker on the old one."""
    try:
        model_store.ensure_compiled(model_dir, version)
    except ChatbotError:
        raise
    except Exception as error:  # noqa: BLE001 (an unreadable or foreign model file)
        raise _unloadable(version, error) from error


def _unloadable(version: str, error: BaseException) -> Conflict:
    log.info("intent model %s cannot be loaded", version, exc_info=error)
    return Conflict(f"模型版本 {version} 无法载入，不能发布（{_one_line(error)}）", "model_unloadable")


def _not_evaluated(version: str, baseline: str, limits: Limits, error: BaseException) -> GateResult:
    # Info, with the trace for the service's log: the refusal (or the forced promotion's audit
    # row) already names the error, and the command prints one line.
    log.info("the promoted intent model %s cannot be scored; the gate for %s is not evaluated",
             baseline, version, exc_info=error)
    reason = f"已发布的版本 {baseline} 无法评分（{_one_line(error)}）"
    return GateResult(version, baseline, limits, False, reason, evaluated=False)


def _drops(comparison: Comparison, limits: Limits) -> list[Drop]:
    before, after = comparison.before.metrics, comparison.after.metrics
    drops = []
    if before.accuracy - after.accuracy > limits.max_drop + EPSILON:
        drops.append(Drop(None, before.accuracy, after.accuracy, limits.max_drop, after.examples))
    for delta in comparison.intents:
        if delta.support >= limits.min_support and -delta.accuracy_delta > limits.max_intent_drop + EPSILON:
            drops.append(Drop(delta.intent, delta.before.recall, delta.after.recall, limits.max_intent_drop,
                              delta.support))
    return sorted(drops, key=lambda d: (d.intent is not None, -d.drop, d.intent or ""))


def promote(settings: Settings, database: Database, version: str, actor: str, now: datetime, *,
            force: bool = False, announce: Callable[[str], None] | None = None) -> GateResult:
    """Gate, then point `promoted.json` at `version`, audited; RegressionRefused unless it passes
    or `force`. `announce(version)` runs after the pointer is written (workers swap at once).

    Holds the promotion lock from reading the baseline to writing the pointer (seconds, while
    models are scored): blocks the calling thread, so call it from a worker thread."""
    with registry.promotion_lock(settings.model_dir):
        result = check(settings, database, version)
        if not result.passed and not force:
            with database.write() as db:
                audit.record(db, actor[:128], "model.promote_refused", f"model:{version}", now,
                             **audit_versions({"gate": result.to_dict()}))
            raise RegressionRefused(result)
        _loadable(settings.model_dir, version)  # workers load its compiled arrays, not the pipeline
        with database.write() as db:  # the audit row commits only if the pointer was written
            audit.record(db, actor[:128], "model.promote", f"model:{version}", now,
                         **audit_versions({"previous": result.baseline, "forced": not result.passed,
                                           "gate": result.to_dict()}))
            registry.promote(settings.model_dir, version)
    if announce is not None:
        announce(version)
    return result


# A version name anywhere in a text: `YYYYMMDD-HHMMSS-<8 hex>` (chatbot/nlu/model_store.py).
_VERSION_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])([0-9]{8}-[0-9]{6})-([0-9a-f]{8})(?![0-9A-Za-z])")


def audit_versions(value):
    """`value` with every version name in its strings written as `20261207-122251-(1a2b3c4d)`.

    The audit log masks its detail (`chatbot/storage/audit.py`), and to the masker a name whose
    hash starts with two digits is a run of 16 or more digits, i.e. a card number
    (`20261207-122251-12345678` -> `**** 5678`; the masker drops characters such as `#` or
    `_` before it looks, but a parenthesis ends a run). In parentheses no run of digits is
    long enough for a card, an ID or a phone number; the name is the text without them."""
    if isinstance(value, str):
        return _VERSION_IN_TEXT.sub(r"\1-(\2)", value)
    if isinstance(value, list):
        return [audit_versions(v) for v in value]
    if isinstance(value, dict):
        return {k: audit_versions(v) for k, v in value.items()}
    return value


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0][:200]}" if text else type(error).__name__


def _renamed(figures: dict) -> dict:
    return {"baseline": figures["before"], "candidate": figures["after"], "delta": figures["delta"]}
