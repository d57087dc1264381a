"""`roi`: the command line for ROI staff and operators.

Submit a request from a JSON file, see a request's stage and clocks, list open requests, and
perform staff actions (sent to the request's workflow as Temporal Updates). Configuration comes
from the ROI_* environment (see README); with nothing set it talks to the local demo.

The commands live in the cli/ package, one module per concern; this module is the entry point
(`roi = "starter:app"`).
"""

from __future__ import annotations

from cli import app

__all__ = ["app"]

if __name__ == "__main__":
    app()
