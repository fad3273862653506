"""Errors a user can act on: each names the file (and row, field) it is about."""


class PledgecheckError(Exception):
    """Base class: an error with a message meant for the person running the tool."""


class ContractError(PledgecheckError):
    """The export contract itself is invalid (a bug in the project, not in the user's data)."""


class PolicyError(PledgecheckError):
    """A policy file is invalid; the message names file, pledge and field."""


class IngestError(PledgecheckError):
    """An export file cannot be read at all (unreadable, missing required column)."""


class CheckError(PledgecheckError):
    """A check could not run (its table is missing or failed ingestion)."""


class EngineError(PledgecheckError):
    """The query engine (Spark) refused or failed a query, or is not installed."""
