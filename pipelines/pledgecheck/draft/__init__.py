"""Draft a policy file from a privacy policy's text (`pledgecheck draft`).

    from pledgecheck.draft import draft_text
    doc = draft_text(text, policy_id="acme")      # a dict in the policy YAML format
"""
from __future__ import annotations

from .build import draft_file, draft_text, render_yaml, todo_count

__all__ = ["draft_file", "draft_text", "render_yaml", "todo_count"]
