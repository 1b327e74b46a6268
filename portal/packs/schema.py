"""The typed schema of a pack's YAML files: every key a manifest or question bank may hold.

`check_manifest` and `check_bank` read a document (loaded by `authored_yaml`) through these
models and turn what pydantic finds into `Problem`s with file, line and a fix: an unknown
key gets "did you mean …", a text cut at a comma in `{…}` says to quote it, and a scalar
YAML tools read differently (`0417`, `1.10`, `No`) is read as the text the author typed,
with a warning to quote it.

Extending: add the key to the model with a type and a default; the Pack model
(`model.py`) and `validate.py` take the value from the validated model. A new kind of
lesson content (beside `file:`, for example `cmi5:`) is an optional field on `LessonEntry` plus
its name in `LESSON_SOURCES`; `validate._lessons` then accepts a lesson without `file:` that
names it, refuses one naming two sources, and is where the new kind's own checks are called.
"""

from __future__ import annotations

import difflib
import types
import typing
from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, ValidationInfo
from pydantic_core import PydanticCustomError

from portal.packs.authored_yaml import AuthoredFloat, AuthoredInt, AuthoredText

# Keys a lesson may use to say where its content comes from; exactly one per lesson.
LESSON_SOURCES: tuple[str, ...] = ("file", "cmi5", "scorm")  # cmi5/scorm: portal/standards/pack_lessons.py


def _as_text(value: Any, info: ValidationInfo) -> Any:
    if isinstance(value, bool):
        raise PydanticCustomError("authored", "must be text, not {value}: put it in quotes, \"{value}\"",
                                  {"value": str(value).lower()})
    if isinstance(value, (AuthoredFloat, AuthoredText)) and info.context is not None:
        if isinstance(value, AuthoredFloat) or value.note:
            info.context.setdefault("read_as_text", []).append(value)
    if isinstance(value, (int, float, date)):
        return str(value)
    return value


def _as_whole(value: Any) -> Any:
    if isinstance(value, AuthoredText) and value.note:
        raise PydanticCustomError("authored", "must be a whole number: {note}; write it without a leading "
                                  "zero or other marks", {"note": value.note})
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()) or isinstance(value, str):
        raise PydanticCustomError("authored", "must be a whole number like 10, not {value!r}", {"value": value})
    return value


def _as_number(value: Any) -> Any:
    if isinstance(value, AuthoredText) and value.note:
        raise PydanticCustomError("authored", "must be a number: {note}; write it like 1.5",
                                  {"note": value.note})
    if isinstance(value, (bool, str)):
        raise PydanticCustomError("authored", "must be a number like 1.5, not {value!r}", {"value": value})
    return value


def _as_flag(value: Any) -> Any:
    if not isinstance(value, bool):
        raise PydanticCustomError("authored", "must be true or false (without quotes), not {value!r}",
                                  {"value": str(value)})
    return value


def _as_day(value: Any) -> Any:
    if isinstance(value, AuthoredText) and value.note:
        raise PydanticCustomError("authored", "{value} is not a day in the calendar: write a real date "
                                  "like 2026-02-28", {"value": str(value)})
    if not isinstance(value, date):
        raise PydanticCustomError("authored", "must be a date like 2026-01-31, not {value!r}", {"value": str(value)})
    return value


Text = Annotated[str, BeforeValidator(_as_text)]
Whole = Annotated[int, BeforeValidator(_as_whole)]
Number = Annotated[float, BeforeValidator(_as_number)]
Flag = Annotated[bool, BeforeValidator(_as_flag)]
Day = Annotated[date, BeforeValidator(_as_day)]


class Entry(BaseModel):
    """A mapping in a pack file: unknown keys are errors, never silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ProviderEntry(Entry):
    name: Text | None = None
    website: Text | None = None
    contact: Text | None = None


class Rendition(Entry):
    """A further video file at a known height, offered where the screen is that big."""

    file: Text
    height: Whole


class VideoEntry(Entry):
    file: Text | None = None
    url: Text | None = None
    captions: Text | None = None
    transcript: Text | None = None
    poster: Text | None = None
    poster_sources: list[Text] = Field(default_factory=list)  # the poster in AVIF, WebP…, best first
    light: Text | None = None
    renditions: list[Rendition] = Field(default_factory=list)
    duration_seconds: Whole | None = None


class LessonVideoEntry(VideoEntry):
    """A video placed in a lesson's Markdown by a ```video fence; paths are relative to the lesson."""

    title: Text | None = None


class LessonEntry(Entry):
    id: Text | None = None
    title: Text | None = None
    file: Text | None = None
    minutes: Whole | None = None
    min_minutes: Whole | None = None  # least time on the lesson page before it can be marked complete
    video: VideoEntry | None = None
    summary: Text | None = None
    discussion_prompts: list[Text] = Field(default_factory=list)
    cmi5: dict[str, Any] | None = None  # {package: <zip in the pack>, au: <AU id>}
    scorm: dict[str, Any] | None = None  # {package: <zip in the pack>, sco: <item identifier>}


class DownloadEntry(Entry):
    id: Text | None = None
    title: Text | None = None
    file: Text | None = None


class PreTestEntry(Entry):
    draw: Whole | None = None


class PostTestEntry(Entry):
    draw: Whole | None = None
    cooldown_minutes: Whole = 10
    attempts_per_day: Whole = 3


class AssessmentsEntry(Entry):
    bank: Text | None = None
    pre: PreTestEntry | None = None
    post: PostTestEntry | None = None
    shuffle_questions: Flag = True
    shuffle_choices: Flag = True


class AccreditationEntry(Entry):
    state: Text | None = None
    body: Text | None = None
    status: Text | None = None
    number: Text | None = None
    credit_hours: Number | None = None
    valid_from: Day | None = None
    valid_through: Day | None = None


class SessionEntry(Entry):
    location: Text | None = None
    starts: Day | None = None
    ends: Day | None = None


class InPersonEntry(Entry):
    registration_url: Text | None = None
    sessions: list[SessionEntry] = Field(default_factory=list)


class ResourceEntry(Entry):
    title: Text | None = None
    description: Text | None = None
    url: Text | None = None
    topics: list[Text] = Field(default_factory=list)


class ChangelogEntry(Entry):
    """What changed in one version, shown to learners part-way through the course."""

    version: Text
    changes: list[Text] = Field(min_length=1)


class Manifest(Entry):
    format: Whole | None = None
    id: Text | None = None
    version: Text | None = None
    title: Text | None = None
    provider: ProviderEntry | None = None
    kind: Text | None = None
    summary: Text | None = None
    description: Text | None = None
    topics: list[Text] = Field(default_factory=list)
    audience: list[Text] = Field(default_factory=list)
    estimated_hours: Number | None = None
    language: Text | None = None
    portal_versions: Text | None = None
    pass_mark: Whole = 80
    lessons: list[LessonEntry] | None = None
    episodes: list[LessonEntry] | None = None
    downloads: list[DownloadEntry] = Field(default_factory=list)
    assessments: AssessmentsEntry | None = None
    accreditation: list[AccreditationEntry] = Field(default_factory=list)
    in_person: InPersonEntry | None = None
    resources: list[ResourceEntry] = Field(default_factory=list)
    changelog: list[ChangelogEntry] = Field(default_factory=list)


class ChoiceEntry(Entry):
    id: Text | None = None
    text: Text | None = None
    correct: Flag = False


class QuestionEntry(Entry):
    id: Text | None = None
    use: list[Text] = Field(default_factory=list)
    type: Text | None = None
    text: Text | None = None
    choices: list[ChoiceEntry] | None = None
    answer: Any = None  # true/false questions; validate.py explains a wrong value
    feedback: Text | None = None


class QuestionBank(Entry):
    questions: list[QuestionEntry] | None = None


# -- turning pydantic's findings into problems ---------------------------------------

class Finding(typing.NamedTuple):
    """One thing the schema found: where (key path), what, and whether it only warns."""

    path: tuple
    message: str
    warning: bool = False


def check_manifest(data: Any, cut_keys: dict[tuple, str]) -> tuple[Manifest | None, list[Finding]]:
    return _check(Manifest, data, cut_keys)


def check_bank(data: Any, cut_keys: dict[tuple, str]) -> tuple[QuestionBank | None, list[Finding]]:
    return _check(QuestionBank, data, cut_keys)


def check_video_fence(data: Any, cut_keys: dict[tuple, str]) -> tuple[LessonVideoEntry | None, list[Finding]]:
    return _check(LessonVideoEntry, data, cut_keys)


def _check(model: type[Entry], data: Any, cut_keys: dict[tuple, str]):
    if not isinstance(data, dict):
        return None, []  # validate.py says "must be a mapping"
    context: dict = {}
    findings: list[Finding] = []
    try:
        parsed = model.model_validate(data, context=context)
    except ValidationError as error:
        parsed = None
        for item in error.errors():
            findings.append(_finding(model, item, cut_keys))
    findings.extend(_read_as_text(data, context.get("read_as_text", [])))
    return parsed, findings


def _finding(model: type[Entry], item: dict, cut_keys: dict[tuple, str]) -> Finding:
    loc = tuple(part for part in item["loc"] if not _is_union_tag(part))
    where = dotted(loc)
    kind = item["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        if loc in cut_keys:
            return Finding(loc, f"{dotted(loc[:-1])}: the text after a comma became a key of its own "
                                f"({key!r}): inside {{…}} a comma ends a value. Put the whole text in quotes, "
                                f"like text: \"…, {key}\"")
        allowed = sorted(_fields_at(model, loc[:-1]))
        close = difflib.get_close_matches(key, allowed, n=2, cutoff=0.6)
        hint = ("did you mean " + " or ".join(f"`{name}`" for name in close) + "?" if close
                else f"the keys allowed here are: {', '.join(allowed)}")
        return Finding(loc, f"{where} is not a key the portal reads ({hint}); rename or remove it")
    if kind == "missing":
        return Finding(loc, f"{where} is required")
    if kind in ("list_type", "too_short"):
        return Finding(loc, f"{where} must be a list" + (" with at least one entry" if kind == "too_short" else ""))
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return Finding(loc, f"{where} must be a mapping of keys to values")
    if kind == "string_type":
        return Finding(loc, f"{where} must be text")
    return Finding(loc, f"{where}: {item['msg']}")


def _is_union_tag(part) -> bool:
    """A step pydantic adds to a location inside a validator union, never a key an author wrote."""
    return isinstance(part, str) and part.startswith(("function-before[", "function-after[", "function-wrap["))


def _fields_at(model: type[Entry], loc: tuple) -> set[str]:
    """The keys allowed in the mapping at `loc` of a `model` document."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)) or part not in current.model_fields:
            return set()
        current = _entry_type(current.model_fields[part].annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return set(current.model_fields)
    return set()


def _entry_type(annotation: Any) -> Any:
    """The Entry model inside `X | None`, `list[X]` or `Annotated[X, …]`, else the annotation."""
    for arg in typing.get_args(annotation) or ():
        found = _entry_type(arg)
        if isinstance(found, type) and issubclass(found, BaseModel):
            return found
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, list):
        return None
    return annotation


def _read_as_text(data: Any, values: list) -> list[Finding]:
    """Warnings for scalars the portal read as the author's text where YAML 1.1 reads something else."""
    wanted = {id(value): value for value in values}
    found: list[Finding] = []

    def walk(node, path):
        if id(node) in wanted:
            value = wanted.pop(id(node))
            why = value.note if isinstance(value, AuthoredText) else f"YAML reads {value.source} as the number {float(value):g}"
            key = path[-1] if path and isinstance(path[-1], str) else "text"
            found.append(Finding(path, f"{dotted(path)}: {why}. The portal reads it as the text \"{value!s}\"; "
                                       f"put it in quotes so every tool agrees: {key}: \"{value!s}\"", True))
        elif isinstance(node, dict):
            for key, child in node.items():
                walk(child, path + (key,))
        elif isinstance(node, list):
            for index, child in enumerate(node):
                walk(child, path + (index,))

    walk(data, ())
    return found


def dotted(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "the document"
