"""Load plugins from the two versioned entry-point groups and validate them loudly.

A duplicate name, a misspelt hook or a plugin that fails to import stops
start-up with a message naming the plugin and its file.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points

import pluggy

from portal.plugins import CONTENT_PACKS_GROUP, FEATURE_PLUGINS_GROUP, PROJECT, hookspecs

log = logging.getLogger(__name__)


class PluginError(RuntimeError):
    """A plugin or pack cannot be loaded; the message names it and its file."""


@dataclass
class LoadedPlugin:
    group: str
    name: str
    module: str
    distribution: str
    version: str
    file: str


@dataclass
class PluginReport:
    loaded: list[LoadedPlugin] = field(default_factory=list)


def _entry_points(group: str) -> list[EntryPoint]:
    return sorted(entry_points(group=group), key=lambda ep: ep.name)


def _describe(ep: EntryPoint) -> tuple[str, str]:
    dist = getattr(ep, "dist", None)
    return (dist.name if dist else "?"), (dist.version if dist else "?")


def get_plugin_manager(safe_mode: bool = False, extra_plugins: tuple = ()) -> tuple[pluggy.PluginManager, PluginReport]:
    """Build the manager: core defaults first, then every installed pack and plugin.

    With safe_mode, no third-party code is imported at all.
    """
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    from portal.plugins import core

    pm.register(core, name="portal.core")
    report = PluginReport()
    if not safe_mode:
        for group in (CONTENT_PACKS_GROUP, FEATURE_PLUGINS_GROUP):
            _load_group(pm, group, report)
    for plugin in extra_plugins:  # tests register fixtures this way
        pm.register(plugin)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as error:
        plugin = error.plugin
        raise PluginError(
            f"plugin {pm.get_name(plugin)} ({_where(plugin)}) implements a hook the portal does not have: "
            f"{error}. Check the spelling against docs/hooks.md."
        ) from error
    return pm, report


def _where(plugin) -> str:
    """The file a plugin came from, for error messages, whatever kind of object it is."""
    module = plugin if inspect.ismodule(plugin) else inspect.getmodule(plugin)
    return getattr(module, "__file__", None) or getattr(plugin, "__module__", None) or repr(plugin)


def _load_group(pm: pluggy.PluginManager, group: str, report: PluginReport) -> None:
    seen: dict[str, EntryPoint] = {}
    for ep in _entry_points(group):
        dist, version = _describe(ep)
        if ep.name in seen:
            other, _ = _describe(seen[ep.name])
            raise PluginError(f"two distributions register {group} entry point {ep.name!r}: "
                              f"{other} and {dist}. Uninstall one of them.")
        seen[ep.name] = ep
        try:
            module = ep.load()
        except Exception as error:
            raise PluginError(f"{group} entry point {ep.name!r} from {dist} {version} "
                              f"({ep.value}) failed to import: {error}") from error
        if not inspect.ismodule(module):
            module = importlib.import_module(ep.module)
        name = f"{group}:{ep.name}"
        try:
            pm.register(module, name=name)
        except (ValueError, pluggy.PluginValidationError) as error:
            raise PluginError(f"{group} entry point {ep.name!r} from {dist} "
                              f"({getattr(module, '__file__', '?')}) is invalid: {error}") from error
        report.loaded.append(LoadedPlugin(group, ep.name, ep.value, dist, version,
                                          getattr(module, "__file__", "") or ""))
        log.info("loaded %s %s from %s %s", group, ep.name, dist, version)


def collect(hook_results: list) -> list:
    """Flatten a hook's per-plugin lists into one list."""
    items = []
    for result in hook_results:
        if result:
            items.extend(result)
    return items
