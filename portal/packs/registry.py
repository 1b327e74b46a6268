"""The installed packs, collected through the `portal_content_pack_dirs` hook at start-up.

An invalid or duplicate pack stops start-up, naming the pack and its file;
with PORTAL_INVALID_PACKS=disable it is set aside instead, logged, and listed
on the administrators' packs page while the other packs serve.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
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
                  disabled_ids: frozenset[str] = frozenset(), max_file_bytes: int | None = None,
                  learners: Callable[[str], dict[str, int]] | None = None) -> PackRegistry:
    """Every installed pack, by id. `learners(pack_id)` counts enrollments per pack version; when two
    distributions claim one id, the one whose version has learners keeps serving (see `_keeper`)."""
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
            serving, serving_source = registry.packs[pack.id], registry.sources[pack.id]
            counts = learners(pack.id) if learners else {}
            keeper = _keeper(pack, serving, counts)
            loser, loser_source, keeper_source = ((serving, serving_source, source) if keeper is pack
                                                  else (pack, source, serving_source))
            reason = _duplicate_reason(loser, loser_source, keeper, keeper_source, counts)
            if invalid != "disable":
                raise PluginError(f"content pack {pack.id} from {source} ({path / MANIFEST}): {reason}")
            log.error("disabled content pack %s from %s: %s", pack.id, loser_source, reason)
            registry.disabled.append(DisabledPack(loser.id, loser_source, str(loser.root), reason))
            if keeper is not pack:
                continue
        registry.packs[pack.id] = pack
        registry.sources[pack.id] = source
        if message := stale_install(pack, source):
            log.warning("%s", message)
    return registry


def _keeper(newcomer: Pack, serving: Pack, counts: dict[str, int]) -> Pack:
    """Of two packs with one id, the one that keeps serving: the one with more learners on its
    version; when that does not tell them apart, the one installed first (its manifest's inode
    changed first: a copy or a later install is newer, whatever modification time it kept)."""
    mine, theirs = counts.get(newcomer.version, 0), counts.get(serving.version, 0)
    if mine != theirs:
        return newcomer if mine > theirs else serving
    try:
        return newcomer if (newcomer.root / MANIFEST).stat().st_ctime_ns < (serving.root / MANIFEST).stat().st_ctime_ns \
            else serving
    except OSError:
        return serving


def _learners_phrase(pack: Pack, counts: dict[str, int]) -> str:
    count = counts.get(pack.version, 0)
    return f"{count} learner{'' if count == 1 else 's'} on version {pack.version}"


def _duplicate_reason(loser: Pack, loser_source: str, keeper: Pack, keeper_source: str,
                      counts: dict[str, int]) -> str:
    return (f"two distributions use the id {loser.id!r}: {distribution_of(keeper_source)} at {keeper.root} "
            f"({_learners_phrase(keeper, counts)}) keeps serving it, and {distribution_of(loser_source)} at "
            f"{loser.root} ({_learners_phrase(loser, counts)}) is set aside. Give one of them another id, "
            "or uninstall one")


def _distribution(source: str):
    """The installed distribution behind a pack plugin (named `group:entry point`), or None."""
    from importlib.metadata import entry_points

    group, _, name = source.rpartition(":")
    for ep in entry_points(group=group or "portal.content_packs.v1"):
        if ep.name == name and ep.dist is not None:
            return ep.dist
    return None


def distribution_of(source: str) -> str:
    """The installed distribution (name and version) behind a pack plugin, for messages."""
    dist = _distribution(source)
    if dist is None:
        return f"the plugin {source}"
    return f"the distribution {dist.metadata['Name']} {dist.version} (plugin {source})"


def stale_install(pack: Pack, source: str) -> str | None:
    """An editable install keeps the version it was installed with: say so when the manifest has
    moved on, or the log and the pack name different versions."""
    from packaging.version import InvalidVersion, Version

    dist = _distribution(source)
    if dist is None:
        return None
    try:
        same = Version(dist.version) == Version(pack.version)
    except InvalidVersion:
        same = dist.version == pack.version
    if same:
        return None
    return (f"content pack {pack.id} is version {pack.version} but its installed distribution "
            f"{dist.metadata['Name']} says {dist.version}: install it again (pip install -e <its folder>, "
            "or make run) so that both agree")


def learner_counts(database, pack_id: str) -> dict[str, int]:
    """Enrollments per version of `pack_id`; empty when the database cannot say (not yet upgraded)."""
    from sqlalchemy import func
    from sqlmodel import select

    from portal.learning.models import Enrollment

    try:
        with database.session() as session:
            rows = session.exec(select(Enrollment.pack_version, func.count()).where(Enrollment.pack_id == pack_id)
                                .group_by(Enrollment.pack_version)).all()
        return {version: count for version, count in rows}
    except Exception as error:  # noqa: BLE001 - no tables yet: nobody has learners
        log.warning("could not count learners of %s: %s", pack_id, error)
        return {}


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
                                  files_base(pack), doc_dir, pack.language)


def render_description(pack: Pack) -> str:
    return render_markdown_cached((pack.id, pack.version, "description"), pack.description, files_base(pack), "")


__all__ = ["DisabledPack", "PackRegistry", "Problem", "files_base", "load_registry", "render_description",
           "render_lesson"]
