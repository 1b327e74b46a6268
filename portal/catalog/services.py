"""Catalog search over the installed packs. Packs live in memory, so this is plain Python."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from portal.packs.model import KIND_LABELS, Accreditation, Pack

_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class CatalogQuery:
    words: str = ""
    topic: str = ""
    provider: str = ""
    kind: str = ""
    state: str = ""

    @classmethod
    def from_args(cls, args) -> "CatalogQuery":
        def arg(name, limit=100):
            return " ".join(str(args.get(name, "") or "").split())[:limit]
        return cls(arg("q", 200), arg("topic"), arg("provider"), arg("kind", 20), arg("state", 2).upper())

    def is_empty(self) -> bool:
        return not any((self.words, self.topic, self.provider, self.kind, self.state))


@dataclass
class Facets:
    topics: list[str] = field(default_factory=list)
    providers: list[str] = field(default_factory=list)
    kinds: list[tuple[str, str]] = field(default_factory=list)
    states: list[str] = field(default_factory=list)


@lru_cache(maxsize=512)
def _search_text(pack: Pack) -> frozenset[str]:
    text = " ".join([pack.title, pack.summary, pack.description, pack.provider.name, *pack.topics, *pack.audience,
                     *(lesson.title for lesson in pack.lessons),
                     *(f"{a.body} {a.state}" for a in pack.accreditation)])
    return frozenset(_WORD.findall(text.lower()))


@lru_cache(maxsize=512)
def media_size(pack: Pack) -> int:
    """Bytes a learner could download from this pack (videos and downloads)."""
    return pack.media_bytes()


def approval_status(entry: Accreditation, day: date) -> str:
    """"approved" only while the approval is valid on `day`; an approval past its
    valid_through is "expired", one whose valid_from is still ahead "not yet valid"."""
    if entry.status != "approved":
        return entry.status
    if entry.valid_through is not None and day > entry.valid_through:
        return "expired"
    if entry.valid_from is not None and day < entry.valid_from:
        return "not yet valid"
    return "approved"


def approved_states(pack: Pack, day: date) -> list[str]:
    return sorted(a.state for a in pack.accreditation if approval_status(a, day) == "approved")


def search(packs: list[Pack], query: CatalogQuery, day: date) -> list[Pack]:
    """Packs matching every word (as word prefixes) and every chosen filter."""
    words = _WORD.findall(query.words.lower())
    results = []
    for pack in packs:
        if query.topic and query.topic.lower() not in (t.lower() for t in pack.topics):
            continue
        if query.provider and query.provider != pack.provider.name:
            continue
        if query.kind and query.kind != pack.kind:
            continue
        if query.state and query.state not in approved_states(pack, day):
            continue
        vocabulary = _search_text(pack)
        if words and not all(any(term.startswith(w) for term in vocabulary) for w in words):
            continue
        results.append(pack)
    return results


def facets(packs: list[Pack], day: date) -> Facets:
    return Facets(
        topics=sorted({t for p in packs for t in p.topics}, key=str.lower),
        providers=sorted({p.provider.name for p in packs}, key=str.lower),
        kinds=[(k, label) for k, label in KIND_LABELS.items() if any(p.kind == k for p in packs)],
        states=sorted({s for p in packs for s in approved_states(p, day)}),
    )


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1048576:.1f} MB"
