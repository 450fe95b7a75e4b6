"""Regenerate the committed sample in ``data/sample``.

Run ``python -m loyaltylab.datasets.build_sample [DIR]`` (default: the repository's
``data/sample``). The output is deterministic: a test checks that regenerating gives
byte-identical files.
"""

from __future__ import annotations

import sys
from pathlib import Path

from loyaltylab.datasets._bundled import SAMPLE_ARGS, write_sample

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Write the sample to ``argv[0]`` or to ``<repo>/data/sample``; print what was written."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    target = (Path(argv[0]) if argv
              else Path(__file__).resolve().parents[2] / "data" / "sample")
    paths = write_sample(target)
    total = sum(p.stat().st_size for p in paths)
    print(f"wrote {len(paths)} files ({total / 1e6:.1f} MB) to {target} with "
          f"make_crm({', '.join(f'{k}={v!r}' for k, v in SAMPLE_ARGS.items())})")
    return 0


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)


if __name__ == "__main__":
    raise SystemExit(main())
