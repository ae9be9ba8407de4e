"""Translate a whole Python file: find every initializer expression (read with :mod:`ast`, never run).

Example:
    >>> rows = translate_file("Dense(8, kernel_initializer='he_uniform')", to="torch")
    >>> rows[0].code, rows[0].verdict
    ("torch.nn.init.kaiming_uniform_(w, nonlinearity='relu')", 'exact')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._errors import InvalidArgumentError

__all__ = ["FileRow", "find_initializers", "translate_file"]

# ---------------------------------------------------------------------------

_INIT_KWARG = ("init", "initializer")
_AMBIGUOUS_BARE = frozenset({"get", "normal", "uniform", "Normal", "Uniform", "initializer", "constant", "Constant",
                             "zeros", "ones", "Zeros", "Ones", "identity", "Identity", "Zero", "One",
                             "truncated_normal", "variance_scaling", "orthogonal", "Orthogonal"})


@dataclass(frozen=True)
class FileRow:
    """One initializer expression found in a file, and its translation.

    Attributes:
        line: 1-based line of the expression.
        source: the expression as written (a keyword argument keeps its name).
        code: the translation (None when not translated).
        verdict: ``"exact"``, ``"exact_for_shape"``, ``"impossible"`` or ``"untranslated"``.
        notes: the translation's notes, or the reason it was not translated.
    """

    line: int
    source: str
    code: str | None
    verdict: str
    notes: tuple[str, ...]


def _known() -> set[str]:
    """Every initializer name any framework offers, read or not."""
    from .frameworks import all_frameworks

    return {n for fw in all_frameworks() for n in (*fw.names, *fw.other, *fw.unread)}


def _is_init_call(node: Any) -> bool:
    import ast

    from ._parse import framework_of

    parts: list[str] = []
    f = node.func if isinstance(node, ast.Call) else node
    while isinstance(f, ast.Attribute):
        parts.append(f.attr)
        f = f.value
    if not isinstance(f, ast.Name):
        return False
    parts.append(f.id)
    parts.reverse()
    fw, func = framework_of(tuple(parts))
    known = _known()
    if fw is not None and fw.name == "?":  # a tensor method on a parameter: m.weight.data.normal_(0, 0.01)
        from .frameworks import all_frameworks

        methods = {m for f in all_frameworks() for m in f.methods}
        return func in methods and bool({"weight", "bias", "data"} & set(parts))
    if fw is not None:
        return func in known or func.endswith("_initializer")
    return func in known and func not in _AMBIGUOUS_BARE


def _uncalled_init(node: Any) -> bool:
    """A JAX/Flax or Keras initializer named without a call (``nn.initializers.zeros``)."""
    from ._parse import framework_of

    parts: list[str] = []
    f = node
    while hasattr(f, "attr"):
        parts.append(f.attr)
        f = f.value
    if not hasattr(f, "id"):
        return False
    parts.append(f.id)
    fw, func = framework_of(tuple(reversed(parts)))
    return fw is not None and fw.passed_uncalled and (func in fw.names or func in fw.other)


def find_initializers(text: str) -> list[tuple[int, str]]:
    """``(line, expression)`` of every initializer expression in Python source (read with :mod:`ast`, never run).

    Found: calls of a framework's initializers (``nn.init.kaiming_normal_(m.weight)``,
    ``keras.initializers.HeNormal()``, ``nn.initializers.lecun_normal()``...) and
    keyword arguments named ``*init`` or ``*initializer`` (``kernel_initializer='he_uniform'``).

    Example:
        >>> find_initializers("layers.Dense(8, kernel_initializer='he_uniform')\\nnn.init.zeros_(m.bias)")
        [(1, "kernel_initializer='he_uniform'"), (2, 'nn.init.zeros_(m.bias)')]
    """
    import ast

    try:
        tree = ast.parse(text)
    except SyntaxError as err:
        raise InvalidArgumentError(f"`file` is not valid Python ({err.msg}, line {err.lineno}); received a file of "
                                   f"{len(text)} characters.") from None
    found: dict[tuple[int, int], str] = {}
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg and node.arg.lower().endswith(_INIT_KWARG):
            v = node.value
            is_name = isinstance(v, ast.Constant) and isinstance(v.value, str)
            named = isinstance(v, ast.Attribute) and _is_init_call(v)  # passed uncalled: initializers.zeros
            if is_name or named or (isinstance(v, ast.Call) and _is_init_call(v)):
                seg = ast.get_source_segment(text, node) or ""
                found[(node.value.lineno, node.value.col_offset)] = seg
                inside.update(id(n) for n in ast.walk(v))
        if isinstance(node, ast.Dict):  # {'kernel_initializer': 'he_normal', 'bias_initializer': 'zeros'}
            for k, v in zip(node.keys, node.values, strict=True):
                if (isinstance(k, ast.Constant) and isinstance(k.value, str) and k.value.lower().endswith(_INIT_KWARG)
                        and ((isinstance(v, ast.Constant) and isinstance(v.value, str))
                             or (isinstance(v, ast.Call) and _is_init_call(v)))):
                    found[(v.lineno, v.col_offset)] = f"{k.value}={ast.get_source_segment(text, v) or ''}"
                    inside.update(id(n) for n in ast.walk(v))
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Attribute):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [t.attr if isinstance(t, ast.Attribute) else getattr(t, "id", "") for t in targets]
            if any(n.lower().endswith(_INIT_KWARG) for n in names) and _is_init_call(node.value):
                # `bias_init: Callable = initializers.zeros` (a Flax field), an initializer passed uncalled
                found[(node.value.lineno, node.value.col_offset)] = ast.get_source_segment(text, node.value) or ""
    callees = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    for node in ast.walk(tree):  # breadth first: an outer call before the calls inside it
        if isinstance(node, ast.Call) and id(node) not in inside and _is_init_call(node):
            found[(node.lineno, node.col_offset)] = ast.get_source_segment(text, node) or ""
            inside.update(id(n) for n in ast.walk(node))
        elif (isinstance(node, ast.Attribute) and id(node) not in inside and id(node) not in callees
              and _uncalled_init(node)):
            # passed uncalled: self.param('bias', nn.initializers.zeros, shape), with_partitioning(initializers.ones)
            found.setdefault((node.lineno, node.col_offset), ast.get_source_segment(text, node) or "")
            inside.add(id(node))
    return [(k[0], " ".join(v.split())) for k, v in sorted(found.items())]


def translate_file(text: str, to: str, *, tf_version: str | None = None) -> list[FileRow]:
    """Translate every initializer expression of a Python file (see :func:`find_initializers`).

    An expression the translator cannot read gets the verdict ``"untranslated"``
    and the reason in ``notes``.

    Example:
        >>> rows = translate_file("Dense(8, kernel_initializer='he_uniform')", to="torch")
        >>> rows[0].code, rows[0].verdict
        ("torch.nn.init.kaiming_uniform_(w, nonlinearity='relu')", 'exact')
    """
    from ._parse import parse
    from ._translate import target_name, translate

    to = target_name(to)
    rows = []
    for line, src in find_initializers(text):
        try:
            tr = translate(parse(src, tf_version=tf_version), to)
        except InvalidArgumentError as err:
            reason = str(err).split("; received source=")[0].removeprefix("cannot parse `source`: ")
            rows.append(FileRow(line, src, None, "untranslated", (reason,)))
            continue
        rows.append(FileRow(line, src, tr.code, tr.verdict, tr.notes))
    return rows
