"""The package layout: one concern per module (issue 17, shared/STYLE.md).

A module that grows past 900 lines holds more than one concern; split it into
``_``-prefixed modules of its package and re-export the names, as ``loyaltylab._pipeline``,
``report._deck`` and ``clv._covariates`` do.
"""

from __future__ import annotations

from pathlib import Path

import loyaltylab

MAX_LINES = 900


def test_no_module_is_over_900_lines():
    root = Path(loyaltylab.__file__).parent
    modules = sorted(root.rglob("*.py"))
    assert len(modules) > 50  # the walk reaches the package, not an empty folder
    lines = {path.relative_to(root).as_posix(): len(path.read_text(encoding="utf-8")
                                                    .splitlines())
             for path in modules}
    over = [f"loyaltylab/{name}: {n} lines" for name, n in sorted(lines.items())
            if n > MAX_LINES]
    assert not over, (f"modules over {MAX_LINES} lines (split them by concern):\n"
                      + "\n".join(over))
