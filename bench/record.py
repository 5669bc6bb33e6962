"""Keep a benchmark's result: its JSON in bench/results/, a line in bench/RESULTS.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def record(name: str, result: dict[str, Any], line: str) -> None:
    """Write `result` to results/NAME.json and append `line` to RESULTS.md."""
    out = HERE / "results" / f"{name}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    note(line)


def note(line: str) -> None:
    """Append `line` to RESULTS.md."""
    with (HERE / "RESULTS.md").open("a") as handle:
        handle.write(line + "\n")
