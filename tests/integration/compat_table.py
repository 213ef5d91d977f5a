"""The table of docs/compatibility.md, made from what the integration tier observed.

Each run of the tier writes ``tests/integration/.observed/<release>.json`` per server (see
``Real.observe`` in conftest.py). This script renders them as one markdown table:

    python -m tests.integration.compat_table           # print the table
    python -m tests.integration.compat_table --write   # put it into docs/compatibility.md
    python -m tests.integration.compat_table --check   # exit 1 if the committed one differs

``--check`` compares only when the observed releases are the table's (a run against other
servers says so and passes), so ``make test-real`` can run it after every run.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from pathlib import Path
from typing import Any

from ._facts import OBSERVATIONS

__all__ = ["main", "render"]

ROOT = Path(__file__).resolve().parents[2]
OBSERVED = Path(__file__).resolve().parent / ".observed"
DOC = ROOT / "docs" / "compatibility.md"
BEGIN = "<!-- observed-table:begin (python -m tests.integration.compat_table --write) -->"
END = "<!-- observed-table:end -->"
NOT_SEEN = "—"


def _release_key(record: dict[str, Any]) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else 0 for p in str(record["manager"]).split("."))


def load(directory: Path = OBSERVED) -> list[dict[str, Any]]:
    """The observation records, oldest release first."""
    records = [json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))]
    return sorted(records, key=_release_key)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render(records: list[dict[str, Any]]) -> str:
    """One row per observation key (OBSERVATIONS order), one column per release."""
    head = ["what", *(f"{r['manager']}" for r in records), "what the SDK does"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key, (what, sdk) in OBSERVATIONS.items():
        values = [r["observed"].get(key, NOT_SEEN) for r in records]
        if all(v == NOT_SEEN for v in values):
            continue
        lines.append("| " + " | ".join(_cell(x) for x in (what, *values, sdk)) + " |")
    return "\n".join(lines) + "\n"


def _committed(doc: str) -> tuple[str, str, str]:
    start, end = doc.index(BEGIN) + len(BEGIN), doc.index(END)
    return doc[:start], doc[start:end].strip("\n") + "\n", doc[end:]


def _releases(table: str) -> list[str]:
    return [c.strip() for c in table.splitlines()[0].strip("|").split("|")][1:-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="update docs/compatibility.md")
    mode.add_argument("--check", action="store_true", help="fail if the committed table differs")
    args = parser.parse_args(argv)
    records = load()
    if not records:
        print(f"no observations in {OBSERVED}: run the integration tier first", file=sys.stderr)
        return 0 if args.check else 1
    table = render(records)
    if not (args.write or args.check):
        print(table, end="")
        return 0
    doc = DOC.read_text()
    before, committed, after = _committed(doc)
    if args.write:
        DOC.write_text(before + "\n" + table + after)
        print(f"wrote the table of {', '.join(r['manager'] for r in records)} into {DOC}")
        return 0
    observed_releases = [r["manager"] for r in records]
    if observed_releases != _releases(committed):
        print(
            f"compat table: observed {observed_releases}, the committed table shows "
            f"{_releases(committed)}: not compared"
        )
        return 0
    if committed == table:
        print(f"compat table: docs/compatibility.md matches what the tier observed ({DOC.name})")
        return 0
    diff = difflib.unified_diff(
        committed.splitlines(), table.splitlines(), "committed", "observed", lineterm=""
    )
    print("\n".join(diff), file=sys.stderr)
    print(
        "compat table: docs/compatibility.md differs from what the tier observed; after a "
        "full `make test-real`, `make compat-table` rewrites it",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
