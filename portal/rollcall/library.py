"""The resource library: operators' entries, pack entries and plugin entries, searchable."""

from __future__ import annotations

import re
from pathlib import Path

from portal.packs.loader import Problem, _Checker, _read_yaml
from portal.packs.model import Pack, Resource
from portal.packs.validate import resources_from

DEFAULT_RESOURCES = Path(__file__).with_name("resources.yaml")
_WORD = re.compile(r"[a-z0-9]+")


class ResourceFileInvalid(Exception):
    pass


def load_operator_resources(path: Path) -> list[Resource]:
    """Read the operators' file; a broken file stops start-up, naming the line."""
    problems: list[Problem] = []
    data, lines = _read_yaml(path, problems, str(path))
    resources = []
    if data is not None:
        checker = _Checker(path.parent, str(path), lines, problems, 1 << 30)
        resources = resources_from(checker, checker.mapping(data, ()), source="Portal resources")
    if problems:
        raise ResourceFileInvalid("resource library file is invalid:\n" + "\n".join(f"  {p}" for p in problems))
    return resources


def _safe_url(url: str) -> bool:
    return url.lower().startswith(("https://", "http://"))


def plugin_resources(results: list) -> list[Resource]:
    found = []
    for result in results:
        for item in result or []:
            if not _safe_url(str(item.get("url", ""))):
                raise ResourceFileInvalid(f"a plugin's resource {item.get('title')!r} has a url that is not "
                                          f"http or https: {item.get('url')!r}")
            found.append(Resource(str(item["title"]), str(item.get("description", "")), str(item["url"]),
                                  tuple(item.get("topics", ())), str(item.get("source", ""))))
    return found


def all_resources(operators: list[Resource], packs: list[Pack], plugins: list[Resource]) -> list[Resource]:
    """Every resource once (by URL), operators' first, sorted by title."""
    seen, merged = set(), []
    for resource in [*operators, *(r for p in packs for r in p.resources), *plugins]:
        key = resource.url.rstrip("/").lower()
        if key not in seen:
            seen.add(key)
            merged.append(resource)
    return sorted(merged, key=lambda r: r.title.lower())


def search_resources(resources: list[Resource], words: str, topic: str = "") -> list[Resource]:
    terms = _WORD.findall((words or "").lower())
    found = []
    for resource in resources:
        if topic and topic.lower() not in (t.lower() for t in resource.topics):
            continue
        vocabulary = set(_WORD.findall(" ".join([resource.title, resource.description, *resource.topics]).lower()))
        if all(any(v.startswith(t) for v in vocabulary) for t in terms):
            found.append(resource)
    return found
