"""School Safety Roll Call: a content pack for the training portal (data only)."""

from pathlib import Path

from portal.plugins import hookimpl

PACK_DIR = Path(__file__).with_name("pack")


@hookimpl
def portal_content_pack_dirs() -> list[Path]:
    return [PACK_DIR]
