"""Docs and code agree: every hook is documented, and the entry-point groups the docs
name are the ones the code loads and the bundled packs declare."""

from __future__ import annotations

import inspect
import re
import tomllib
from pathlib import Path

from portal.plugins import CONTENT_PACKS_GROUP, FEATURE_PLUGINS_GROUP, hookspecs

ROOT = Path(__file__).resolve().parent.parent
HOOKS_DOC = (ROOT / "docs" / "hooks.md").read_text()
PACKS_DOC = (ROOT / "docs" / "content-packs.md").read_text()


def spec_names() -> set[str]:
    return {name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("portal_")}


def test_every_hook_is_documented_and_every_documented_hook_exists():
    documented = set(re.findall(r"^### (portal_\w+)$", HOOKS_DOC, re.M))
    assert documented == spec_names()


def test_every_hook_has_a_docstring_and_the_portal_prefix():
    for name, fn in inspect.getmembers(hookspecs, inspect.isfunction):
        if fn.__module__ == hookspecs.__name__:
            assert name.startswith("portal_"), name
            assert (fn.__doc__ or "").strip(), f"{name} has no docstring"


def test_documented_signatures_match_the_code():
    for name in spec_names():
        params = list(inspect.signature(getattr(hookspecs, name)).parameters)
        match = re.search(rf"^`{name}\(([^)]*)\)", HOOKS_DOC, re.M)
        assert match, f"{name} has no signature line in docs/hooks.md"
        documented = [p.strip() for p in match.group(1).split(",") if p.strip()]
        assert documented == params, name


def test_entry_point_groups_in_docs_are_the_ones_the_code_loads():
    groups = set(re.findall(r"`(portal\.[a-z_]+\.v\d+)`", HOOKS_DOC))
    assert groups == {CONTENT_PACKS_GROUP, FEATURE_PLUGINS_GROUP}
    assert CONTENT_PACKS_GROUP in PACKS_DOC


def test_bundled_distributions_declare_the_groups_the_code_loads():
    for pyproject in sorted((ROOT / "content_packs").glob("*/pyproject.toml")):
        entry_points = tomllib.loads(pyproject.read_text())["project"]["entry-points"]
        assert set(entry_points) == {CONTENT_PACKS_GROUP}, pyproject
    for pyproject in sorted((ROOT / "plugins").glob("*/pyproject.toml")):
        entry_points = tomllib.loads(pyproject.read_text())["project"]["entry-points"]
        assert set(entry_points) == {FEATURE_PLUGINS_GROUP}, pyproject
