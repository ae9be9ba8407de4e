"""The progress line of ``varscale sample`` and ``varscale init`` on stderr.

Example:
    >>> size_text(3 << 20), duration_text(3725.0)
    ('3.0 MiB', '1h02m')
"""

from __future__ import annotations

import math
import sys
import time

__all__ = ["Progress", "duration_text", "size_text"]


class Progress:
    """Progress on stderr (only for outputs of at least 1 MiB), with rate and ETA.

    On a terminal one line redrawn with ``\\r``; otherwise (a batch log) a plain line every 10 % or 30 s.
    Callbacks show at most 99.9 %: :meth:`finish`, called once the output is synced and published, prints 100 %.
    """

    open_line = False  # a bar is on stderr without its final newline

    @classmethod
    def end_line(cls) -> None:
        if cls.open_line:
            sys.stderr.write("\n")
            cls.open_line = False

    def __init__(self, label: str, nbytes: int, enabled: bool = True) -> None:
        self.label, self.enabled = label, enabled and nbytes >= (1 << 20)
        self.nbytes = nbytes
        self.last = -1.0
        self.last_time = 0.0
        self.start = time.monotonic()
        self.first: tuple[float, float] | None = None  # (time, fraction) of the first report: resumed work excluded
        try:
            self.tty = sys.stderr.isatty()
        except (AttributeError, ValueError):
            self.tty = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        frac = min(0.999, done / total)
        now = time.monotonic()
        if self.first is None:
            self.first = (now, frac if done < total else 0.0)
        if self.tty:
            if frac - self.last < 0.001 and now - self.last_time < 0.5:
                return
        elif frac - self.last < 0.1 and now - self.last_time < 30.0:
            return
        self.last, self.last_time = frac, now
        self._show(frac, now)

    def _show(self, frac: float, now: float, final: bool = False) -> None:
        t0, f0 = self.first if self.first is not None else (self.start, 0.0)
        if now <= t0:  # the first report: measured from the start (a resume's kept part counted once)
            t0, f0 = self.start, 0.0
        spent = now - t0
        rate = (frac - f0) * self.nbytes / spent if spent > 0 else 0.0
        speed = f"{size_text(rate)}/s" if rate > 0 else "-"
        if final:
            tail = f"{now - self.start:.1f}s"
        else:
            eta = (1.0 - frac) * self.nbytes / rate if rate > 0 else None
            tail = f"ETA {duration_text(eta)}"
        bar = "#" * int(frac * 30)
        line = f"{self.label} [{bar:<30}] {frac * 100:5.1f}% {size_text(frac * self.nbytes)}/{size_text(self.nbytes)} " \
               f"{speed} {tail}"
        if self.tty:
            sys.stderr.write(f"\r{line}")
            Progress.open_line = not final
            if final:
                sys.stderr.write("\n")
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def finish(self) -> None:
        """The output is complete, synced and published: 100 %."""
        if self.enabled:
            self._show(1.0, time.monotonic(), final=True)


def size_text(nbytes: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(nbytes) < 1024 or unit == "GiB":
            return f"{nbytes:.0f} {unit}" if unit == "B" else f"{nbytes:.1f} {unit}"
        nbytes /= 1024
    return f"{nbytes:.1f} GiB"  # pragma: no cover


def duration_text(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "?"
    s = int(seconds + 0.5)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"
