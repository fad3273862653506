"""backup_rotation: backups still holding an erased person beyond the promised rotation."""
from __future__ import annotations

from typing import Literal

from ...duration import Duration
from ...claims import BACKUPS, pledge_claim, pledge_data, duration_value
from ..base import Check, Render, Strict
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
    reads_one_table = False

    def bind(self, r: Render) -> dict:
        r.tables += ["backups", "erasure_log"]
        return {"erased": ERASED}


    def describe(self, res: dict, p: Params | None) -> str:
        return _erasure_text(res, "backup copies still holding erased people beyond the rotation")

    def claims(self, p) -> list:
        return [pledge_claim(p, "erasure_delay", duration_value(p.params.rotation, p.quote),
                             pledge_data(p, tables=[BACKUPS]))]


CHECK = BackupRotation()
