"""What a loaded pack is: read-only data, built from its manifest and files."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

KINDS = ("course", "video-series", "in-person")
KIND_LABELS = {"course": "Online course", "video-series": "Video series", "in-person": "In-person course"}
QUESTION_TYPES = ("single", "multiple", "true_false")
ACCREDITATION_STATUSES = ("approved", "pending", "expired")
MIN_PASS_MARK = 80


@dataclass(frozen=True)
class Provider:
    name: str
    website: str
    contact: str


@dataclass(frozen=True)
class Video:
    file: str | None
    url: str | None
    captions: str | None
    transcript: str | None
    poster: str | None
    light: str | None
    duration_seconds: int | None
    renditions: tuple[tuple[str, int], ...] = ()  # (file, height in pixels), smallest first
    poster_sources: tuple[str, ...] = ()  # the poster in modern formats, best first

    def files(self) -> tuple[str, ...]:
        """Every pack file this video uses."""
        return tuple(f for f in (self.file, self.captions, self.transcript, self.poster, self.light,
                                 *(r[0] for r in self.renditions), *self.poster_sources) if f)

    def poster_for(self, accept: str) -> str | None:
        """The poster for a browser whose page request sent this Accept header: the first of the
        modern formats it names (a poster attribute takes one URL, no <picture>), else `poster`."""
        for source in self.poster_sources:
            if mimetypes.guess_type(source)[0] in accept:
                return source
        return self.poster or (self.poster_sources[-1] if self.poster_sources else None)


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    file: str
    minutes: int
    body: str
    video: Video | None = None
    summary: str = ""
    discussion_prompts: tuple[str, ...] = ()
    min_minutes: int | None = None  # least time on the page before the lesson can be marked complete
    media: tuple[Video, ...] = ()  # videos placed in the lesson's Markdown (```video fences)
    images: tuple[str, ...] = ()  # images placed in the lesson's Markdown, served without being downloads
    package: object | None = None  # a cmi5 AU or SCORM 1.2 SCO (portal.standards.pack_lessons.PackageLesson)


@dataclass(frozen=True)
class Download:
    id: str
    title: str
    file: str
    size: int
    content_type: str


@dataclass(frozen=True)
class Choice:
    id: str
    text: str
    correct: bool


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    text: str
    use: tuple[str, ...]
    choices: tuple[Choice, ...]
    feedback: str = ""

    @property
    def correct_ids(self) -> frozenset[str]:
        return frozenset(c.id for c in self.choices if c.correct)


@dataclass(frozen=True)
class Accreditation:
    state: str
    body: str
    status: str
    number: str
    credit_hours: float
    valid_from: date | None
    valid_through: date | None

    @property
    def statement(self) -> str:
        return f"{self.body} {'Approved Course' if self.status == 'approved' else self.status.title()}"


@dataclass(frozen=True)
class InPersonSession:
    location: str
    starts: date
    ends: date


@dataclass(frozen=True)
class InPerson:
    registration_url: str
    sessions: tuple[InPersonSession, ...] = ()


@dataclass(frozen=True)
class Resource:
    """An external resource for the library: a link with a title and a description."""

    title: str
    description: str
    url: str
    topics: tuple[str, ...] = ()
    source: str = ""


@dataclass(frozen=True)
class Change:
    """What changed in one version of a pack (the manifest's `changelog`)."""

    version: str
    changes: tuple[str, ...]


@dataclass(frozen=True)
class Pack:
    id: str
    version: str
    title: str
    provider: Provider
    kind: str
    summary: str
    description: str
    topics: tuple[str, ...]
    audience: tuple[str, ...]
    estimated_hours: float
    language: str
    portal_versions: str
    pass_mark: int
    lessons: tuple[Lesson, ...]
    downloads: tuple[Download, ...]
    questions: tuple[Question, ...]
    pre_draw: int
    post_draw: int
    accreditation: tuple[Accreditation, ...]
    in_person: InPerson | None
    root: Path = field(compare=False)
    resources: tuple[Resource, ...] = ()
    changelog: tuple[Change, ...] = ()
    shuffle_questions: bool = True
    shuffle_choices: bool = True
    post_cooldown_minutes: int = 10
    post_attempts_per_day: int = 3

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def is_course(self) -> bool:
        return self.kind == "course"

    def lesson(self, lesson_id: str) -> Lesson | None:
        return next((lesson for lesson in self.lessons if lesson.id == lesson_id), None)

    def questions_for(self, use: str) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if use in q.use)

    def public_files(self) -> set[str]:
        """Files a browser may fetch: media and downloads, never Markdown or question banks."""
        files = {d.file for d in self.downloads}
        for lesson in self.lessons:
            for video in ((lesson.video,) if lesson.video else ()) + lesson.media:
                files.update(video.files())
            files.update(lesson.images)
        return files

    def changes_since(self, version: str) -> tuple[Change, ...]:
        """Changelog entries newer than `version` (the one a learner started on), newest first."""
        from packaging.version import InvalidVersion, Version

        try:
            started = Version(version)
            return tuple(c for c in self.changelog if Version(c.version) > started)
        except InvalidVersion:
            return ()

    def media_bytes(self) -> int:
        """Total size of everything a learner could download: videos and downloads."""
        return sum((self.root / f).stat().st_size for f in self.public_files())
