"""Output frame size: one deterministic rule shared by every engine and by verification.

`even(x)`: the nearest even integer to x, ties rounded up, never below 2, never above the largest
even number within the limit (the source size, so nothing is ever upscaled, and for fit_ policies
the box). Exact rational arithmetic, so the same source always gives the same size.

* source:   (even(w), even(h)); an odd dimension loses one pixel by scaling (333x187 -> 332x186),
            never by cropping, so the proxy still registers with the full source frame.
* scale_N:  (even(w*N/100), even(h*N/100)); 1998x1080 at 50 % -> 1000x540.
* fit_WxH:  s = min(1, W/w, H/h); (even(w*s), even(h*s)); 3840x2160 -> 1920x1080,
            4096x2160 -> 1920x1012, 1080x1920 -> 608x1080; an HD or smaller source keeps its size.
The sample aspect ratio is kept, so the display aspect is kept up to the even rounding.
"""

from __future__ import annotations

from fractions import Fraction

from proxx.compile.profiles import CanonicalProfile


def _floor_even(n: int) -> int:
    return max(2, n - n % 2)


def even(x: Fraction, limit: int) -> int:
    nearest = 2 * int((x / 2 + Fraction(1, 2)) // 1)
    return max(2, min(nearest, _floor_even(limit)))


def output_size(profile: CanonicalProfile, width: int, height: int) -> tuple[int, int]:
    if width < 1 or height < 1:
        raise ValueError(f"invalid source frame size {width}x{height}")
    factor = profile.scale_factor
    box = profile.fit_box
    if factor is not None:
        return even(width * factor, width), even(height * factor, height)
    if box is not None:
        s = min(Fraction(1), Fraction(box[0], width), Fraction(box[1], height))
        return even(width * s, min(width, box[0])), even(height * s, min(height, box[1]))
    return even(Fraction(width), width), even(Fraction(height), height)
