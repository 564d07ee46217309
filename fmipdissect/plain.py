"""Plain record classes: what the project used dataclasses for, cheaper.

`dataclasses` imports inspect, ast, dis and tokenize and writes each
class's methods with exec: some 16 ms of `fmip-lint`'s start-up plus about
1 ms per class (docs/performance.md, start-up).  The records of the lint
path use these two bases instead:

  Record  eq and repr over the field names in `_fields`, as a dataclass
          has; the subclass names its fields once, in `__slots__` (the
          records made per packet, records.py, and other mutable ones),
          and gets an `__init__` taking them in that order: defaults from
          `_defaults`, a new empty list for the fields in `_new_list`.
  Frozen  a read-only table entry built once at import (spec/*.py): the
          fields are the class annotations in order, a default is the class
          attribute of that name; equal and hashed by value, like a frozen
          dataclass.
"""

from __future__ import annotations


class Record:
    """Equality and repr by the values of the fields named in `_fields`;
    an `__init__` over `__slots__` unless the subclass writes its own."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()
    _defaults: dict = {}            # field -> default (an immutable value)
    _new_list: tuple[str, ...] = ()   # fields that default to a new []
    __hash__ = None         # mutable: not hashable, as an eq dataclass

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        own = cls.__dict__
        if own.get("__slots__") and "__init__" not in own:
            cls.__init__ = _slots_init(cls)

    def _values(self) -> tuple:
        return tuple([getattr(self, name) for name in self._fields])

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}"
                          for name in self._fields)
        return f"{type(self).__qualname__}({inner})"


def _slots_source(cls) -> tuple[list[str], list[str]]:
    """The parameters and body lines that set a slotted Record's fields
    (defaults from `_defaults`, a new list for `_new_list`)."""
    params, body = [], []
    for name in cls.__slots__:
        if name in cls._new_list:
            params.append(f"{name}=None")
            body.append(f"    self.{name} = [] if {name} is None else {name}")
            continue
        if name in cls._defaults:
            params.append(f"{name}=_defaults[{name!r}]")
        elif params and "=" in params[-1]:
            raise TypeError(f"{cls.__name__}: {name} has no default but "
                            f"follows a field that has one")
        else:
            params.append(name)
        body.append(f"    self.{name} = {name}")
    return params, body


def _slots_init(cls):
    """__init__(self, <__slots__ in order>) as straight-line code: the
    records are made per packet, and a loop of setattr calls is slower."""
    params, body = _slots_source(cls)
    source = f"def __init__(self, {', '.join(params)}):\n" + "\n".join(body)
    namespace = {"_defaults": cls._defaults}
    exec(source, namespace)   # noqa: S102 - built from the class's own names
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


def factory(cls):
    """A function taking what cls() takes and returning the same record,
    without going through the class call and its __init__: CPython 3.11
    runs a call of a Python function inside the caller's frame loop, a
    class call through C and a second frame (for the records a decoder
    makes per message)."""
    params, body = _slots_source(cls)
    source = (f"def make({', '.join(params)}):\n    self = _new(_cls)\n"
              + "\n".join(body) + "\n    return self")
    namespace = {"_defaults": cls._defaults, "_new": object.__new__,
                 "_cls": cls}
    exec(source, namespace)   # noqa: S102 - built from the class's own names
    make = namespace["make"]
    make.__qualname__ = f"{cls.__qualname__}.make"
    return make


class Frozen(Record):
    """A read-only record: fields from the annotations, positional or by
    keyword, defaults from the class attributes."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("__annotations__", {})
        cls._fields = cls._fields + tuple(n for n in own
                                          if n not in cls._fields)

    def __init__(self, *args, **kwargs):
        cls = type(self)
        fields = cls._fields
        if len(args) > len(fields):
            raise TypeError(f"{cls.__name__}() takes {len(fields)} "
                            f"arguments, {len(args)} given")
        values = self.__dict__
        values.update(zip(fields, args))
        for name in fields[len(args):]:
            if name in kwargs:
                values[name] = kwargs.pop(name)
            elif not hasattr(cls, name):
                raise TypeError(f"{cls.__name__}() missing argument {name!r}")
        if kwargs:
            raise TypeError(f"{cls.__name__}() got unexpected arguments "
                            f"{', '.join(kwargs)}")

    def __hash__(self) -> int:
        return hash(self._values())

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is read-only: cannot "
                             f"set {name!r}")

    def __delattr__(self, name):
        raise AttributeError(f"{type(self).__name__} is read-only: cannot "
                             f"delete {name!r}")
