"""Synthetic exports with exact ground truth: a fictional company's export for any policy
(`generate.generate_world`) and an independent count of every pledge's violations in it
(`truth`), written apart from the SQL checks on purpose so that each can catch the other."""
from .generate import generate_world

__all__ = ["generate_world"]
