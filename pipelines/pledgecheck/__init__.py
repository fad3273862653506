"""pledgecheck: check a company's exported data against the promises of its privacy policy."""

__version__ = "0.1.0"
