"""The shared media-build tool that the bundled packs' build scripts call."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "content_packs" / "tools"))

import packmedia  # noqa: E402

BUILD_SCRIPTS = sorted(ROOT.glob("content_packs/*/tools/build_media.py"))


def test_every_bundled_pack_has_a_build_script():
    assert {p.parent.parent.name for p in BUILD_SCRIPTS} == {
        "intro-sro-programs", "rollcall-school-safety", "inperson-sro-basic"}


@pytest.mark.parametrize("script", BUILD_SCRIPTS, ids=lambda p: p.parent.parent.name)
def test_build_script_finds_the_shared_tool(script):
    # --help imports the script (and so packmedia) without needing ffmpeg or espeak-ng.
    result = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout


def test_vtt_times_round_to_milliseconds():
    assert packmedia.vtt_time(0) == "00:00:00.000"
    assert packmedia.vtt_time(61.2345) == "00:01:01.234"
    assert packmedia.vtt_time(3600.0005) == "01:00:00.000"


def test_slide_body_wraps_and_refuses_what_does_not_fit():
    assert packmedia.wrap_body(["short line"]) == "\u2022 short line"
    wrapped = packmedia.wrap_body(["a line long enough that it has to wrap onto a second line"])
    assert wrapped.count("\n") == 1 and wrapped.splitlines()[1].startswith("   ")
    with pytest.raises(ValueError):
        packmedia.wrap_body(["x" * 30] * 8)


def test_pronunciation_applies_to_speech_only():
    look = packmedia.Look(background="0x000000", band="0x111111", pronunciation=[(r"\bSRO\b", "S R O")])
    assert packmedia.spoken("The SRO and SROs", look) == "The S R O and SROs"


def test_set_duration_rewrites_only_the_named_video(tmp_path):
    manifest = tmp_path / "pack.yaml"
    manifest.write_text("a:\n  file: media/a.mp4\n  duration_seconds: 1\n"
                        "b:\n  file: media/b.mp4\n  duration_seconds: 2\n")
    packmedia.set_duration(manifest, "media/b.mp4", 61.6)
    assert manifest.read_text().endswith("file: media/b.mp4\n  duration_seconds: 62\n")
    assert "duration_seconds: 1\n" in manifest.read_text()
    with pytest.raises(SystemExit):
        packmedia.set_duration(manifest, "media/missing.mp4", 3)
