"""The plugin system: hook markers here, every hook spec in hookspecs.py, the manager in manager.py.

Content packs and feature plugins implement hooks with `@hookimpl`.
"""

import pluggy

PROJECT = "portal"
CONTENT_PACKS_GROUP = "portal.content_packs.v1"
FEATURE_PLUGINS_GROUP = "portal.plugins.v1"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

__all__ = ["CONTENT_PACKS_GROUP", "FEATURE_PLUGINS_GROUP", "PROJECT", "hookimpl", "hookspec"]
