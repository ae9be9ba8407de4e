"""What a framework is to varscale: :class:`Framework`, the base every framework module subclasses.

The class attributes are the framework's facts (layout, ``max(1, n)``, the
module paths that name it, the functions it offers); the methods are its rules
(refused shapes, fans, how it reads a call, how it writes a law). A method's
base implementation is the rule most frameworks share; a framework overrides
only where it differs.

Example:
    >>> from varscale import frameworks
    >>> fw = frameworks.get("mindspore")
    >>> fw.owns_module(("mindspore", "common", "initializer"), "HeNormal"), fw.layout
    (True, 'torch')
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from .._errors import InvalidArgumentError
from .._fans import compute_fans
from ._reading import PRESETS, SNAKE, Call, Reader, unknown, vs_spec

if TYPE_CHECKING:
    from .._spec import Spec
    from ._writing import Ctx

__all__ = ["Framework", "OtherInit"]

#: A non-variance-scaling initializer: (family, parameter names, the parameter holding the value, its default).
OtherInit = tuple[str, tuple[str, ...], "str | None", float]


class Framework:
    """One framework: its facts, how it reads an initializer expression and how it writes one."""

    #: The name a :class:`~varscale.Spec` and a translation target use.
    name: ClassVar[str] = ""
    #: How messages name its initializer module (``"torch.nn.init"``).
    title: ClassVar[str] = ""
    #: The module its translations are written with (``"keras.initializers"``).
    module: ClassVar[str] = ""
    #: Its weight layout: ``"tf"`` ``(*k, in, out)``, ``"torch"`` ``(out, in, *k)``, or None (the source's).
    layout: ClassVar[str | None] = "tf"
    #: Its fan-based laws divide by ``max(1, n)``.
    clamps: ClassVar[bool] = True
    #: Its fan-based laws refuse weights of fewer than 2 axes.
    needs_rank2: ClassVar[bool] = False
    #: Its truncation bounds are absolute values (torch, MindSpore), not multiples of σ'.
    absolute_bounds: ClassVar[bool] = False
    #: Names users type for it as a target (``"pytorch"``), lower-case.
    aliases: ClassVar[tuple[str, ...]] = ()
    #: Dotted module paths whose functions are its initializers.
    prefixes: ClassVar[tuple[tuple[str, ...], ...]] = ()
    #: The initializers it offers that the reader knows (for did-you-mean and uncalled references).
    names: ClassVar[tuple[str, ...]] = ()
    #: Its zeros/ones/constant/orthogonal/identity initializers: name -> :data:`OtherInit`.
    other: ClassVar[Mapping[str, OtherInit]] = {}
    #: Its other initializers that are not variance scaling and that the reader does not read (dirac_, sparse_).
    unread: ClassVar[frozenset[str]] = frozenset()
    #: The names it claims in an unqualified call (``HeNormal()``), tried in :attr:`guess_order`.
    bare: ClassVar[frozenset[str]] = frozenset()
    #: Its place when several frameworks could own an unqualified call (lower first).
    guess_order: ClassVar[int] = 100
    #: Its initializers are objects a layer may be given uncalled (``bias_init=initializers.zeros``).
    passed_uncalled: ClassVar[bool] = True
    #: ``get(identifier)`` resolves names as this framework's (None: it has no ``get``).
    get_as: ClassVar[str | None] = None
    #: varscale's drop-in module for it.
    facade: ClassVar[str] = ""

    def __repr__(self) -> str:
        return f"<Framework {self.name!r}>"

    # -- facts -----------------------------------------------------------------
    def owns_module(self, head: tuple[str, ...], func: str, kw: frozenset[str] = frozenset()) -> bool:
        """True when ``head.func`` is one of its initializers (``head`` one of its module paths)."""
        return head in self.prefixes

    def claims_module(self, head: tuple[str, ...], func: str, kw: frozenset[str] = frozenset()) -> bool:
        """True when ``head.func`` (called with the keywords ``kw``) is its initializer although ``head`` is
        ambiguous (``initializers.HeNormal``, ``slim.xavier_initializer``): asked before :meth:`owns_module`."""
        return False

    def owns_bare(self, func: str, kw: set[str], node: ast.Call) -> bool:
        """True when the unqualified call ``func(...)`` (keywords ``kw``) is its initializer."""
        return func in self.bare

    def canonical(self, func: str) -> str:
        """The function's current name (torch's deprecated ``init.normal`` is ``normal_``)."""
        return func

    # -- shapes and fans ---------------------------------------------------------
    def fans(self, spec: Spec, dims: tuple[int, ...]) -> tuple[Any, Any]:
        """``(fan_in, fan_out)`` as it computes them for ``spec`` on a weight of shape ``dims``."""
        return compute_fans(dims, spec.layout)

    def rank_refusal(self, spec: Spec, rank: int) -> str | None:
        """The error it raises for a fan-based law on a weight of ``rank`` < 2 axes, or None."""
        return None

    def check_shape(self, spec: Spec, dims: tuple[int, ...], *, drawing: bool = False, noop: bool = False) -> None:
        """Refuse ``dims`` where it refuses them for the fan-based ``spec``, quoting its error."""
        who = f"{spec.framework}'s {spec.call or 'initializer'}" + ("()" if spec.call.isidentifier() else "")
        refusal = self.rank_refusal(spec, len(dims)) if len(dims) < 2 else None
        if refusal is not None:
            raise InvalidArgumentError(
                f"`shape` must have at least 2 axes for {who} ({spec.framework} raises {refusal}); "
                f"received shape={dims!r}."
            )
        self.check_empty(spec, dims, who)
        fan_in, fan_out = self.fans(spec, dims)
        if not spec.clamp and spec._raw_n(fan_in, fan_out) == 0:
            if noop:
                how = ("leaves a zero-element tensor unchanged (UserWarning: Initializing zero-element tensors is "
                       "a no-op): there is no law to describe")
            else:
                how = "divides by it without max(1, n) and raises ZeroDivisionError: float division by zero"
            raise InvalidArgumentError(
                f"`shape` gives n = 0 ({spec.mode}: fan_in={fan_in}, fan_out={fan_out}) and {who} {how}; "
                f"received shape={dims!r}."
            )

    def check_empty(self, spec: Spec, dims: tuple[int, ...], who: str) -> None:
        """Refuse a shape with a zero dimension where it fails on one (before its fans are computed)."""

    # -- reading -----------------------------------------------------------------
    def params(self, func: str) -> tuple[str, ...]:
        """The parameter names of its function ``func``, in positional order."""
        return ("seed", "dtype")

    def read_call(self, r: Reader, node: ast.Call, func: str) -> Spec:
        """The :class:`~varscale.Spec` of the call ``node`` of its function ``func``."""
        return self.read(Call(r, node, func, self.params(func)), func)

    def read(self, c: Call, func: str) -> Spec:
        """The :class:`~varscale.Spec` of its function ``func`` called with the arguments ``c``."""
        raise unknown(c.r, func, self.name, self.title, c.node.func)

    def read_other(self, r: Reader, node: ast.Call, func: str) -> Spec | None:
        """A zeros/ones/constant/orthogonal/identity call of its :attr:`other`, else None."""
        from .._spec import Spec

        entry = self.other.get(func)
        if entry is None:
            return None
        family, params, value_param, default = entry
        c = Call(r, node, func, params)
        self.check_other(c, func)
        value = c.num(value_param, default) if value_param else default
        return Spec(self.name, family, None, None, fixed=value, layout=self.other_layout(c),
                    shape=self.other_shape(c), call=func)

    def check_other(self, c: Call, func: str) -> None:
        """Refuse arguments of an :attr:`other` initializer that it has but varscale does not translate."""

    def other_layout(self, c: Call) -> str:
        """The layout an :attr:`other` initializer flattens the weight in."""
        return self.layout or "tf"

    def other_shape(self, c: Call) -> tuple[int, ...] | None:
        """The shape an :attr:`other` initializer's call carries, if any."""
        return None

    def from_name(self, r: Reader, name: str, node: ast.AST) -> Spec:
        """A string identifier as its ``get`` resolves it (Keras' rule: the presets and the other initializers)."""
        if name in self.other and name[:1].islower():
            call = ast.Call(func=ast.Name(id=name, col_offset=0), args=[], keywords=[], col_offset=0)
            got = self.read_other(r, call, name)
            if got is not None:
                return got
        key = SNAKE.get(name, name)
        if key not in PRESETS:
            from . import get

            keras = get("keras")
            names = sorted({*SNAKE, *(n for n in keras.other if n[:1].islower())})
            close = difflib.get_close_matches(name, names, n=2, cutoff=0.75)
            hint = f"; did you mean {' or '.join(repr(n) for n in close)}?" if close else ""
            raise r.fail(f"unknown initializer name {name!r}{hint} (known: {', '.join(names)})", node)
        s, m, d = PRESETS[key]
        return vs_spec(self.name, s, m, d, key)

    def config_rank(self, module: object, conf: Mapping[str, object]) -> int | None:
        """Its claim on a serialized ``{"class_name", "config", "module"}`` config: lower wins, None: not its."""
        return None

    def config_arguments(self, conf: dict[str, Any]) -> dict[str, Any]:
        """A config's arguments as its call takes them."""
        return conf

    def typed(self, text: str) -> str | None:
        """The expression a bare word users type for its function means (``kaiming_normal``), else None."""
        return None

    def name_call(self, keyword: str) -> str | None:
        """The function a string given to the layer keyword ``keyword`` is read with (MindSpore's
        ``weight_init='normal'`` → ``initializer``), else None."""
        return None

    #: Methods of a tensor object that initialize it (torch's ``w.data.normal_(0, 0.01)``).
    methods: ClassVar[Mapping[str, tuple[str, ...]]] = {}

    def read_method(self, r: Reader, node: ast.Call, func: str) -> Spec:
        """The Spec of the tensor method ``func`` called as ``node``."""
        raise r.fail(f"{func}() is not an initializer method of {self.title}", node)

    # -- writing -----------------------------------------------------------------
    def fan_code(self, ctx: Ctx) -> tuple[str, str] | None:
        """(code, verdict) of one call giving the fan-based law ``ctx.spec``, else None (no such call)."""
        return None

    def axes_code(self, ctx: Ctx) -> tuple[str, str] | None:
        """(code, verdict) for a law with JAX's named fan axes, else None."""
        return None

    def fixed_code(self, ctx: Ctx, family: str, p: float, k: float) -> tuple[str, str]:
        """(code, verdict) of a zero-mean law with the fixed parameter ``p`` (L or σ') cut at ±``k``σ'."""
        raise NotImplementedError(f"{self.name} writes no fixed law")

    def fixed_mean_code(self, ctx: Ctx, family: str, p: float, k: float, m: float) -> tuple[str, str]:
        """(code, verdict) of a fixed law centred on ``m`` != 0."""
        raise NotImplementedError(f"{self.name} writes no fixed law with a mean")

    def constant_forms(self) -> tuple[str, str, str]:
        """Code of its zeros, ones and constant (with ``{v}``) initializers."""
        raise NotImplementedError(f"{self.name} writes no constant")

    def orthogonal_code(self, ctx: Ctx, g: str) -> str:
        """Its orthogonal initializer with gain ``g`` (code)."""
        raise NotImplementedError(f"{self.name} writes no orthogonal initializer")

    def identity_code(self, ctx: Ctx, v: float, g: str) -> tuple[str, str]:
        """(code, verdict) of an identity matrix × ``v`` (``g`` is ``v`` as code)."""
        raise NotImplementedError(f"{self.name} writes no identity initializer")

    def snippet_call(self, family: str, k: str) -> str | None:
        """The last line of a snippet that computes the fans from its own weight (``bound``/``std`` known), or None
        when it writes no snippets."""
        return None

    def snippet_alternative(self, vs_code: str) -> str:
        """The varscale call giving the snippet's law (``vs_code`` a varscale initializer)."""
        return vs_code

    #: The name its snippets give the weight's shape.
    snippet_shape: ClassVar[str] = "shape"

    def clamps_code(self, code: str) -> bool:
        """Whether the ``code`` it was given divides by ``max(1, n)``."""
        return self.clamps

    def contrib_how(self, ctx: Ctx) -> str:
        """How it reproduces TF contrib's ×1.3 law (a note's ending)."""
        return ""

    def notes(self, ctx: Ctx) -> None:
        """Add its own notes on a translation to it (``ctx.notes``)."""
        s = ctx.spec
        if s.absolute_bounds and not self.absolute_bounds:
            ctx.notes.append(f"{s.framework}'s truncation bounds are absolute, {self.name}'s are in units of σ'")

