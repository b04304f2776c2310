"""Write Reuters-21578 stories with every label field stripped, ready for ``newsrec ingest``.

Usage::

    python scripts/reuters_split.py TEST /tmp/reuters-test.jsonl     # one ModApte split
    python scripts/reuters_split.py ALL /tmp/reuters-all.jsonl       # all 20,841 stories

The engine must never see the labels it is judged by: ``topics``, ``places``, ``people``,
``orgs``, ``exchanges`` and ``split`` are dropped; the scripts that judge read them by id.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

REUTERS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "reuters21578.jsonl.gz"
_LABELS = ("topics", "places", "people", "orgs", "exchanges", "split")


def main() -> None:
    """Copy the stories of one split (or ALL) without their labels."""
    if len(sys.argv) != 3 or sys.argv[1] not in ("TRAIN", "TEST", "NOT-USED", "ALL"):
        sys.exit("usage: reuters_split.py TRAIN|TEST|NOT-USED|ALL OUT.jsonl")
    split, out = sys.argv[1], Path(sys.argv[2])
    written = 0
    with gzip.open(REUTERS, "rt", encoding="utf-8") as source, out.open("w") as sink:
        for line in source:
            story = json.loads(line)
            if split in ("ALL", story["split"]):
                sink.write(json.dumps({k: v for k, v in story.items() if k not in _LABELS}))
                sink.write("\n")
                written += 1
    print(f"wrote {written} stories to {out}")


if __name__ == "__main__":
    main()
