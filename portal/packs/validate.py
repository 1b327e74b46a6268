"""Build a `Pack` from a folder, recording every problem found on the way."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path, PurePosixPath

import yaml
from packaging.version import InvalidVersion, Version

from portal.common.markdown import VIDEO_FENCE
from portal.packs import active_content
from portal.packs.authored_yaml import compose, load_authored
from portal.packs.loader import (_dotted, ACCREDITATION_STATUSES, KINDS, MANIFEST, MIN_PASS_MARK, QUESTION_TYPES,
                                 Accreditation, Choice, Download, InPerson, InPersonSession, Lesson, Pack,
                                 Problem, Provider, Question, Resource, Video, _Checker, _Lines, _normalise, _read_yaml, _scanner, check_markdown,
                                 content_type_of, version_problems)
from portal.packs.media import caption_problems, content_problem, download_problem
from portal.packs.model import Change
from portal.packs.schema import LESSON_SOURCES, Manifest, check_bank, check_manifest, check_video_fence
from portal.standards.pack_lessons import package_lesson

STATE_CODES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND "
    "OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY AS GU MP PR VI".split())


# Checks every download must pass: each takes (the file on disk, its path in the pack) and returns
# why the file cannot be offered, or None. Add a check here to refuse another kind of file.
DOWNLOAD_CHECKS: list[Callable[[Path, str], str | None]] = [active_content.active_content_problem,
                                                             download_problem]


ALL_THAT_APPLY = re.compile(r"\b(choose|select|check|mark|pick|tick) all (that|which) apply\b", re.I)


def _outside(name: str) -> bool:
    return name.startswith("/") or ".." in PurePosixPath(name).parts


def build_pack(root: Path, portal_version: str, problems: list[Problem], max_file_bytes: int,
               warnings: list[Problem] | None = None) -> Pack | None:
    """The pack in `root`, or None with every error in `problems` (and doubts in `warnings`)."""
    data, lines = _read_yaml(root / MANIFEST, problems, MANIFEST)
    if data is None:
        if not problems:
            problems.append(Problem(MANIFEST, None, "the manifest is empty"))
        return None
    c = _Checker(root, MANIFEST, lines, problems, max_file_bytes)
    data = c.mapping(data, ())
    if not data:
        return None
    manifest, findings = check_manifest(data, lines.cut_keys)
    pack = _build(root, portal_version, c, data, manifest, problems, max_file_bytes, warnings)
    add_findings(problems, warnings, findings, MANIFEST, lines)
    return None if problems else pack


def add_findings(problems: list[Problem], warnings: list[Problem] | None, findings, rel: str, lines) -> None:
    """The schema's findings, except where the checks below already said something about that key."""
    said = {p.key for p in problems if p.file == rel}
    for finding in findings:
        if finding.warning:
            if warnings is not None:
                warnings.append(Problem(rel, lines(*finding.path), finding.message, True, key=finding.path))
        elif finding.path not in said:
            problems.append(Problem(rel, lines(*finding.path), finding.message, key=finding.path))


def _build(root: Path, portal_version: str, c: _Checker, data: dict, manifest: Manifest | None,
           problems: list[Problem], max_file_bytes: int, warnings: list[Problem] | None) -> Pack | None:
    if data.get("format") != 1:
        c.fail(("format",), "format must be 1 (the pack format this portal reads)")
    pack_id = c.ident(data, (), set())
    version = c.text(data, "version", ())
    try:
        Version(version) if version else None
    except InvalidVersion:
        c.fail(("version",), f"version {version!r} is not a version number like 1.0.0")
    _check_distribution_version(root, c, version)
    kind = c.text(data, "kind", ())
    if kind and kind not in KINDS:
        c.fail(("kind",), f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    provider_data = c.mapping(data.get("provider"), ("provider",))
    provider = Provider(c.text(provider_data, "name", ("provider",)),
                        c.text(provider_data, "website", ("provider",)),
                        c.text(provider_data, "contact", ("provider",)))
    if provider.website and not provider.website.startswith("https://"):
        c.fail(("provider", "website"), "provider.website must be an https:// address")
    portal_versions = c.text(data, "portal_versions", ())
    if portal_versions and (message := version_problems(portal_versions, portal_version)):
        c.fail(("portal_versions",), message)
    pass_mark = data.get("pass_mark", MIN_PASS_MARK)
    if isinstance(pass_mark, bool) or not isinstance(pass_mark, int) or not MIN_PASS_MARK <= pass_mark <= 100:
        c.fail(("pass_mark",), f"pass_mark must be a whole percentage from {MIN_PASS_MARK} to 100")
        pass_mark = MIN_PASS_MARK
    description = c.text(data, "description", (), max_len=20000)
    title = c.text(data, "title", (), max_len=200)
    summary = c.text(data, "summary", (), max_len=300)
    language = c.text(data, "language", (), max_len=20)
    estimated_hours = c.number(data, "estimated_hours", ())
    topics, audience = c.strings(data, "topics", ()), c.strings(data, "audience", ())

    downloads = _downloads(c, data)
    public = {d.file for d in downloads}
    lessons_key = "episodes" if kind == "video-series" else "lessons"
    if kind == "video-series" and data.get("lessons"):
        c.fail(("lessons",), "a video-series lists `episodes`, not `lessons`")
    lessons = _lessons(root, c, data, lessons_key, kind, problems, public)
    questions, pre_draw, post_draw = _assessments(root, c, data, kind, problems, max_file_bytes, warnings)
    accreditation = _accreditation(c, data)
    in_person = _in_person(c, data, kind)
    resources = resources_from(c, data, source=title)
    if description:
        _markdown_in_yaml(root, c, ("description",), description, problems, public)
    if manifest is not None and version:
        _check_changelog(c, version, manifest)
    if kind == "course" and lessons and estimated_hours:
        _check_hours(c, float(estimated_hours), sum(lesson.minutes for lesson in lessons), accreditation, warnings)
    if kind == "course" and not lessons:
        c.fail(("lessons",), "a course needs at least one lesson")
    if kind == "video-series" and not lessons:
        c.fail(("episodes",), "a video series needs at least one episode")
    if problems or manifest is None:
        return None
    tests = manifest.assessments
    return Pack(
        id=pack_id, version=version, title=title, provider=provider, kind=kind, summary=summary,
        description=description, topics=topics, audience=audience, estimated_hours=float(estimated_hours or 0),
        language=language, portal_versions=portal_versions, pass_mark=pass_mark,
        lessons=tuple(lessons), downloads=tuple(downloads), questions=tuple(questions), pre_draw=pre_draw,
        post_draw=post_draw, accreditation=tuple(accreditation), in_person=in_person, root=root,
        resources=tuple(resources),
        changelog=tuple(Change(entry.version, tuple(entry.changes)) for entry in manifest.changelog),
        shuffle_questions=tests.shuffle_questions if tests else True,
        shuffle_choices=tests.shuffle_choices if tests else True,
        post_cooldown_minutes=tests.post.cooldown_minutes if tests and tests.post else 10,
        post_attempts_per_day=tests.post.attempts_per_day if tests and tests.post else 3,
    )


def _check_changelog(c: _Checker, version: str, manifest: Manifest) -> None:
    """Each changelog entry names a real version no newer than the pack's, once."""
    seen = set()
    for index, entry in enumerate(manifest.changelog):
        path = ("changelog", index, "version")
        try:
            if Version(entry.version) > Version(version):
                c.fail(path, f"changelog version {entry.version} is newer than the pack's version {version}")
        except InvalidVersion:
            c.fail(path, f"changelog version {entry.version!r} is not a version number like 1.1.0")
        if entry.version in seen:
            c.fail(path, f"changelog lists version {entry.version} twice; put all its changes in one entry")
        seen.add(entry.version)


def _check_hours(c: _Checker, hours: float, lesson_minutes: int, accreditation: list[Accreditation],
                 warnings: list[Problem] | None) -> None:
    """The honor code and certificates print `estimated_hours` and each state's credit hours, so
    they must not claim less time than the lessons take, nor more credit than the course's time."""
    def warn(path: tuple, message: str) -> None:
        if warnings is not None:
            warnings.append(Problem(MANIFEST, c.lines(*path), message, True, key=path))

    if hours * 60 < lesson_minutes:
        least = math.ceil(lesson_minutes / 60 * 10) / 10
        c.fail(("estimated_hours",), f"estimated_hours is {hours:g} ({hours * 60:g} minutes) but the lessons' "
                                     f"minutes add up to {lesson_minutes}; certificates and the honor code print "
                                     f"this figure: raise it to at least {least:g} (the lessons plus the tests)")
    elif hours * 60 > 2 * lesson_minutes + 60:
        warn(("estimated_hours",), f"estimated_hours is {hours:g} but the lessons' minutes add up to only "
                                   f"{lesson_minutes} ({lesson_minutes / 60:.1f} hours); check both figures")
    for index, entry in enumerate(accreditation):
        path = ("accreditation", index, "credit_hours")
        if entry.credit_hours > hours:
            c.fail(path, f"credit_hours {entry.credit_hours:g} ({entry.state}) is more than the course's "
                         f"estimated_hours {hours:g}: a state awards credit for time spent; lower credit_hours or "
                         "raise estimated_hours")
        elif entry.credit_hours and entry.credit_hours < hours / 2:
            warn(path, f"credit_hours {entry.credit_hours:g} ({entry.state}) is less than half the course's "
                       f"estimated_hours {hours:g}; check the approval letter")


def has_heading(markdown: str) -> bool:
    return any(token.type == "heading_open" for token in _scanner.parse(markdown))


def _markdown_in_yaml(root, c: _Checker, path: tuple, text: str, problems: list[Problem], public: set[str]) -> None:
    found: list[Problem] = []
    check_markdown(root, MANIFEST, text, found, public)
    for problem in found:
        c.fail(path, f"{_dotted(path)}: {problem.message}")


def _downloads(c: _Checker, data: dict) -> list[Download]:
    downloads, seen = [], set()
    for index, item in enumerate(c.listing(data, "downloads", ())):
        path = ("downloads", index)
        item = c.mapping(item, path)
        if not item:
            continue
        ident = c.ident(item, path, seen)
        title = c.text(item, "title", path, max_len=200)
        file = c.file(item, "file", path)
        refused = [message for check in DOWNLOAD_CHECKS if file and (message := check(c.root / file, file))]
        for message in refused:
            c.fail(path + ("file",), f"{_dotted(path + ('file',))}: {message}")
        if not refused and ident and title and file:
            downloads.append(Download(ident, title, file, (c.root / file).stat().st_size, content_type_of(file)))
    return downloads


def _video(c: _Checker, item: dict, path: tuple) -> Video | None:
    if item.get("video") is None:
        return None
    path = path + ("video",)
    video = c.mapping(item["video"], path)
    file = c.file(video, "file", path, required=False)
    url = c.text(video, "url", path, required=False, max_len=500)
    if bool(video.get("file")) == bool(url):
        c.fail(path, f"{_dotted(path)} needs exactly one of `file` or `url`")
    if url and not url.startswith("https://"):
        c.fail(path + ("url",), "video.url must be an https:// address")
    captions = c.file(video, "captions", path, required=False)
    if video.get("file") and not video.get("captions"):
        c.fail(path, f"{_dotted(path)}: the video file {video.get('file')} has no captions; every video "
                     "file needs a WebVTT captions file: add `captions: media/<name>.vtt`")
    if captions:
        head = (c.root / captions).read_bytes()[:10].lstrip(b"\xef\xbb\xbf")
        if not captions.endswith(".vtt") or not head.startswith(b"WEBVTT"):
            c.fail(path + ("captions",), f"captions {captions} must be a WebVTT file starting with WEBVTT")
            captions = None  # the cues of a file that is not WebVTT are not worth reading
    duration = c.number(video, "duration_seconds", path, required=False, integer=True)
    if captions:
        c.problems.extend(caption_problems(c.root / captions, captions, duration))
    for key in ("file", "light", "poster"):
        name = video.get(key)
        if isinstance(name, str) and not _outside(name) and (c.root / name).is_file():
            if message := content_problem(c.root / name, name, "image" if key == "poster" else "video"):
                c.fail(path + (key,), message)
    renditions = []
    listed = video.get("renditions")  # the schema reports anything but a list
    for index, entry in enumerate(listed if isinstance(listed, list) else []):
        if isinstance(entry, dict) and (rendition := c.file(entry, "file", path + ("renditions", index))):
            if message := content_problem(c.root / rendition, rendition, "video"):
                c.fail(path + ("renditions", index, "file"), message)
            if isinstance(entry.get("height"), int) and entry["height"] > 0:
                renditions.append((rendition, int(entry["height"])))
    posters = []
    listed = video.get("poster_sources")  # the schema reports anything but a list of paths
    for index, name in enumerate(listed if isinstance(listed, list) else []):
        if (source := c.file(dict(enumerate(listed)), index, path + ("poster_sources",))) and \
                (message := content_problem(c.root / source, source, "image")):
            c.fail(path + ("poster_sources", index), message)
        elif source:
            posters.append(source)
    return Video(file, url or None, captions, c.file(video, "transcript", path, required=False),
                 c.file(video, "poster", path, required=False), c.file(video, "light", path, required=False),
                 duration, tuple(sorted(renditions, key=lambda r: r[1])), tuple(posters))


def _lessons(root, c: _Checker, data: dict, key: str, kind: str, problems, public: set[str]) -> list[Lesson]:
    lessons, seen = [], set()
    items = c.listing(data, key, (), required=kind in ("course", "video-series"))
    for index, item in enumerate(items):
        path = (key, index)
        item = c.mapping(item, path)
        if not item:
            continue
        ident = c.ident(item, path, seen)
        title = c.text(item, "title", path, max_len=200)
        # Where the lesson's content comes from: `file:` (Markdown) or another kind listed in
        # schema.LESSON_SOURCES, whose own checks run where it is read.
        sources = [name for name in LESSON_SOURCES if item.get(name) is not None]
        if len(sources) > 1:
            c.fail(path, f"{_dotted(path)} takes its content from one of {', '.join(LESSON_SOURCES)}, "
                         f"but names {' and '.join(sources)}; keep one")
        file = c.file(item, "file", path, required=not sources)
        package = package_lesson(c, item, path)  # a cmi5 AU or SCORM SCO: portal/standards/pack_lessons.py
        minutes = c.number(item, "minutes", path, required=kind == "course", integer=True)
        minutes = minutes or 1
        video = _video(c, item, path)
        if video:
            public.update(video.files())
        prompts = c.strings(item, "discussion_prompts", path, required=kind == "video-series")
        if kind == "video-series" and video is None:
            c.fail(path, f"episode {ident or index} needs a video")
        body = ""
        if file:
            try:
                body = (root / file).read_text(encoding="utf-8")
            except UnicodeDecodeError:
                problems.append(Problem(file, None, "lesson file is not UTF-8 text"))
        images, placed = _lesson_media(c, file, body) if file and body else ((), ())
        for video_in_flow in placed:
            public.update(video_in_flow.files())
        public.update(images)
        if kind == "video-series" and video and video.duration_seconds:
            minutes = max(1, round(video.duration_seconds / 60))
        least = item.get("min_minutes")
        if isinstance(least, int) and not isinstance(least, bool):
            if least < 0:
                c.fail(path + ("min_minutes",), f"{_dotted(path + ('min_minutes',))} must be 0 or more")
            elif least and package is not None:
                c.fail(path + ("min_minutes",), f"{_dotted(path + ('min_minutes',))}: a {sources[0]} lesson is "
                                                "complete when its package says so, so it takes no min_minutes; "
                                                "remove it")
            elif least > minutes:
                c.fail(path + ("min_minutes",), f"{_dotted(path + ('min_minutes',))} is {least} but the lesson "
                                                f"takes {minutes} minutes: a learner would have to wait longer than "
                                                "the lesson lasts; lower min_minutes or raise minutes")
        lessons.append(Lesson(ident, title, file or "", int(minutes),
                              body, video, c.text(item, "summary", path, required=False, max_len=500), prompts,
                              min_minutes=int(least) if isinstance(least, int) and not isinstance(least, bool)
                              else None, media=placed, images=images, package=package))
    for lesson in lessons:
        if lesson.file and lesson.body:
            check_markdown(root, lesson.file, lesson.body, problems, public)
            if not has_heading(lesson.body):
                problems.append(Problem(lesson.file, 1, f"this lesson has no heading: start it with a line like "
                                                        f"`# {lesson.title or 'Lesson title'}` (screen readers move "
                                                        "by headings, and learners skim by them)"))
    return lessons


def _lesson_media(c: _Checker, rel: str, body: str) -> tuple[tuple[str, ...], tuple[Video, ...]]:
    """Images (`![description](../media/x.png)`) and videos (```video fences) a lesson places in
    its text: each checked by content, and served without being listed as downloads."""
    base = PurePosixPath(rel).parent
    images: list[str] = []
    videos: list[Video] = []
    for token in _scanner.parse(body):
        line = token.map[0] + 1 if token.map else None
        if token.type == "fence" and token.info.strip() == VIDEO_FENCE:
            video = _fence_video(c, rel, base, line or 1, token.content)
            if video:
                videos.append(video)
        for child in token.children or []:
            target = str(child.attrGet("src") or "") if child.type == "image" else ""
            if not target or re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith(("/", "#")):
                continue
            resolved = _normalise((base / target.split("#", 1)[0].split("?", 1)[0]).as_posix())
            if not resolved or not (c.root / resolved).is_file():
                continue  # check_markdown reports the broken link
            if not child.content.strip():
                c.problems.append(Problem(rel, line, f"the image {target} needs a description for learners who "
                                                     f"cannot see it: ![what the picture shows]({target})"))
            if message := content_problem(c.root / resolved, target, "image"):
                c.problems.append(Problem(rel, line, message))
            else:
                images.append(resolved)
    return tuple(dict.fromkeys(images)), tuple(videos)


def _fence_video(c: _Checker, rel: str, base: PurePosixPath, line: int, content: str) -> Video | None:
    def fail(offset: int | None, message: str) -> None:
        c.problems.append(Problem(rel, line + (offset or 1), f"video: {message}"))

    try:
        node = compose(content)
        data = load_authored(content)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        fail(mark.line + 1 if mark else None, f"not valid YAML: {getattr(error, 'problem', error)}")
        return None
    lines = _Lines(node)
    if not isinstance(data, dict):
        fail(None, "write one `key: value` per line, starting with file: and captions:")
        return None
    entry, findings = check_video_fence(data, lines.cut_keys)
    for finding in findings:
        if not finding.warning:
            fail(lines(*finding.path), finding.message)
    if entry is None:
        return None
    if entry.url or not entry.file:
        fail(lines("file") or lines("url"), "a video in a lesson needs `file:` (a video file in the pack); "
                                             "link to a video elsewhere with an ordinary Markdown link")
        return None

    def resolve(key: str, role: str | None) -> str | None:
        value = getattr(entry, key)
        if not value:
            return None
        resolved = None if value.startswith("/") else _normalise((base / value).as_posix())
        if resolved is None:
            fail(lines(key), f"{key} {value} must be a path inside the pack, relative to this lesson")
            return None
        full = c.root / resolved
        if not full.is_file():
            fail(lines(key), f"{key} names a file that does not exist: {value} (paths here are relative to the "
                             f"lesson, like links: ../media/clip.mp4)")
            return None
        if full.stat().st_size > c.max_file_bytes:
            fail(lines(key), f"{value} is {full.stat().st_size / 1048576:.2f} MB, over the budget of "
                             f"{c.max_file_bytes / 1048576:.2f} MB for one file")
        if role and (message := content_problem(full, value, role)):
            fail(lines(key), message)
        return resolved

    file, captions = resolve("file", "video"), resolve("captions", None)
    if not entry.captions:
        fail(None, f"the video {entry.file} has no captions; every video needs a WebVTT captions file: add "
                   "`captions: ../media/<name>.vtt`")
    elif captions:
        if not captions.endswith(".vtt"):
            fail(lines("captions"), f"captions {entry.captions} must be a WebVTT (.vtt) file")
        else:
            c.problems.extend(caption_problems(c.root / captions, captions, entry.duration_seconds))
    light, poster, transcript = resolve("light", "video"), resolve("poster", "image"), resolve("transcript", None)
    if not (file and captions):
        return None
    return Video(file, None, captions, transcript, poster, light, entry.duration_seconds)


def _assessments(root, c: _Checker, data: dict, kind: str, problems, max_file_bytes, warnings=None):
    if kind != "course":
        if data.get("assessments"):
            c.fail(("assessments",), f"only a course has assessments; a {kind} pack must not list them")
        return [], 0, 0
    spec = c.mapping(data.get("assessments"), ("assessments",))
    if not spec:
        return [], 0, 0
    bank = c.file(spec, "bank", ("assessments",))
    before = len(problems)
    questions = _questions(root, bank, problems, max_file_bytes, warnings) if bank else []
    bank_ok = bank and len(problems) == before
    draws = {}
    for use in ("pre", "post"):
        part = c.mapping(spec.get(use), ("assessments", use))
        draw = c.number(part, "draw", ("assessments", use), integer=True, minimum=1) if part else None
        available = sum(1 for q in questions if use in q.use)
        if draw and bank_ok and draw > available:
            c.fail(("assessments", use, "draw"), f"assessments.{use}.draw is {draw} but the bank has only "
                                                 f"{available} {use} questions")
        draws[use] = int(draw or 0)
    return questions, draws["pre"], draws["post"]


def _questions(root: Path, bank: str, problems: list[Problem], max_file_bytes: int,
               warnings: list[Problem] | None = None) -> list[Question]:
    data, lines = _read_yaml(root / bank, problems, bank)
    if data is None:
        return []
    c = _Checker(root, bank, lines, problems, max_file_bytes)
    data = c.mapping(data, ())
    _, findings = check_bank(data, lines.cut_keys)
    questions = _question_list(c, data)
    add_findings(problems, warnings, findings, bank, lines)
    for index, question in enumerate(questions):
        if warnings is not None and question.type == "multiple" and ALL_THAT_APPLY.search(question.text):
            warnings.append(Problem(bank, lines("questions", index, "text"), "the portal already adds \"(Choose all "
                                    "that apply.)\" to every multiple-choice question; take it out of the text so "
                                    "learners do not read it twice", True))
    return questions


def _question_list(c: _Checker, data: dict) -> list[Question]:
    questions, seen = [], set()
    for index, item in enumerate(c.listing(data, "questions", (), required=True)):
        path = ("questions", index)
        item = c.mapping(item, path)
        if not item:
            continue
        ident = c.ident(item, path, seen)
        qtype = c.text(item, "type", path)
        text = c.text(item, "text", path, max_len=2000)
        use = c.strings(item, "use", path, required=True)
        if any(u not in ("pre", "post") for u in use):
            c.fail(path + ("use",), "use must be [pre], [post] or [pre, post]")
        choices = _choices(c, item, path, qtype)
        if qtype and qtype not in QUESTION_TYPES:
            c.fail(path + ("type",), f"type must be one of {', '.join(QUESTION_TYPES)}, not {qtype!r}")
        questions.append(Question(ident, qtype, text, use, tuple(choices),
                                  c.text(item, "feedback", path, required=False, max_len=2000)))
    return questions


def _choices(c: _Checker, item: dict, path: tuple, qtype: str) -> list[Choice]:
    if qtype == "true_false":
        answer = item.get("answer")
        if not isinstance(answer, bool):
            c.fail(path + ("answer",), "a true_false question needs `answer: true` or `answer: false`")
        return [Choice("true", "True", answer is True), Choice("false", "False", answer is False)]
    choices, seen = [], set()
    for index, raw in enumerate(c.listing(item, "choices", path, required=True)):
        cpath = path + ("choices", index)
        raw = c.mapping(raw, cpath)
        if not raw:
            continue
        cid = c.text(raw, "id", cpath, max_len=20)
        if cid in seen:
            c.fail(cpath + ("id",), f"choice id {cid!r} is used twice")
        seen.add(cid)
        correct = raw.get("correct", False)
        if not isinstance(correct, bool):
            c.fail(cpath + ("correct",), f"correct must be true or false, not {correct!s}: write correct: true "
                                         "(yes, no, on and off are text to the portal)")
        choices.append(Choice(cid, c.text(raw, "text", cpath, max_len=1000), correct is True))
    right = sum(ch.correct for ch in choices)
    if len(choices) < 2:
        c.fail(path + ("choices",), "a question needs at least two choices")
    elif qtype == "single" and right != 1:
        c.fail(path + ("choices",), f"a single-choice question needs exactly one correct choice, not {right}")
    elif qtype == "multiple" and (right < 1 or right == len(choices)):
        c.fail(path + ("choices",), "a multiple-choice question needs at least one correct and one wrong choice")
    return choices


def _accreditation(c: _Checker, data: dict) -> list[Accreditation]:
    entries, states = [], set()
    for index, item in enumerate(c.listing(data, "accreditation", ())):
        path = ("accreditation", index)
        item = c.mapping(item, path)
        if not item:
            continue
        state = c.text(item, "state", path, max_len=2).upper()
        if state and state not in STATE_CODES:
            c.fail(path + ("state",), f"state {state!r} is not a two-letter U.S. state or territory code")
        if state in states:
            c.fail(path + ("state",), f"state {state} is listed twice; give one entry per state")
        states.add(state)
        status = c.text(item, "status", path)
        if status and status not in ACCREDITATION_STATUSES:
            c.fail(path + ("status",), f"status must be one of {', '.join(ACCREDITATION_STATUSES)}")
        valid_from, valid_through = c.date_(item, "valid_from", path), c.date_(item, "valid_through", path)
        if valid_from and valid_through and valid_from > valid_through:
            c.fail(path + ("valid_through",), "valid_through is before valid_from")
        entries.append(Accreditation(state, c.text(item, "body", path, max_len=120), status,
                                     c.text(item, "number", path, max_len=60),
                                     float(c.number(item, "credit_hours", path) or 0), valid_from, valid_through))
    return entries


def _in_person(c: _Checker, data: dict, kind: str) -> InPerson | None:
    if kind != "in-person":
        if data.get("in_person"):
            c.fail(("in_person",), "only an in-person pack has `in_person`")
        return None
    spec = c.mapping(data.get("in_person"), ("in_person",))
    url = c.text(spec, "registration_url", ("in_person",), max_len=500) if spec else ""
    if url and not url.startswith("https://"):
        c.fail(("in_person", "registration_url"), "registration_url must be an https:// address")
    sessions = []
    for index, item in enumerate(c.listing(spec, "sessions", ("in_person",)) if spec else []):
        path = ("in_person", "sessions", index)
        item = c.mapping(item, path)
        if not item:
            continue
        starts, ends = c.date_(item, "starts", path, True), c.date_(item, "ends", path, True)
        if starts and ends and ends < starts:
            c.fail(path + ("ends",), "ends is before starts")
        sessions.append(InPersonSession(c.text(item, "location", path, max_len=200), starts, ends))
    return InPerson(url, tuple(sessions))


def _check_distribution_version(root: Path, c: _Checker, version: str) -> None:
    """The pack's version and its distribution's must move together, or caches go stale."""
    import tomllib

    pyproject = root.parent.parent / "pyproject.toml"
    if not version or not pyproject.is_file():
        return
    try:
        declared = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {}).get("version")
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return
    if declared and str(declared) != version:
        c.fail(("version",), f"version is {version} but {pyproject.name} says {declared}: raise both together")


def resources_from(c: _Checker, data: dict, source: str) -> list[Resource]:
    """External resources (`resources:` in a manifest or the operators' file)."""
    resources = []
    for index, item in enumerate(c.listing(data, "resources", ())):
        path = ("resources", index)
        item = c.mapping(item, path)
        if not item:
            continue
        url = c.text(item, "url", path, max_len=500)
        if url and not url.lower().startswith(("https://", "http://")):
            c.fail(path + ("url",), "a resource url must be an http:// or https:// address")
        resources.append(Resource(c.text(item, "title", path, max_len=200),
                                  c.text(item, "description", path, max_len=1000), url,
                                  c.strings(item, "topics", path), source))
    return resources
