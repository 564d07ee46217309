"""plain.py, the records without dataclasses (start-up): the behaviour of
dataclasses that the code relies on."""

from __future__ import annotations

import pickle

import pytest

from fmipdissect.lint.engine import FileStats, LintConfig
from fmipdissect.lint.keys import Key
from fmipdissect.lint.report import finding_dict
from fmipdissect.plain import Frozen, Record
from fmipdissect.records import CaptureNote, Datagram, Finding, Message
from fmipdissect.spec import protocol as P
from fmipdissect.spec.rules import RULES, Rule


class Point(Frozen):
    x: int
    y: int
    label: str = "origin"


def test_frozen_fields_defaults_and_errors():
    p = Point(1, y=2)
    assert (p.x, p.y, p.label) == (1, 2, "origin")
    assert Point._fields == ("x", "y", "label")
    assert repr(p) == "Point(x=1, y=2, label='origin')"
    with pytest.raises(TypeError, match="missing argument 'y'"):
        Point(1)
    with pytest.raises(TypeError, match="unexpected arguments z"):
        Point(1, 2, z=3)
    with pytest.raises(TypeError, match="takes 3 arguments, 4 given"):
        Point(1, 2, "a", "b")
    with pytest.raises(TypeError):
        Point(1, 2, x=1)                  # x given twice


def test_frozen_is_read_only_equal_and_hashed_by_value():
    p = Point(1, 2)
    with pytest.raises(AttributeError, match="read-only"):
        p.x = 5
    with pytest.raises(AttributeError, match="read-only"):
        del p.label
    assert p == Point(1, 2, "origin") and p != Point(1, 3)
    assert p != (1, 2, "origin")           # another class is never equal
    assert len({p, Point(1, 2), Point(2, 1)}) == 2
    assert pickle.loads(pickle.dumps(p)) == p


def test_spec_tables_keep_their_frozen_dataclass_behaviour():
    rule = RULES[0]
    assert Rule(*(getattr(rule, f) for f in Rule._fields)) == rule
    assert hash(rule) == hash(Rule(*(getattr(rule, f)
                                     for f in Rule._fields)))
    with pytest.raises(AttributeError):
        P.FBU.key = "x"
    assert P.FBU.codes == {} and P.FBU.field("lifetime").size == 2
    with pytest.raises(TypeError):        # a dict field: unhashable, as before
        hash(P.FBACK)


def test_lint_config_with_keys_survives_pickle_for_j_workers():
    config = LintConfig(keys={7: Key(7, b"\x01" * 16, "hmac-md5")},
                        lla_length=8)
    back = pickle.loads(pickle.dumps(config, pickle.HIGHEST_PROTOCOL))
    assert back == config and back.keys[7].secret == b"\x01" * 16
    assert LintConfig().enabled == frozenset(r.id for r in RULES)
    assert LintConfig().prefilter is True


def test_records_compare_and_show_by_field():
    d = Datagram(1, 0.5, "10.0.0.1", "10.0.0.2", 17, 64, 434, 434, b"x")
    assert d == Datagram(1, 0.5, "10.0.0.1", "10.0.0.2", 17, 64, 434, 434,
                         b"x")
    assert d != Datagram(2, 0.5, "10.0.0.1", "10.0.0.2", 17, 64, 434, 434,
                         b"x")
    assert repr(d).startswith("Datagram(frame=1, time=0.5, src='10.0.0.1'")
    assert d.fragments == () and d.encapsulation == "" and not d.clipped
    with pytest.raises(AttributeError):   # slotted: no stray attributes
        d.no_such_field = 1
    with pytest.raises(TypeError):        # mutable: not hashable
        hash(d)
    a, b = Message("fbu", b"", 20), Message("fbu", b"", 20)
    assert a == b and a.elements is not b.elements and a.problems == []
    f = Finding(3, 1.0, "FM101", "text", "cap.pcap")
    note = CaptureNote(3, 1.0, "FM101", "text", "cap.pcap")
    assert f != note and isinstance(note, Finding)   # the class counts
    assert pickle.loads(pickle.dumps(note)) == note


def test_finding_asdict_is_the_json_object():
    f = Finding(3, 1.0, "FM101", "text", "cap.pcap", 12, "slug", "error",
                "5.1")
    assert f.asdict() == finding_dict(f) == {
        "file": "cap.pcap", "frame": 3, "time": 1.0, "rule": "FM101",
        "name": "slug", "severity": "error", "section": "5.1",
        "message": "text"}


def test_file_stats_start_empty_and_compare():
    s, t = FileStats("a"), FileStats("a")
    assert s == t and s.counts == {"error": 0, "warning": 0, "info": 0}
    s.rules["FM101"] = 1
    assert s != t and t.rules == {}


class Sample(Record):
    __slots__ = _fields = ("a", "b", "items", "c")
    _defaults = {"b": 2, "c": "x"}
    _new_list = ("items",)


def test_record_init_from_slots_defaults_and_new_lists():
    s = Sample(1)
    assert (s.a, s.b, s.items, s.c) == (1, 2, [], "x")
    assert Sample(1).items is not Sample(1).items      # never shared
    given = [3]
    assert Sample(1, 5, given, c="y").items is given
    assert Sample(a=1, c="y") == Sample(1, 2, [], "y")
    with pytest.raises(TypeError):
        Sample()                          # a has no default
    with pytest.raises(TypeError):
        Sample(1, 2, [], "x", "extra")


def test_record_keeps_an_init_of_its_own_and_checks_default_order():
    class Own(Record):
        __slots__ = _fields = ("a",)

        def __init__(self):
            self.a = "own"

    assert Own().a == "own"
    with pytest.raises(TypeError, match="b has no default"):
        class Bad(Record):
            __slots__ = ("a", "b")
            _defaults = {"a": 0}


def test_factory_makes_what_the_class_makes():
    from fmipdissect.plain import factory
    make = factory(Sample)
    assert make(1) == Sample(1) and type(make(1)) is Sample
    assert make(1).items is not make(1).items          # never shared
    assert make(1, 5, [3], c="y") == Sample(1, 5, [3], "y")
    with pytest.raises(TypeError):
        make()                            # a has no default
