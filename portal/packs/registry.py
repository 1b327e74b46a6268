"""The installed packs, collected through the `portal_content_pack_dirs` hook at start-up.

An invalid or duplicate pack stops start-up, naming the pack and its file;
with PORTAL_INVALID_PACKS=disable it is set aside instead, logged, and listed
on the administrators' packs page while the other packs serve.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import pluggy

from portal.common.markdown import render_markdown_cached
from portal.packs.loader import MANIFEST, PackInvalid, Problem, load_pack
from portal.packs.model import Pack
from portal.plugins.manager import PluginError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DisabledPack:
    name: str
    source: str
    path: str
    reason: str
    problems: tuple[str, ...] = ()


@dataclass
class PackRegistry:
    packs: dict[str, Pack] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    disabled: list[DisabledPack] = field(default_factory=list)

    def get(self, pack_id: str) -> Pack | None:
        return self.packs.get(pack_id)

    def all(self) -> list[Pack]:
        return sorted(self.packs.values(), key=lambda p: (p.title.lower(), p.id))


def _pack_dirs(pm: pluggy.PluginManager) -> list[tuple[str, Path]]:
    found = []
    for impl in pm.hook.portal_content_pack_dirs.get_hookimpls():
        try:
            dirs = impl.function() or []
        except Exception as error:
            raise PluginError(f"content pack {impl.plugin_name} ({getattr(impl.plugin, '__file__', '?')}) "
                              f"failed in portal_content_pack_dirs: {error}") from error
        found.extend((impl.plugin_name, Path(d)) for d in dirs)
    return sorted(found, key=lambda item: (item[0], str(item[1])))


def load_registry(pm: pluggy.PluginManager, portal_version: str, *, invalid: str = "fail",
                  disabled_ids: frozenset[str] = frozenset(), max_file_bytes: int | None = None) -> PackRegistry:
    registry = PackRegistry()
    kwargs = {"max_file_bytes": max_file_bytes} if max_file_bytes else {}

    def refuse(source: str, path: Path, reason: str, problems=(), name=None):
        message = f"content pack {name or path.name} from {source} ({path / MANIFEST}): {reason}"
        if problems:
            message += "\n" + "\n".join(f"  {path}/{p}" for p in problems)
        if invalid != "disable":
            raise PluginError(message)
        log.error("disabled %s", message)
        registry.disabled.append(DisabledPack(name or path.name, source, str(path), reason,
                                              tuple(str(p) for p in problems)))

    for source, path in _pack_dirs(pm):
        try:
            pack = load_pack(path, portal_version, **kwargs)
        except PackInvalid as error:
            refuse(source, path, "is invalid", error.problems, name=_declared_id(path))
            continue
        if pack.id in disabled_ids:
            registry.disabled.append(DisabledPack(pack.id, source, str(path), "disabled by PORTAL_DISABLED_PACKS"))
            continue
        if pack.id in registry.packs:
            refuse(source, path, f"has the id {pack.id!r}, already used by the pack from "
                                 f"{registry.sources[pack.id]}", name=pack.id)
            continue
        registry.packs[pack.id] = pack
        registry.sources[pack.id] = source
    return registry


def _declared_id(path: Path) -> str | None:
    """The id an invalid pack's manifest claims, to name it in messages."""
    from portal.packs.authored_yaml import load_authored

    try:
        data = load_authored((path / MANIFEST).read_text(encoding="utf-8"))
        return str(data["id"]) if isinstance(data, dict) and data.get("id") else None
    except Exception:  # the manifest is what is broken: fall back to the folder name
        return None


def files_base(pack: Pack) -> str:
    """URL prefix under which a pack's public files are served, versioned for caching."""
    return f"/packs/{pack.id}/{pack.version}/files/"


def render_lesson(pack: Pack, lesson_id: str) -> str:
    """A lesson's Markdown as safe HTML, cached per pack version."""
    lesson = pack.lesson(lesson_id)
    doc_dir = str(PurePosixPath(lesson.file).parent) if lesson.file else ""
    return render_markdown_cached((pack.id, pack.version, "lesson", lesson_id), lesson.body,
                                  files_base(pack), doc_dir)


def render_description(pack: Pack) -> str:
    return render_markdown_cached((pack.id, pack.version, "description"), pack.description, files_base(pack), "")


__all__ = ["DisabledPack", "PackRegistry", "Problem", "files_base", "load_registry", "render_description",
           "render_lesson"]
