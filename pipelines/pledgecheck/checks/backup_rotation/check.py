"""backup_rotation: backups still holding an erased person beyond the promised rotation."""
from __future__ import annotations

from typing import Literal

from ...duration import Duration
from ..base import Check, Render, Rule, Strict, Validator
from ..erasure_completeness.check import ERASED, _erasure_text


class Params(Strict):
    """Backups still holding an erased subject longer than `rotation` after the erasure."""

    check: Literal["backup_rotation"] = "backup_rotation"
    rotation: Duration


class BackupRotation(Check):
    Params = Params
    outcomes = {"within_rotation": "ok", "purged_in_time": "ok", "still_held": "violation",
                "purged_late": "violation"}
    measure_label = "days held beyond the rotation"
    terms = ("rotation",)
    reads_one_table = False

    def validate(self, p: Params, v: Validator) -> None:
        pass

    def bind(self, r: Render) -> dict:
        r.tables += ["backups", "erasure_log"]
        return {"erased": ERASED}

    def rule(self, p: Params) -> Rule:
        return Rule(p.rotation.approx_days(), True, f"purged within {p.rotation}")

    def describe(self, res: dict, p: Params | None) -> str:
        return _erasure_text(res, "backup copies still holding erased people beyond the rotation")


CHECK = BackupRotation()
