"""The report of a model-level initialization, shared by every framework module.

:class:`InitReport` is a sequence of :class:`ParamRow` (one per parameter,
weight or pytree leaf) whose ``str()`` is a table: name, shape, initializer,
layout, fans, std and the rule that decided it. ``varscale.keras`` and
``varscale.jax`` use it; it imports no framework.

Example:
    >>> from varscale._report import InitReport, ParamRow
    >>> r = InitReport([ParamRow("dense/kernel", (4, 2), "glorot_uniform", 4, 2, 0.57735, "default=keras", layout="tf"),
    ...                 ParamRow("dense/bias", (2,), "zeros", None, None, 0.0, "default=keras")])
    >>> print(r)  # doctest: +NORMALIZE_WHITESPACE
    name          shape   initializer     layout  fan_in  fan_out  std      rule
    dense/kernel  (4, 2)  glorot_uniform  tf      4       2        0.57735  default=keras
    dense/bias    (2,)    zeros           -       -       -        0        default=keras
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["InitReport", "ParamRow", "listing", "printable"]


@dataclass(frozen=True)
class ParamRow:
    """One parameter of :class:`InitReport`."""

    name: str
    shape: tuple[int, ...]
    initializer: str
    fan_in: int | None
    fan_out: int | None
    std: float | None
    rule: str
    skipped: bool = False
    layout: str = "-"
    dtype: str = "-"

    @classmethod
    def left(cls, name: str, shape: tuple[int, ...], rule: str, dtype: str = "-") -> ParamRow:
        """The row of a parameter left as it is (skipped, mapped to None, not floating): ``rule`` says why."""
        return cls(name, shape, "-", None, None, None, rule, True, dtype=dtype)


class InitReport(Sequence[ParamRow]):
    """What a model-level initialization did, one :class:`ParamRow` per parameter; ``str()`` is a table.

    ``report.buffers`` lists state reset besides the parameters (may be empty).
    """

    def __init__(self, rows: list[ParamRow], buffers: Sequence[str] = ()) -> None:
        self.rows = rows
        self.buffers = list(buffers)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: Any) -> Any:
        return self.rows[i]

    def __iter__(self) -> Iterator[ParamRow]:
        return iter(self.rows)

    def __str__(self) -> str:
        head = ("name", "shape", "initializer", "layout", "fan_in", "fan_out", "std", "rule")
        body = [
            (
                printable(r.name),
                str(r.shape),
                "(skipped)" if r.skipped else r.initializer,
                r.layout,
                "-" if r.fan_in is None else str(r.fan_in),
                "-" if r.fan_out is None else str(r.fan_out),
                "-" if r.std is None else f"{r.std:.6g}",
                printable(r.rule),
            )
            for r in self.rows
        ]
        widths = [max(len(row[i]) for row in [head, *body]) for i in range(len(head))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in [head, *body]]
        if self.buffers:
            lines.append(f"buffers reset: {len(self.buffers)} ({', '.join(self.buffers[:6])}"
                         f"{', …' if len(self.buffers) > 6 else ''})")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"InitReport({len(self.rows)} parameters)"


def printable(text: str) -> str:
    """``text`` with non-printable characters escaped (names come from user models)."""
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


def listing(items: Sequence[str], limit: int = 12) -> str:
    """A comma-separated listing of at most ``limit`` items, with a count of the rest."""
    shown = ", ".join(printable(i) for i in items[:limit])
    return shown + (f", … ({len(items) - limit} more)" if len(items) > limit else "")
