"""The third-party data files are byte-for-byte what data/README.md says they are."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data"
LISTED = re.findall(r"^([0-9a-f]{64})  (\S+)$", (DATA / "README.md").read_text(), flags=re.M)


def test_readme_lists_every_third_party_file():
    listed = {name for _, name in LISTED}
    on_disk = {str(p.relative_to(DATA)) for folder in ("cdnow", "donations")
               for p in (DATA / folder).iterdir()}
    assert listed == on_disk


@pytest.mark.parametrize(("digest", "name"), LISTED)
def test_file_matches_its_published_checksum(digest, name):
    assert hashlib.sha256((DATA / name).read_bytes()).hexdigest() == digest
