"""Output frame size: one deterministic rule shared by every engine and by verification.

Sizes are worked out on the picture as displayed: the coded size turned by the source's rotation
(proxies are rendered upright) and stretched by its sample aspect ratio, which the proxy keeps.

`even(x)`: the nearest even integer to x, ties rounded up, never below 2, never above the largest
even number within the limit (the source size, so nothing is ever upscaled, and for fit_ policies
the box). Exact rational arithmetic, so the same source always gives the same size.

* source:   (even(w), even(h)); an odd dimension loses one pixel by scaling (333x187 -> 332x186),
            never by cropping, so the proxy still registers with the full source frame.
* scale_N:  (even(w*N/100), even(h*N/100)); 1998x1080 at 50 % -> 1000x540.
* fit_WxH:  the box turned to the picture's orientation (a portrait picture fits H wide by W high),
            s = min(1, W/dw, H/dh) on the displayed size dw x dh; (even(w*s), even(h*s)) coded.
            3840x2160 -> 1920x1080, 4096x2160 -> 1920x1012, a portrait phone clip (1920x1080 coded,
            rotated 90) -> 1080x1920, HDV 1440x1080 SAR 4:3 (shown 1920x1080) -> 1440x1080 SAR 4:3;
            an HD or smaller picture, landscape or portrait, keeps its size.
The sample aspect ratio is kept, so the display aspect is kept up to the even rounding.
"""

from __future__ import annotations

import functools
from fractions import Fraction

from proxx.compile.profiles import CanonicalProfile
from proxx.media.probe import VideoStream


def _floor_even(n: int) -> int:
    return max(2, n - n % 2)


def even(x: Fraction, limit: int) -> int:
    nearest = 2 * int((x / 2 + Fraction(1, 2)) // 1)
    return max(2, min(nearest, _floor_even(limit)))


def sample_aspect(text: str) -> Fraction:
    numerator, _, denominator = text.replace("/", ":").partition(":")
    try:
        value = Fraction(int(numerator), int(denominator or 1))
    except (ValueError, ZeroDivisionError):
        return Fraction(1)
    return value if value > 0 else Fraction(1)


def upright(video: VideoStream) -> tuple[int, int, Fraction]:
    """The coded size and SAR of the picture once its rotation is applied."""
    sar = sample_aspect(video.sample_aspect_ratio)
    if video.rotation in (90, 270):
        return video.height, video.width, 1 / sar
    return video.width, video.height, sar


def display_aspect(video: VideoStream) -> Fraction:
    """Width over height of the picture as an editing system shows it."""
    width, height, sar = upright(video)
    return Fraction(width) * sar / height if height else Fraction(0)


def frame_size(profile: CanonicalProfile, video: VideoStream) -> tuple[int, int]:
    """The coded size of the upright proxy of `video`."""
    width, height, sar = upright(video)
    return output_size(profile, width, height, sar)


def output_size(profile: CanonicalProfile, width: int, height: int, sar: Fraction = Fraction(1)) -> tuple[int, int]:
    """The proxy's coded size for an upright coded picture of `width` x `height` with `sar`."""
    return _output_size(profile.scale_factor, profile.fit_box, width, height, sar)


@functools.lru_cache(maxsize=1024)
def _output_size(
    factor: Fraction | None, box: tuple[int, int] | None, width: int, height: int, sar: Fraction
) -> tuple[int, int]:
    # Worked out once per picture size: a card's clips share a few sizes, and exact fractions cost
    # some 70 microseconds a size, asked several times a clip (validation twice, render, verification).
    if width < 1 or height < 1:
        raise ValueError(f"invalid source frame size {width}x{height}")
    if factor is not None:
        return even(width * factor, width), even(height * factor, height)
    if box is not None:
        shown_width = width * sar
        box_width, box_height = box if shown_width >= height else (box[1], box[0])
        s = min(Fraction(1), box_width / shown_width, Fraction(box_height, height))
        width_limit = min(width, int(box_width / sar))
        return even(width * s, width_limit), even(height * s, min(height, box_height))
    return even(Fraction(width), width), even(Fraction(height), height)
