"""The types of a kernel spec: the C interface of an mf_nn kernel, written once.

A `KernelSpec` names the C function and lists its arguments in order, each argument saying
where its value comes from in a `KernelCall` (mcuforge.kernel_params) and in a codegen Step.
From it follow, without a second hand-written copy:
  - the C of the call in the generated model (`render_call`),
  - the check that a binding produced exactly the values the C needs (`check_call`),
  - the scratch bytes the planner reserves (`ScratchRule`, the twin of `*_get_buffer_size`),
  - whether the output may overwrite an input (`in_place`),
  - the ctypes bindings of tests/runtime/mfnn.py,
and tests/test_kernel_specs.py parses runtime_c/include/mf_nn.h and fails when a spec and the
header disagree (function names, argument names and types, struct fields and types).

Struct layouts are written as text, one C line of the generated initializer per text line:
"input_offset: int32_t, output_offset: int32_t". Scalar struct fields take the binding's value
of the same name; an `mf_tile` field takes a (h, w) pair; the `mf_activation` field takes the
two values `act_min` and `act_max`; an `int32_t[4]` field takes four ints; an array field
written `int32_t[8] (rank)` takes the first `rank` entries (the value of field `rank`), the C
zero-filling the rest. A `Params` argument with `positional=True` lays its values out without
field names (`{ 2, { 144, 8 } }`).

A spec with `each="copies"` is a step of several calls of one kernel: the call's
params["copies"] is a list of per-call parameter dicts, each checked against the arguments as a
call of its own and rendered as a block of its own (`mf_strided_copy_s8`: one call per copy).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

Dims = tuple[int, int, int, int]

INT_RANGES = {"int8_t": (-(1 << 7), (1 << 7) - 1), "int32_t": (-(1 << 31), (1 << 31) - 1),
              "uint8_t": (0, 255),
              "int64_t": (-(1 << 63), (1 << 63) - 1)}  # area reductions: mf_layer_norm_params.eps


class CallLike(Protocol):
    """What a spec reads of mcuforge.kernel_params.KernelCall."""

    kernel: str
    params: dict[str, Any]
    arrays: dict[str, Any]
    dims: dict[str, Dims]


class StepLike(Protocol):
    """What a spec reads of mcuforge.codegen.program.Step when rendering C."""

    call: Any
    inputs: list[str]
    output: str
    outputs: list[str]
    consts: dict[str, str]
    scratch_offset: int
    scratch_size: int
    state: dict[str, int]  # stateful ops: role -> offset in the model's state buffer


# -- structs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    name: str
    ctype: str  # "int32_t", "int8_t", "mf_tile", "mf_activation", "int32_t[4]", "const uint8_t *"
    length: str = ""  # array fields: the field holding how many leading entries are given

    def param_names(self) -> tuple[str, ...]:
        """The binding's parameter names this field is filled from."""
        return ("act_min", "act_max") if self.ctype == "mf_activation" else (self.name,)


@dataclass(frozen=True)
class Struct:
    name: str
    lines: tuple[tuple[Field, ...], ...]  # the fields, grouped as the generated C lays them out

    @property
    def fields(self) -> tuple[Field, ...]:
        return tuple(f for line in self.lines for f in line)


STRUCTS: dict[str, Struct] = {}


def struct(name: str, layout: str) -> Struct:
    """A C struct from its layout text (see the module doc); registered in STRUCTS."""
    lines = []
    for text in layout.strip().splitlines():
        fields = []
        for item in text.split(","):
            fname, ctype = item.split(":")
            ctype, _, length = ctype.strip().partition(" (")
            fields.append(Field(fname.strip(), ctype, length.removesuffix(")")))
        lines.append(tuple(fields))
    s = Struct(name, tuple(lines))
    if name in STRUCTS and STRUCTS[name] != s:
        raise ValueError(f"struct {name} is specified twice, differently")
    STRUCTS[name] = s
    return s


def _c_int(value: Any, ctype: str, what: str) -> str:
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise ValueError(f"{what}: {value!r} is not an integer ({ctype})")
    v = int(value)
    lo, hi = INT_RANGES[ctype]
    if not lo <= v <= hi:
        raise ValueError(f"{what}: {v} is outside {ctype} [{lo}, {hi}]")
    return str(v)


def _ints(value: Any, count: int, ctype: str, what: str) -> list[str]:
    if isinstance(value, (str, bytes)) or (not isinstance(value, Sequence) and not hasattr(value, "tolist")):
        raise ValueError(f"{what}: {value!r} is not a sequence of {count} integers")
    items = list(value)
    if len(items) != count:
        raise ValueError(f"{what}: {value!r} has {len(items)} values, the C field {count}")
    return [_c_int(v, ctype, what) for v in items]


def field_value(f: Field, params: Mapping[str, Any], kernel: str) -> str:
    """The C initializer of a parameter-struct field from the binding's values (checked)."""
    what = f"{kernel}: parameter '{f.name}'"
    if f.ctype == "mf_activation":
        lo = _c_int(params["act_min"], "int32_t", f"{kernel}: parameter 'act_min'")
        hi = _c_int(params["act_max"], "int32_t", f"{kernel}: parameter 'act_max'")
        return f"{{ .min = {lo}, .max = {hi} }}"
    if f.ctype == "mf_tile":
        h, w = _ints(params[f.name], 2, "int32_t", what)
        return f"{{ .h = {h}, .w = {w} }}"
    if f.ctype.endswith("]"):
        base, count = f.ctype[:-1].split("[")
        if f.length:
            given = int(_c_int(params[f.length], "int32_t", f"{kernel}: parameter '{f.length}'"))
            if not 1 <= given <= int(count):
                raise ValueError(f"{kernel}: parameter '{f.length}' is {given}; the C field "
                                 f"'{f.name}' holds 1 to {count} values")
            value = params[f.name]
            if hasattr(value, "__len__") and len(value) != given:
                raise ValueError(f"{what}: {value!r} has {len(value)} values, '{f.length}' is {given}")
            return "{ " + ", ".join(_ints(params[f.name], given, base, what)) + " }"
        return "{ " + ", ".join(_ints(params[f.name], int(count), base, what)) + " }"
    return _c_int(params[f.name], f.ctype, what)


def dims_c(d: Sequence[int]) -> str:
    n, h, w, c = _ints(d, 4, "int32_t", "dims")
    return f"{{ .n = {n}, .h = {h}, .w = {w}, .c = {c} }}"


# -- arguments -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Arg:
    """One C argument: `name` and `ctype` as mf_nn.h declares them."""

    name: str
    ctype: str

    late = False  # declared after the other arguments' locals (just before the call)

    def declare(self, s: StepLike) -> list[str]:
        """Lines declaring the local the argument points at, if any."""
        return []

    def expr(self, s: StepLike) -> str:
        raise NotImplementedError

    def param_keys(self) -> tuple[str, ...]:
        return ()

    def dims_keys(self) -> tuple[str, ...]:
        return ()

    def array_keys(self) -> tuple[tuple[str, bool], ...]:
        """(role, required) of the call's constant arrays this argument reads."""
        return ()


@dataclass(frozen=True)
class Context(Arg):
    """`const mf_context *ctx`: the scratch slot the planner reserved (spec.scratch bytes)."""

    name: str = "ctx"
    ctype: str = "const mf_context *"
    late = True

    def declare(self, s: StepLike) -> list[str]:
        where = f"arena + {s.scratch_offset}, {s.scratch_size}" if s.scratch_size else "NULL, 0"
        return [f"const mf_context ctx = {{ {where} }};"]

    def expr(self, s: StepLike) -> str:
        return "&ctx"


@dataclass(frozen=True)
class Params(Arg):
    """`const <struct> *NAME`: a static parameter struct `var` filled from call.params, with
    designated initializers (`.name = value`) or, `positional`, values in field order."""

    struct: Struct = None  # type: ignore[assignment]
    var: str = "params"
    positional: bool = False

    def declare(self, s: StepLike) -> list[str]:
        p = s.call.params
        lines = [f"static const {self.struct.name} {self.var} = {{"]
        label = (lambda f: "") if self.positional else (lambda f: f".{f.name} = ")
        body = [", ".join(f"{label(f)}{field_value(f, p, s.call.kernel)}" for f in line)
                for line in self.struct.lines]
        lines += [f"    {b}," for b in body[:-1]] + [f"    {body[-1]}", "};"]
        return lines

    def expr(self, s: StepLike) -> str:
        return f"&{self.var}"

    def param_keys(self) -> tuple[str, ...]:
        return tuple(k for f in self.struct.fields for k in f.param_names())


@dataclass(frozen=True)
class ConstStruct(Arg):
    """`const <struct> *NAME` built from constant arrays ("array:ROLE") and call parameters
    ("param:KEY"), in field order, as a static local `var`."""

    struct: Struct = None  # type: ignore[assignment]
    var: str = ""
    sources: tuple[str, ...] = ()

    late = True

    def declare(self, s: StepLike) -> list[str]:
        values = []
        for f, src in zip(self.struct.fields, self.sources):
            kind, key = src.split(":")
            values.append(s.consts[key] if kind == "array" else
                          _c_int(s.call.params[key], f.ctype, f"{s.call.kernel}: parameter '{key}'"))
        return [f"static const {self.struct.name} {self.var} = {{ {', '.join(values)} }};"]

    def expr(self, s: StepLike) -> str:
        return f"&{self.var}"

    def param_keys(self) -> tuple[str, ...]:
        return tuple(src.split(":")[1] for src in self.sources if src.startswith("param:"))

    def array_keys(self) -> tuple[tuple[str, bool], ...]:
        return tuple((src.split(":")[1], True) for src in self.sources if src.startswith("array:"))


@dataclass(frozen=True)
class DimsArg(Arg):
    """`const mf_dims *ROLE_dims`: call.dims[ROLE] as a static local of the argument's name."""

    ctype: str = "const mf_dims *"

    @property
    def role(self) -> str:
        return self.name.removesuffix("_dims")

    def declare(self, s: StepLike) -> list[str]:
        return [f"static const mf_dims {self.name} = {dims_c(s.call.dims[self.role])};"]

    def expr(self, s: StepLike) -> str:
        return f"&{self.name}"

    def dims_keys(self) -> tuple[str, ...]:
        return (self.role,)


def _pointer(pointers: list[str], index: int, s: StepLike, select: str, offset: str) -> str:
    p = s.call.params
    if select:
        index = int(_c_int(p[select], "int32_t", f"{s.call.kernel}: '{select}'"))
    text = pointers[index]
    return f"{text} + {_c_int(p[offset], 'int32_t', f'{s.call.kernel}: {offset!r}')}" if offset else text


def _typed(text: str, ctype: str) -> str:
    """An arena pointer (int8_t *) as the argument's element type: int16 (issue 11) and int32
    (mf_requantize_s32's output) go through void * so that the C compiles without a cast
    warning; int8 and void * need no cast."""
    if "int16_t" not in ctype and "int32_t" not in ctype:
        return text
    return f"({ctype})({'const ' if ctype.startswith('const') else ''}void *)({text})"


@dataclass(frozen=True)
class Input(Arg):
    """`const int8_t *NAME`: data input `index` of the op (an arena pointer or a constant), or
    input call.params[select] when `select` is set; plus call.params[offset] elements when
    `offset` is set."""

    ctype: str = "const int8_t *"
    index: int = 0
    select: str = ""
    offset: str = ""

    def expr(self, s: StepLike) -> str:
        return _typed(_pointer(s.inputs, self.index, s, self.select, self.offset), self.ctype)

    def param_keys(self) -> tuple[str, ...]:
        return tuple(k for k in (self.select, self.offset) if k)


@dataclass(frozen=True)
class Output(Arg):
    """`int8_t *output`: the op's output, or its output call.params[select] when `select` is
    set (SPLIT has several); plus call.params[offset] elements when `offset` is set."""

    name: str = "output"
    ctype: str = "int8_t *"
    select: str = ""
    offset: str = ""

    def expr(self, s: StepLike) -> str:
        if not self.select:
            return _typed(_pointer([s.output], 0, s, "", self.offset), self.ctype)
        return _typed(_pointer(s.outputs, 0, s, self.select, self.offset), self.ctype)

    def param_keys(self) -> tuple[str, ...]:
        return tuple(k for k in (self.select, self.offset) if k)


@dataclass(frozen=True)
class Const(Arg):
    """A constant array of the call by role (`filter`, `bias`, `table`); `optional` ones pass
    NULL when absent. `operand`: the op input the array is when the call does not carry it
    (int8 filters are the op's weight tensor, which codegen stores once)."""

    role: str = ""
    optional: bool = False
    operand: int | None = None

    def expr(self, s: StepLike) -> str:
        return s.consts.get(self.role, "NULL") if self.optional else s.consts[self.role]

    def array_keys(self) -> tuple[tuple[str, bool], ...]:
        return ((self.role, not self.optional and self.operand is None),)


@dataclass(frozen=True)
class Scalar(Arg):
    """An `int32_t` argument from call.params[key] (key defaults to the argument's name)."""

    ctype: str = "int32_t"
    key: str = ""

    @property
    def param(self) -> str:
        return self.key or self.name

    def expr(self, s: StepLike) -> str:
        return _c_int(s.call.params[self.param], "int32_t", f"{s.call.kernel}: '{self.param}'")

    def param_keys(self) -> tuple[str, ...]:
        return (self.param,)


@dataclass(frozen=True)
class ParamArray(Arg):
    """`const int32_t *NAME`: call.params[NAME], `length` ints, as a static local array."""

    ctype: str = "const int32_t *"
    length: int = 4

    def declare(self, s: StepLike) -> list[str]:
        vals = _ints(s.call.params[self.name], self.length, "int32_t", f"{s.call.kernel}: '{self.name}'")
        return [f"static const int32_t {self.name}[{self.length}] = {{ {', '.join(vals)} }};"]

    def expr(self, s: StepLike) -> str:
        return self.name

    def param_keys(self) -> tuple[str, ...]:
        return (self.name,)


@dataclass(frozen=True)
class InputList(Arg):
    """`const int8_t *const *NAME`: all data inputs of the op, as a local pointer array."""

    ctype: str = "const int8_t *const *"

    def declare(self, s: StepLike) -> list[str]:
        return [f"const int8_t *const {self.name}[{len(s.inputs)}] = {{ {', '.join(s.inputs)} }};"]

    def expr(self, s: StepLike) -> str:
        return self.name


@dataclass(frozen=True)
class DimsList(Arg):
    """`const mf_dims *NAME`: call.dims["input0"], ["input1"], ... one per data input."""

    ctype: str = "const mf_dims *"

    def declare(self, s: StepLike) -> list[str]:
        n = len(s.inputs)
        rows = [f"    {dims_c(s.call.dims[f'input{i}'])}{',' if i < n - 1 else ''}" for i in range(n)]
        return [f"static const mf_dims {self.name}[{n}] = {{", *rows, "};"]

    def expr(self, s: StepLike) -> str:
        return self.name

    def dims_keys(self) -> tuple[str, ...]:
        return ("input*",)


@dataclass(frozen=True)
class State(Arg):
    """`int16_t *NAME` (or another integer pointer type): the op's persistent buffer `role`, a
    slice of the generated model's state buffer `mf_state` that survives between inferences
    (stateful area; codegen.program.StateSlot)."""

    ctype: str = "int16_t *"
    role: str = ""
    optional: bool = False  # NULL when the op instance keeps no such buffer

    def expr(self, s: StepLike) -> str:
        if self.optional and self.role not in s.state:
            return "NULL"
        return f"({self.ctype})(void *)(mf_state + {s.state[self.role]})"


# -- scratch -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScratchRule:
    """The twin of the C `<kernel>_get_buffer_size`: its arguments (C name, C type, where the
    value comes from in a call: "dims.ROLE", "params.KEY", or element i of either, "dims.ROLE[i]",
    "params.KEY[i]") and the formula."""

    args: tuple[tuple[str, str, str], ...]
    size: Callable[..., int]

    def values(self, dims: Mapping[str, Dims], params: Mapping[str, Any]) -> list[Any]:
        out = []
        for _, _, src in self.args:
            kind, key = src.split(".", 1)
            name, _, index = key.partition("[")
            value = tuple(dims[name]) if kind == "dims" else params[name]
            out.append(value[int(index[:-1])] if index else value)
        return out

    def bytes(self, dims: Mapping[str, Dims], params: Mapping[str, Any]) -> int:
        return int(self.size(*self.values(dims, params)))


WINDOW_SCRATCH_ARGS = (("input_dims", "const mf_dims *", "dims.input"),
                       ("filter_dims", "const mf_dims *", "dims.filter"))


def window_scratch(size: Callable[[Dims, Dims], int]) -> ScratchRule:
    """A rule of (input_dims, filter_dims), the convolution kernels' signature."""
    return ScratchRule(WINDOW_SCRATCH_ARGS, size)


def no_scratch(args: tuple[tuple[str, str, str], ...]) -> ScratchRule:
    """A `*_get_buffer_size` that returns 0 on every path."""
    return ScratchRule(args, lambda *_: 0)


# -- kernels -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KernelSpec:
    """One C function of mf_nn.

    `scratch` is None when the kernel has no `*_get_buffer_size`. `in_place`: the output may
    overwrite an input of the output's shape. `when`: in words, when the compiler picks this
    variant of its family. `path`: the code path the C takes for a call, when the C picks among
    paths of one function (shown in report.json); DSP/MVE paths are picked by the C
    preprocessor from the target's __ARM_FEATURE_* macros when the library is compiled.
    `each`: a step of several calls, one per entry of the list call.params[each] (the entry
    being that call's params; see the module doc); such a kernel takes no scratch."""

    name: str
    args: tuple[Arg, ...]
    family: str
    when: str = ""
    scratch: ScratchRule | None = None
    in_place: bool = False
    path: Callable[[CallLike], str] | None = None
    each: str = ""

    def __post_init__(self) -> None:
        if self.each and (self.scratch is not None or self.in_place):
            raise ValueError(f"{self.name}: a kernel called once per entry of '{self.each}' takes "
                             "no scratch and does not run in place")

    def param_keys(self) -> set[str]:
        return {k for a in self.args for k in a.param_keys()}

    def dims_keys(self) -> set[str]:
        return {k for a in self.args for k in a.dims_keys()}

    def array_keys(self) -> dict[str, bool]:
        keys: dict[str, bool] = {}
        for a in self.args:
            keys.update(a.array_keys())
        return keys


@dataclass(frozen=True)
class Family:
    """Kernels that run one kind of op: `folder` is their runtime_c/src/ subfolder; `kernels`
    its variants (separate C functions the compiler chooses between)."""

    name: str
    folder: str
    kernels: tuple[KernelSpec, ...]


SPECS: dict[str, KernelSpec] = {}
FAMILIES: dict[str, Family] = {}


def family(name: str, folder: str, *kernels: KernelSpec) -> Family:
    """Register a family and its kernels."""
    for k in kernels:
        if k.name in SPECS:
            raise ValueError(f"kernel {k.name} is specified twice")
        SPECS[k.name] = k
    fam = Family(name, folder, tuple(kernels))
    FAMILIES[name] = fam
    return fam


# -- derived: checking and rendering -------------------------------------------------------------


@dataclass(frozen=True)
class OneCall:
    """One C call of a step (a CallLike): for an `each` spec, the call with one entry's params."""

    kernel: str
    params: dict[str, Any]
    arrays: dict[str, Any]
    dims: dict[str, Dims]


def single_calls(call: CallLike) -> list[CallLike]:
    """The C calls a kernel call makes: itself, or one per entry of params[spec.each]."""
    each = SPECS[call.kernel].each
    if not each:
        return [call]
    entries = call.params.get(each)
    if set(call.params) != {each} or not isinstance(entries, list) or not entries:
        raise ValueError(f"{call.kernel}: the binding gives parameters {sorted(call.params)}; the "
                         f"kernel spec takes exactly '{each}', a non-empty list of per-call parameters")
    bad = [e for e in entries if not isinstance(e, Mapping)]
    if bad:
        raise ValueError(f"{call.kernel}: '{each}' holds {bad[0]!r}, not a mapping of parameters")
    return [OneCall(call.kernel, dict(e), call.arrays, call.dims) for e in entries]


def check_call(call: CallLike) -> None:
    """ValueError when a binding's values are not exactly those its kernel's C arguments take:
    a missing or extra parameter, dims or array, or a value of the wrong type or range."""
    for one in single_calls(call):
        _check_one(one)


def _check_one(call: CallLike) -> None:
    spec = SPECS[call.kernel]
    want = spec.param_keys()
    problems = []
    if missing := sorted(want - call.params.keys()):
        problems.append(f"missing parameter(s) {', '.join(missing)}")
    if extra := sorted(call.params.keys() - want):
        problems.append(f"parameter(s) {', '.join(extra)} that no C argument takes")
    dims_want = spec.dims_keys()
    if "input*" in dims_want:
        dims_want = (dims_want - {"input*"}) | {k for k in call.dims if k.startswith("input")}
    if missing := sorted(dims_want - call.dims.keys()):
        problems.append(f"missing dims {', '.join(missing)}")
    if extra := sorted(call.dims.keys() - dims_want):
        problems.append(f"dims {', '.join(extra)} that no C argument takes")
    arrays = spec.array_keys()
    if missing := sorted(k for k, required in arrays.items() if required and k not in call.arrays):
        problems.append(f"missing array(s) {', '.join(missing)}")
    if extra := sorted(call.arrays.keys() - arrays.keys()):
        problems.append(f"array(s) {', '.join(extra)} that no C argument takes")
    if problems:
        raise ValueError(f"{call.kernel}: the binding gives {'; '.join(problems)} (kernel spec)")
    for a in spec.args:  # types and ranges
        if isinstance(a, Params):
            for f in a.struct.fields:
                field_value(f, call.params, call.kernel)
        elif isinstance(a, Scalar):
            _c_int(call.params[a.param], "int32_t", f"{call.kernel}: '{a.param}'")
        elif isinstance(a, ParamArray):
            _ints(call.params[a.name], a.length, "int32_t", f"{call.kernel}: '{a.name}'")
        elif isinstance(a, (Input, Output)):
            for key in a.param_keys():
                _c_int(call.params[key], "int32_t", f"{call.kernel}: '{key}'")
    for d in call.dims.values():
        _ints(d, 4, "int32_t", f"{call.kernel}: dims")


class _OneStep:
    """A step seen through one of its calls (an `each` spec): call.params is that entry's."""

    def __init__(self, step: StepLike, call: CallLike) -> None:
        self._step, self.call = step, call

    def __getattr__(self, name: str) -> Any:
        return getattr(self._step, name)


def render_call(s: StepLike) -> str:
    """The C of a step's kernel call: the locals its arguments point at, then the checked call;
    for an `each` spec, one braced block per call. Lines after the first are not indented (the
    template indents them)."""
    if not SPECS[s.call.kernel].each:
        return _render_one(s)
    blocks = []
    for one in single_calls(s.call):
        body = _render_one(_OneStep(s, one)).splitlines()  # type: ignore[arg-type]
        blocks += ["{", *(f"    {line}" for line in body), "}"]
    return "\n".join(blocks)


def _render_one(s: StepLike) -> str:
    spec = SPECS[s.call.kernel]
    early = [line for a in spec.args if not a.late for line in a.declare(s)]
    late = [line for a in spec.args if a.late and not isinstance(a, Context) for line in a.declare(s)]
    ctx = [line for a in spec.args if isinstance(a, Context) for line in a.declare(s)]
    call = f"MF_CHECK({spec.name}({', '.join(a.expr(s) for a in spec.args)}));"
    return "\n".join([*early, *late, *ctx, call])


def scratch_bytes(call: CallLike) -> int:
    spec = SPECS[call.kernel]
    return spec.scratch.bytes(call.dims, call.params) if spec.scratch else 0


def kernel_label(call: CallLike) -> str:
    """The kernel and, where the C picks among paths of one function, the path it takes."""
    spec = SPECS.get(call.kernel)
    path = spec.path(call) if spec is not None and spec.path is not None else ""
    return f"{call.kernel} ({path})" if path else call.kernel
