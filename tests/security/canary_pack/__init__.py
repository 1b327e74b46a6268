"""A fixture course whose secrets carry marker strings, so that tests can search everything
a learner receives for them: every choice id holds KEY_MARKER, every feedback holds
FEEDBACK_MARKER and every choice text a CHOICE_MARKER token (choices are shown only on the
open test form). It is loaded through EXTRA_PLUGINS, never installed.

Beside it: seeded.py builds a portal with a real row behind every URL argument, and rows.py
says exactly what a request changed in the database."""

from __future__ import annotations

from pathlib import Path

from portal.plugins import hookimpl

PACK_DIR = Path(__file__).with_name("pack")
PACK_ID = "canary-course"
KEY_MARKER = "CANARY-KEY-7f3a"
FEEDBACK_MARKER = "CANARY-FEEDBACK-9c2e"
CHOICE_MARKER = "CANARY-CHOICE-5d1b"


class CanaryPackPlugin:
    """A plugin object for EXTRA_PLUGINS that adds the canary course."""

    __name__ = "canary_pack_plugin"  # pluggy names the plugin after this

    @hookimpl
    def portal_content_pack_dirs(self) -> list[Path]:
        return [PACK_DIR]


def config() -> dict:
    """App settings that load the canary course beside the bundled packs."""
    return {"EXTRA_PLUGINS": [CanaryPackPlugin()]}
