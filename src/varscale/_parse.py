"""Parse an initializer expression written in any supported framework's syntax.

:func:`parse` reads Keras 3, tf.keras 2, TF1 core, TF1 contrib, PyTorch,
JAX/Flax, MindSpore and varscale expressions (and Keras JSON configs) with
:mod:`ast` only — nothing is evaluated, no framework is imported — and returns
a :class:`Spec`: the distribution family, its parameter and bounds as
functions of ``(fan_in, fan_out)``, and each framework's quirks as flags
(TF contrib's ×1.3, TF ≤ 1.9's uncorrected truncation, absolute truncation
bounds, MindSpore's uniform-for-truncated bug, the source's weight layout).

Example:
    >>> import varscale as vs
    >>> s = vs.parse("tf.contrib.layers.variance_scaling_initializer()")
    >>> s.framework, s.family, s.mode, s.contrib_factor
    ('tf_contrib', 'truncated_normal', 'fan_in', True)
    >>> round(s.describe((3, 3, 64, 128))["std"], 6)
    0.059098
"""

from __future__ import annotations

import ast
import json
import re
import warnings
from dataclasses import replace

from ._errors import InvalidArgumentError
from ._spec import FAMILIES, Spec, truncated_std_factor
from .frameworks import Framework, all_frameworks, get, names
from .frameworks._reading import ParseError, Reader, unknown
from .frameworks.varscale import spec_from_basic

__all__ = ["FAMILIES", "FRAMEWORKS", "ParseError", "Spec", "parse", "read_node", "spec_from_basic",
           "truncated_std_factor"]

#: Frameworks a Spec can come from (and translation targets), in the registry's order.
FRAMEWORKS = names()

MAX_CHARS = 2000
MAX_NODES = 300
MAX_DEPTH = 24

#: Keyword arguments whose value is an initializer (``kernel_initializer=``, ``bias_init=``, ``embedding_table=``).
_INIT_KW_SUFFIXES = ("init", "initializer", "embedding_table")
#: Words of varscale's rule language (``normal(std=0.02)``) that are no framework's unqualified call.
_RULE_WORDS = frozenset({"normal", "truncated_normal", "uniform", "zeros", "ones", "constant", "orthogonal"})


def framework_of(parts: tuple[str, ...], kw: frozenset[str] = frozenset()) -> tuple[Framework | None, str]:
    """The framework a dotted callee names, and the function: (None, func) unqualified; ``?`` unknown module.

    Example:
        >>> fw, func = framework_of(("tf", "keras", "initializers", "HeNormal"))
        >>> fw.name, func
        ('tf.keras', 'HeNormal')
    """
    head, func = parts[:-1], parts[-1]
    if not head:
        return None, func
    for fw in all_frameworks():
        if fw.claims_module(head, func, kw):
            return fw, func
    for fw in all_frameworks():
        if fw.owns_module(head, func, kw):
            return fw, func
    return _UNKNOWN, func


class _Unknown(Framework):
    """A module path no framework owns (a tensor's method, or a typo)."""

    name = "?"
    passed_uncalled = False


_UNKNOWN = _Unknown()


def _known_bare() -> frozenset[str]:
    return frozenset({n for fw in all_frameworks() for n in fw.bare} | _RULE_WORDS)


def _guess(func: str, kw: set[str], node: ast.Call) -> Framework | None:
    """The framework of a bare (unqualified) call, asking each in its :attr:`~Framework.guess_order`."""
    for fw in sorted(all_frameworks(), key=lambda f: f.guess_order):
        if fw.owns_bare(func, kw, node):
            return fw
    return None


def _layer_initializer(node: ast.Call) -> ast.AST | None:
    """The initializer argument of a layer call (the first keyword named ``*init``/``*initializer``)."""
    for kw in node.keywords:
        if kw.arg and kw.arg.lower().endswith(_INIT_KW_SUFFIXES):
            if isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
                for fw in all_frameworks():
                    wrapper = fw.name_call(kw.arg)
                    if wrapper is not None:  # nn.Dense(weight_init='normal'): MindSpore's initializer('normal')
                        return ast.Call(func=ast.Name(id=wrapper, col_offset=kw.value.col_offset), args=[kw.value],
                                        keywords=[], lineno=1, col_offset=kw.value.col_offset)
            return kw.value
    return None


def read_node(r: Reader, node: ast.AST) -> Spec:
    """The :class:`Spec` of one expression node: a call of some framework's initializer, a name, a layer call.

    Each framework module reads its own calls (:mod:`varscale.frameworks`); this
    finds which framework a call belongs to.
    """
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return get("keras").from_name(r, node.value, node)
    if isinstance(node, ast.Dict):
        raise r.fail("a config dict must be given as JSON text (the whole source), not inside an expression",
                     node)
    if isinstance(node, ast.Lambda):
        raise r.fail("lambda expressions are not allowed", node)
    if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
        raise r.fail("comprehensions are not allowed", node)
    if not isinstance(node, ast.Call):
        if isinstance(node, ast.Attribute):
            fw, func = framework_of(r.dotted(node))
            if fw is not None and fw.passed_uncalled and func in fw.names:
                # an initializer passed uncalled (`kernel_initializer=tf.keras.initializers.he_normal`,
                # `bias_init=initializers.zeros`): the framework calls it with its defaults
                return read_node(r, ast.Call(func=node, args=[], keywords=[], lineno=1, col_offset=node.col_offset))
        if isinstance(node, (ast.Attribute, ast.Name)):
            parts = r.dotted(node)
            raise r.fail(f"{'.'.join(parts)!r} must be called, e.g. {'.'.join(parts)}()", node)
        raise r.fail(f"expected an initializer call; found a {type(node).__name__.lower()} expression", node)
    parts = r.dotted(node.func)
    kw = {k.arg for k in node.keywords if k.arg}
    fw, func = framework_of(parts, frozenset(kw))
    if fw is _UNKNOWN and isinstance(node.func, ast.Attribute):
        for owner in all_frameworks():
            if func in owner.methods:  # m.weight.data.normal_(0, 0.01): a tensor's own method
                return owner.read_method(r, node, func)
    if fw is _UNKNOWN or (fw is None and func not in _known_bare() and not func.endswith("_initializer")):
        layer_init = _layer_initializer(node)
        if layer_init is not None:  # layers.Dense(10, kernel_initializer='lecun_normal'): its initializer
            return read_node(r, layer_init)
    if fw is _UNKNOWN:
        raise r.fail(f"{'.'.join(parts[:-1])!r} is not a known framework module (tf, keras, torch.nn.init, "
                     f"jax.nn.initializers, mindspore.common.initializer, varscale)", node.func)
    if fw is not None:
        func = fw.canonical(func)
    else:
        fw = _guess(func, kw, node)
        if fw is None:
            from_rule = _rule_spec(r, node, func)
            if from_rule is not None:
                return from_rule
            raise unknown(r, func, None, "any supported framework", node.func)
        func = fw.canonical(func)
    other = fw.read_other(r, node, func)
    if other is not None:
        return other
    if func == "get" and fw.get_as is not None:
        if len(node.args) != 1 or node.keywords:
            raise r.fail("get() takes one identifier", node)
        arg = node.args[0]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            return replace(get(fw.get_as).from_name(r, arg.value, arg), call="get")
        return replace(read_node(r, arg), framework=fw.name)
    return fw.read_call(r, node, func)


def _rule_spec(r: Reader, node: ast.Call, func: str) -> Spec | None:
    """varscale's rule syntax (``normal(std=0.02)``, ``uniform(-0.1, 0.1)``, ``trunc_normal(std=0.02)``,
    ``constant(0.1)``, ``orthogonal(gain=2)``), read by :mod:`varscale._rules` as torch's functions."""
    from . import _rules

    name = _rules._ALIASES.get(func.rstrip("_"), func.rstrip("_"))
    if name not in _rules._TORCH_FUNCTIONS:
        return None
    text = ast.get_source_segment(r.source, node) or ""
    try:
        init = _rules._from_text(text, "tf", "SPEC")
    except (InvalidArgumentError, TypeError, ValueError) as err:
        raise r.fail(str(err).split("; received")[0], node) from None
    return replace(spec_from_basic(init), call=func)


def _parse_json(source: str, legacy: bool) -> Spec:
    try:
        cfg = json.loads(source)
    except (json.JSONDecodeError, RecursionError) as err:
        col = getattr(err, "colno", 0)
        raise ParseError(f"not valid JSON ({getattr(err, 'msg', err)})", source, col,
                         source[max(0, col - 1):col + 10]) from None
    if not isinstance(cfg, dict) or "class_name" not in cfg:
        raise ParseError("a JSON config must be an object with 'class_name' and 'config'", source)
    unknown = set(cfg) - {"class_name", "config", "module", "registered_name"}
    if unknown:
        raise ParseError(f"unknown keys {sorted(unknown)} in the JSON config", source)
    name, conf = cfg["class_name"], cfg.get("config", {})
    if not isinstance(name, str) or not isinstance(conf, dict):
        raise ParseError("'class_name' must be a string and 'config' an object", source)
    module = cfg.get("module")
    owners = sorted((f for f in all_frameworks() if f.config_rank(module, conf) is not None),
                    key=lambda f: f.config_rank(module, conf) or 0)
    if not owners:
        raise ParseError("no framework writes this config", source)
    fw = owners[0]
    # Rebuild a call expression from the config and read it with the same rules.
    conf = {k: v for k, v in conf.items() if k not in ("stream_version", "registered_name")}
    for k, v in conf.items():
        if not isinstance(k, str) or not k.isidentifier() or k.startswith("_"):
            raise ParseError(f"bad config key {k!r}", source)
        if isinstance(v, dict):
            if k == "seed":
                continue
            raise ParseError(f"config value {k}={v!r} must be a literal", source)
    if not name.isidentifier() or name.startswith("_"):
        raise ParseError(f"bad class_name {name!r}", source)
    if "seed" in conf and isinstance(conf["seed"], dict):
        conf = dict(conf, seed=None)
    args = ", ".join(f"{k}={v!r}" for k, v in fw.config_arguments(conf).items())
    expr = f"{fw.module}.{name}({args})"
    try:
        spec = _parse_expr(expr, legacy)
    except ParseError as err:
        raise ParseError(f"the config does not describe a variance-scaling initializer ({err.reason})", source) from None
    return replace(spec, call=name)


def _parse_expr(source: str, legacy: bool) -> Spec:
    r = Reader(source, legacy)
    try:
        with warnings.catch_warnings():  # e.g. "invalid decimal literal": the text is refused or read anyway
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as err:
        col = err.offset or 0
        raise ParseError(f"not a Python expression ({err.msg})", source, col,
                         source[max(0, col - 1):col + 10]) from None
    except (ValueError, MemoryError, RecursionError) as err:
        raise ParseError(f"not a Python expression ({err})", source) from None
    r.source = source.strip()
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        raise ParseError(f"the expression is too large ({len(nodes)} syntax nodes; at most {MAX_NODES})", source)
    for n in nodes:
        if isinstance(n, ast.Lambda):
            raise r.fail("lambda expressions are not allowed", n)
        if isinstance(n, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            raise r.fail("comprehensions are not allowed", n)
        if isinstance(n, (ast.NamedExpr, ast.Await, ast.Yield, ast.YieldFrom, ast.Subscript, ast.Starred,
                          ast.JoinedStr, ast.IfExp, ast.BoolOp, ast.Compare)):
            raise r.fail(f"{type(n).__name__} expressions are not allowed", n)
        if isinstance(n, ast.Name) and n.id.startswith("__"):
            raise r.fail(f"the name {n.id!r} is not allowed", n)
        if isinstance(n, ast.Attribute) and n.attr.startswith("_") and not n.attr.endswith("_"):
            raise r.fail(f"the attribute {n.attr!r} is not allowed", n)
        if isinstance(n, ast.Attribute) and n.attr.startswith("__"):
            raise r.fail(f"the attribute {n.attr!r} is not allowed", n)
    return replace(read_node(r, tree.body), source=source)



_ASSIGN = re.compile(r"^\s*[A-Za-z_][A-Za-z0-9_]*(\s*\.\s*[A-Za-z_][A-Za-z0-9_]*)*\s*(:\s*[A-Za-z_][\w.]*\s*)?=(?!=)\s*")


_DICT_ENTRY = re.compile(r"""^\s*(['"])[A-Za-z_][A-Za-z0-9_]*\1\s*:\s*""")


def _strip_assignment(text: str) -> str:
    """The value of a keyword argument or an assignment as real code writes it.

    ``kernel_initializer='he_uniform'``, ``kernel_init=nn.initializers.lecun_normal(),``
    and ``self.init = ...`` give the part after ``=`` (a trailing comma dropped).

    Example:
        >>> _strip_assignment("kernel_initializer='he_uniform',")
        "'he_uniform'"
    """
    m = _ASSIGN.match(text) or _DICT_ENTRY.match(text)  # also a dict entry: 'kernel_initializer': 'he_normal'
    if m is None:
        return text
    rest = text[m.end():].strip()
    if rest.endswith(","):
        rest = rest[:-1].rstrip()
    return rest or text


def parse(source: str, *, tf_version: str | None = None) -> Spec:
    """Parse an initializer expression from any supported framework into a :class:`Spec`.

    Args:
        source: one Python expression (``keras.initializers.HeNormal()``,
            ``tf.contrib.layers.variance_scaling_initializer(factor=1.0,
            mode='FAN_AVG', uniform=True)``, ``nn.init.kaiming_normal_(w,
            mode='fan_out')``, ``jax.nn.initializers.lecun_normal()``,
            ``initializer('he_normal', [64, 3, 3, 3])``, ``XavierUniform(gain=2)``…),
            a preset name (``"he_normal"``), or a Keras JSON config.
            It is read with :mod:`ast` and never evaluated.
        tf_version: the TensorFlow version a TF1 expression ran under; below
            ``"1.10"`` its ``"normal"`` truncated normal is uncorrected.

    Returns:
        The canonical :class:`Spec`.

    Raises:
        TypeError: ``source`` is not a string.
        ParseError: the text is not a supported initializer expression (the
            message gives the column and the offending part).

    Example:
        >>> import varscale as vs
        >>> s = vs.parse("XavierUniform(gain=2)")
        >>> s.framework, s.family, s.scale, s.mode
        ('mindspore', 'uniform', 4.0, 'fan_avg')
        >>> vs.parse("initializer('he_normal', [64, 3, 3, 3])").shape
        (64, 3, 3, 3)
    """
    if not isinstance(source, str):
        raise TypeError(f"`source` must be a str; received source={source!r} of type {type(source).__name__}.")
    legacy = False
    if tf_version is not None:
        try:
            major, minor = (int(p) for p in str(tf_version).split(".")[:2])
        except ValueError:
            raise InvalidArgumentError(
                f"`tf_version` must look like '1.9' or '2.15'; received tf_version={tf_version!r}."
            ) from None
        legacy = (major, minor) < (1, 10)
    text = source.strip()
    if len(text) > MAX_CHARS:
        raise ParseError(f"the text is too long ({len(text)} characters; at most {MAX_CHARS})", source)
    if not text:
        raise ParseError("the text is empty", source)
    depth = level = 0
    for ch in text:
        if ch in "([{":
            level += 1
            depth = max(depth, level)
        elif ch in ")]}":
            level -= 1
    if depth > MAX_DEPTH:
        raise ParseError(f"the expression is nested too deeply ({depth} levels; at most {MAX_DEPTH})", source)
    if text.startswith("{"):
        return replace(_parse_json(text, legacy), source=source)
    name_kw = (text.split("=", 1)[0].strip() if _ASSIGN.match(text) else
               text.split(":", 1)[0].strip().strip("'\"") if _DICT_ENTRY.match(text) else "")
    text = _strip_assignment(text)
    quoted_name = text[:1] in "'\"" and text[-1:] == text[:1] and text[1:-1].isidentifier()
    for fw in all_frameworks():
        wrapper = fw.name_call(name_kw) if quoted_name else None
        if wrapper is not None:  # nn.Dense(weight_init='normal'): a MindSpore initializer name
            text = f"{wrapper}({text})"
            break
    for fw in all_frameworks():
        typed = fw.typed(text)
        if typed is not None:  # the names users type for torch's functions: torch's law
            return replace(_parse_expr(typed, legacy), source=source)
    if text.isidentifier():
        return replace(get("keras").from_name(Reader(text), text, ast.Constant(value=text, col_offset=0)),
                       source=source)
    return _parse_expr(text, legacy)
