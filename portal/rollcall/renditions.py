"""Which video file projector mode plays: the light rendition where the screen is small or the
viewer asked for less data, the largest rendition the screen can show without scaling a smaller
one up by more than half, else the standard file. Or exactly the one the trainer picked."""

from __future__ import annotations

from dataclasses import dataclass

from portal.packs.model import Video

LIGHT_MEDIA = "(max-width: 40rem), (prefers-reduced-data: reduce)"


@dataclass(frozen=True)
class Source:
    file: str
    media: str | None = None  # the media query under which the browser picks it; None: always


def rendition_choices(video: Video) -> list[tuple[str, str]]:
    """(value of ?rendition=, label) for each file a trainer may pick, largest first."""
    choices = [(str(height), f"{height}p") for _, height in sorted(video.renditions, key=lambda r: -r[1])]
    if video.file:
        choices.append(("full", "Standard"))
    if video.light:
        choices.append(("light", "Smaller (slow connection)"))
    return choices


def projector_sources(video: Video, choice: str | None) -> list[Source]:
    """The <source> elements for `video`, in the order a browser tries them."""
    if choice == "light" and video.light:
        return [Source(video.light)]
    if choice == "full" and video.file:
        return [Source(video.file)]
    for file, height in video.renditions:
        if choice == str(height):
            return [Source(file)]
    sources = [Source(video.light, LIGHT_MEDIA)] if video.light else []
    for file, height in sorted(video.renditions, key=lambda r: -r[1]):
        # 16:9 frames; picked when the screen is at least two-thirds of the frame's width wide
        sources.append(Source(file, f"(min-width: {round(height * 16 / 9 * 2 / 3)}px)"))
    if video.file:
        sources.append(Source(video.file))
    return sources
