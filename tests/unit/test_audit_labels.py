"""Every action the app writes to the audit log has a label in the viewer, and an entry's
details read as label: value pairs.

The first test reads the source: each ``audit.record(...)`` call's action is a literal, a
conditional between literals, a variable assigned from those, or a parameter of the calling
function (``tracing.record_query(action, ...)``), whose callers are followed in turn. An action
that cannot be worked out this way fails the test too: write it so it can, and label it."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest

import khaibao
from khaibao.admin import audit_viewer
from khaibao.admin.audit_viewer import ACTION_LABELS, DETAIL_LABELS, VALUE_LABELS, detail_items
from khaibao.core import i18n
from khaibao.core.lazy import Lazy
from khaibao.officers import officers

SRC = Path(khaibao.__file__).resolve().parent


class Unresolved(Exception):
    pass


def _modules() -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for path in sorted(SRC.rglob("*.py")) if "piccolo_migrations" not in path.parts}


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _called_name(call: ast.Call) -> str | None:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)


def _is_audit_record(call: ast.Call, path: Path) -> bool:
    func = call.func
    if isinstance(func, ast.Attribute):
        return (func.attr == "record" and isinstance(func.value, ast.Name)
                and func.value.id == "audit")
    return path.name == "audit.py" and isinstance(func, ast.Name) and func.id == "record"


def _argument(call: ast.Call, position: int, name: str) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return call.args[position] if len(call.args) > position else None


class Resolver:
    def __init__(self) -> None:
        self.modules = _modules()
        self.parents = {path: _parents(tree) for path, tree in self.modules.items()}

    def _function_of(self, node: ast.AST, path: Path):
        parents = self.parents[path]
        while node in parents:
            node = parents[node]
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                return node
        return None

    def calls(self, predicate):
        for path, tree in self.modules.items():
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and predicate(node, path):
                    yield node, path

    def actions(self, expr: ast.expr | None, path: Path, where: str, depth: int = 0) -> set[str]:
        if expr is None or depth > 5:
            raise Unresolved(where)
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return {expr.value}
        if isinstance(expr, ast.IfExp):
            return (self.actions(expr.body, path, where, depth)
                    | self.actions(expr.orelse, path, where, depth))
        if isinstance(expr, ast.Name):
            function = self._function_of(expr, path)
            if function is None:
                raise Unresolved(where)
            assigned = [node.value for node in ast.walk(function) if isinstance(node, ast.Assign)
                        and any(isinstance(t, ast.Name) and t.id == expr.id
                                for t in node.targets)]
            if assigned:
                return set().union(*(self.actions(v, path, where, depth + 1) for v in assigned))
            parameters = [a.arg for a in function.args.posonlyargs + function.args.args]
            keyword_only = [a.arg for a in function.args.kwonlyargs]
            if expr.id not in parameters + keyword_only:
                raise Unresolved(where)
            position = parameters.index(expr.id) if expr.id in parameters else 10_000
            callers = list(self.calls(lambda c, _p: _called_name(c) == function.name))
            if not callers:
                raise Unresolved(where)
            found: set[str] = set()
            for call, call_path in callers:
                found |= self.actions(_argument(call, position, expr.id), call_path,
                                      f"{call_path.relative_to(SRC)}:{call.lineno}", depth + 1)
            return found
        raise Unresolved(where)


def recorded_actions() -> dict[str, str]:
    """Every action ``audit.record`` is called with in src/, and where."""
    resolver = Resolver()
    found: dict[str, str] = {}
    for call, path in resolver.calls(_is_audit_record):
        where = f"{path.relative_to(SRC)}:{call.lineno}"
        for action in resolver.actions(_argument(call, 0, "action"), path, where):
            found.setdefault(action, where)
    return found


def test_every_recorded_action_has_a_label():
    try:
        found = recorded_actions()
    except Unresolved as unresolved:
        pytest.fail(f"cannot tell which action audit.record writes at src/{unresolved}")
    # the reader follows each way an action reaches audit.record
    assert {"check.lookup", "venue.enable", "venue.disable", "officer.disable",
            "trace.query", "trace.export", "trace.listed", "policy.end"} <= set(found)
    assert len(found) >= 45
    missing = {action: where for action, where in found.items() if action not in ACTION_LABELS}
    assert not missing, f"audit actions without a label in audit_viewer.ACTION_LABELS: {missing}"


def test_the_reader_refuses_an_action_it_cannot_work_out():
    resolver = Resolver()
    module = ast.parse("async def f(make):\n    await audit.record(make(), actor_kind='system')\n")
    path = SRC / "example.py"
    resolver.modules[path] = module
    resolver.parents[path] = _parents(module)
    [(call, call_path)] = [c for c in resolver.calls(_is_audit_record) if c[1] == path]
    with pytest.raises(Unresolved):
        resolver.actions(_argument(call, 0, "action"), call_path, "example.py:2")


def _all_labels() -> set[str]:
    """Every label as the catalog keys it (a label with a context: context, "\x04", msgid)."""
    detail = {f"{label.context}\x04{label.msgid}" if isinstance(label, Lazy) else label
              for label in DETAIL_LABELS.values()}
    labels = set(ACTION_LABELS.values()) | detail
    for values in VALUE_LABELS.values():
        labels |= {label for label in values.values() if label}
    return labels


def test_every_label_has_an_english_translation():
    english = i18n.catalog("en")
    untranslated = sorted(label for label in _all_labels() if label not in english)
    assert not untranslated


@pytest.fixture
def english():
    token = i18n.current_language.set("en")
    yield
    i18n.current_language.reset(token)


def test_details_read_as_labelled_pairs_without_empty_values():
    detail = {"venue": None, "from": "2026-11-20T17:00:00+00:00",
              "to": "2026-11-22T17:00:00+00:00", "reason": "Ca F0 tại chợ", "rows": 3}
    assert detail_items(detail) == [("Từ", "21/11/2026 00:00"), ("Đến", "23/11/2026 00:00"),
                                    ("Lý do", "Ca F0 tại chợ"), ("Số dòng", "3")]
    policy = {"policy_key": 7, "version": 2, "target": "VN-46", "measure": "home",
              "days": 7, "from": "2026-11-20T01:00:00+00:00", "to": None}
    assert dict(detail_items(policy)) == {
        "Địa bàn áp dụng": "VN-46", "Mã chính sách": "#7", "Phiên bản": "2",
        "Biện pháp": "Cách ly tại nhà", "Số ngày": "7", "Từ": "20/11/2026 08:00"}


def test_coded_values_and_unknown_keys(english):
    items = dict(detail_items({
        "result": "not_found", "found": False, "role": "venue", "previous_role": "local",
        "added": [3, 5], "removed": [], "region": "*", "decision": "all",
        "date_from": "2026-11-20", "mystery": "x"}))
    assert items == {
        "Result": "Not found", "Found": "no", "Role": "Venue staff",
        "Previous role": "Local official", "Added": "#3, #5", "Area": "Whole system",
        "Measure filter": "All", "date_from": "20/11/2026", "mystery": "x"}


def test_an_unknown_action_shows_its_code(english):
    assert audit_viewer.action_label("check.lookup") == "QR code / ID lookup"
    assert audit_viewer.action_label("trace.listed") == "Listed in a tracing result"
    assert audit_viewer.action_label("old.thing") == "old.thing"
    assert audit_viewer.action_choices(["trace.listed", "arrivals.export", "old.thing"]) == [
        ("arrivals.export", "Arrivals list exported"),
        ("trace.listed", "Listed in a tracing result"), ("old.thing", "old.thing")]


def test_officers_with_one_name_are_told_apart():
    now = datetime.now(UTC)
    same = [officers.OfficerView(id=i, name="Lê Văn Chốt", role=officers.CHECKPOINT,
                                 active=True, created_at=now, checkpoint_name=place)
            for i, place in ((12, "Chốt Phong Điền"), (4, ""))]
    choices = audit_viewer.officer_choices(same)
    assert choices == [("4", "Lê Văn Chốt (Cán bộ chốt kiểm soát) #4"),
                       ("12", "Lê Văn Chốt (Cán bộ chốt kiểm soát, Chốt Phong Điền) #12")]
    assert len({label for _id, label in choices}) == 2
