"""Images and videos placed in a lesson's Markdown where the author wants them: images with
`![description](../media/x.png)`, videos with a ```video fence; every video has captions."""

from __future__ import annotations

import re

import pytest

from portal.packs.loader import check_pack, load_pack
from tests.helpers import log_in, make_user
from tests.learning.journey import enroll, take_test
from tests.packs.packtools import ANY as ANY_LINE, PORTAL_VERSION, PackDirs, PackFolder, expect_problem, new_starter

MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
VTT = "WEBVTT\n\n00:00:00.000 --> 00:00:05.000\nWelcome to the course.\n"

LESSON = """# Key ideas

Look at the map before you read on.

![A map of the school campus with the main office marked](../media/campus.png)

## First, the approach

```video
file: ../media/approach.mp4
captions: ../media/approach.vtt
light: ../media/approach-light.mp4
title: The approach
```

Then the conversation itself.

```video
file: ../media/talk.mp4
captions: ../media/talk.vtt
```

1. Write short paragraphs.
"""


@pytest.fixture
def pack(tmp_path) -> PackFolder:
    folder = new_starter(tmp_path)
    for name, content in (("media/campus.png", PNG), ("media/approach.mp4", MP4), ("media/approach-light.mp4", MP4),
                          ("media/approach.vtt", VTT), ("media/talk.mp4", MP4), ("media/talk.vtt", VTT)):
        folder.write(name, content)
    folder.write("lessons/02-key-ideas.md", LESSON)
    assert check_pack(folder.root, PORTAL_VERSION) == []
    return folder


def test_images_and_videos_in_the_flow_are_served_without_being_downloads(pack):
    loaded = load_pack(pack.root, PORTAL_VERSION)
    lesson = loaded.lesson("key-ideas")
    assert lesson.images == ("media/campus.png",)
    assert [(v.file, v.captions, v.light) for v in lesson.media] == [
        ("media/approach.mp4", "media/approach.vtt", "media/approach-light.mp4"),
        ("media/talk.mp4", "media/talk.vtt", None)]
    assert {"media/campus.png", "media/approach.mp4", "media/talk.vtt"} <= loaded.public_files()
    assert [d.file for d in loaded.downloads] == ["downloads/handout.txt"]


def test_lesson_page_places_them_where_the_author_wrote_them(make_app, pack):
    pack.replace("language: en", "language: es")  # captions are labelled in the pack's language
    app = make_app(EXTRA_PLUGINS=[PackDirs("media_plugin", pack.root)])
    make_user(app)
    client = app.test_client()
    log_in(client)
    enroll(client, "starter-course")
    take_test(client, app, "pre", pack_id="starter-course")
    html = client.get("/learn/starter-course/lessons/key-ideas").get_data(as_text=True)
    files = "/packs/starter-course/1.0.0/files/"
    order = [html.index(marker) for marker in (
        "<h1>Key ideas</h1>", f'<img src="{files}media/campus.png" alt="A map of the school campus',
        "<h2>First, the approach</h2>", f'<source src="{files}media/approach.mp4"',
        "Then the conversation itself.", f'<source src="{files}media/talk.mp4"', "Write short paragraphs")]
    assert order == sorted(order)
    assert html.count('<track kind="captions"') == 2 and html.count('srclang="es" label="Captions"') == 2
    assert f'<source src="{files}media/approach-light.mp4" type="video/mp4" media="(max-width: 40rem)' in html
    downloads = html[html.index('id="dl-h"'):]
    assert "campus.png" not in downloads and "approach.mp4" not in downloads.split("</section>")[0]
    for name in ("media/campus.png", "media/approach.mp4", "media/talk.vtt"):
        assert client.get(files + name).status_code == 200, name


def _line(pack: PackFolder, needle: str) -> int:
    return pack.line_of(needle, "lessons/02-key-ideas.md")


def test_video_without_captions(pack):
    pack.replace("captions: ../media/talk.vtt\n", "", rel="lessons/02-key-ideas.md")
    expect_problem(pack.problems(), "lessons/02-key-ideas.md", _line(pack, "file: ../media/talk.mp4"),
                   "no captions", "captions: ../media/<name>.vtt")


def test_video_fence_with_a_misspelt_key(pack):
    pack.replace("light: ../media/approach-light.mp4", "lite: ../media/approach-light.mp4",
                 rel="lessons/02-key-ideas.md")
    expect_problem(pack.problems(), "lessons/02-key-ideas.md", _line(pack, "lite:"), "did you mean", "`light`")


def test_video_fence_naming_a_missing_file(pack):
    pack.delete("media/talk.mp4")
    expect_problem(pack.problems(), "lessons/02-key-ideas.md", _line(pack, "file: ../media/talk.mp4"),
                   "does not exist", "relative to the lesson")


def test_video_fence_file_that_is_not_a_video(pack):
    pack.write("media/talk.mp4", "a text file\n")
    expect_problem(pack.problems(), "lessons/02-key-ideas.md", _line(pack, "file: ../media/talk.mp4"),
                   "not a format the portal recognises")


def test_video_fence_captions_cues_are_checked(pack):
    pack.write("media/talk.vtt", "WEBVTT\n\n00:00:09.000 --> 00:00:01.000\nBackwards.\n")
    expect_problem(pack.problems(), "media/talk.vtt", 3, "ends before it starts")


def test_video_fence_with_a_url(pack):
    pack.replace("file: ../media/talk.mp4", "url: https://video.example.org/talk.mp4", rel="lessons/02-key-ideas.md")
    expect_problem(pack.problems(), "lessons/02-key-ideas.md", ANY_LINE, "needs `file:`", "ordinary Markdown link")


def test_image_without_a_description(pack):
    pack.replace("![A map of the school campus with the main office marked]", "![]", rel="lessons/02-key-ideas.md")
    expect_problem(pack.problems(), "lessons/02-key-ideas.md", _line(pack, "![]"), "needs a description")


def test_image_that_is_not_an_image(pack):
    pack.write("media/campus.png", "not a picture\n")
    expect_problem(pack.problems(), "lessons/02-key-ideas.md", _line(pack, "campus.png"), "named as an image")


def test_code_fences_still_render_as_code(pack):
    from portal.common.markdown import render_markdown

    html = render_markdown("```python\nprint('<hi>')\n```\n")
    assert html.startswith('<pre><code class="language-python">') and "&lt;hi&gt;" in html
    assert not re.search(r"<video", render_markdown("```video\nfile: x.mp4\n```\n", "/f/", ""))





def test_the_page_reads_a_video_fence_as_the_validator_does(pack):
    """Flow style and quoted values are YAML too: what validates also shows."""
    from portal.common.markdown import render_markdown

    fence = '```video\n{file: "../media/talk.mp4", captions: ../media/talk.vtt, title: No}\n```\n'
    pack.write("lessons/02-key-ideas.md", "# Key ideas\n\n" + fence)
    assert pack.problems() == []
    html = render_markdown(fence, "/f/", "lessons")
    assert '<source src="/f/media/talk.mp4" type="video/mp4">' in html and 'aria-label="No"' in html
