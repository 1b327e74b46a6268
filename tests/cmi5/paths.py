"""Where ADL's cmi5 material is on this machine: CMI5_SHARED_DIR, else ../shared/cmi5 beside
the checkout, else /work/shared/cmi5 (CI's clone may live elsewhere)."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def shared_cmi5() -> Path | None:
    for candidate in (os.environ.get("CMI5_SHARED_DIR"), REPO.parent / "shared" / "cmi5", "/work/shared/cmi5"):
        if candidate and (Path(candidate) / "examples").is_dir():
            return Path(candidate)
    return None


def example(name: str) -> Path | None:
    root = shared_cmi5()
    return root / "examples" / name if root and (root / "examples" / name).exists() else None
