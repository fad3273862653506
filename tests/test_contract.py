"""The export contract is valid, labelled with the Fides taxonomy, and its page is current."""
from pathlib import Path

import pytest

from pledgecheck.contract import load_contract, parse_contract, unknown_pii_labels
from pledgecheck.contract_doc import render_contract
from pledgecheck.errors import ContractError

ROOT = Path(__file__).resolve().parents[1]
REQUIRED_TABLES = {
    "accounts", "orders", "payments", "web_access_logs", "security_events", "consent_events", "tracker_events",
    "marketing_sends", "email_events", "unsubscribes", "data_subject_requests", "support_tickets", "chat_messages",
    "audio_recordings", "downloads", "backups", "affiliate_exports", "legal_holds", "erasure_log",
    "breach_incidents", "minor_reports", "vulnerability_reports",
}


def test_contract_covers_every_export_the_product_reads():
    assert REQUIRED_TABLES <= set(load_contract().tables)


def test_personal_data_labels_are_fides_categories():
    assert unknown_pii_labels(load_contract()) == []


def test_every_table_has_an_anchor_and_a_subject_or_key():
    for t in load_contract().tables.values():
        assert t.anchors, f"{t.name} has no anchor"
        assert t.subject_column or t.key, f"{t.name} has neither a subject nor a key"


def test_contract_page_is_generated_from_the_contract():
    page = (ROOT / "data" / "CONTRACT.md").read_text(encoding="utf-8")
    assert page == render_contract(), "data/CONTRACT.md is stale: run `pledgecheck contract-doc`"


def test_bad_contract_is_rejected():
    with pytest.raises(ContractError, match="unknown type"):
        parse_contract({"tables": {"t": {"columns": {"c": {"type": "money"}}}}})
    with pytest.raises(ContractError, match="not a valid identifier"):
        parse_contract({"tables": {"t; drop": {"columns": {}}}})
