"""An open, auditable social credit system.

The record log is the truth; every score, tier, list membership and measure is a pure function
of it (see `socialcredit.engine.evaluate`).
"""

__version__ = "0.1.0"
