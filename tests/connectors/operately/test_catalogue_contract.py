"""What the Operately sandbox serves, compared with the output types of both API catalogues.

The connector's own traffic is recorded (a full read of every stream, ``fetch_item`` of every
kind and every write it offers), so exactly the endpoints it uses are compared, each under its
profile. Rules, per object the answer holds:

- the objects an endpoint returns (the items of ``tasks``, the ``goal`` of goals/get...) carry
  every field that profile's catalogue lists for their type: Operately's serializers emit keys
  even when null (CONTRACT §6), so a listed field the sandbox omits is a failure;
- every object, nested ones too (a champion, a task's status), carries the type's required
  fields, and no field the catalogue does not list;
- the exceptions are the deliberate ones below, each with the document that says so (also in
  docs/vendors.md, "Operately").
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from connectors.http import RetryPolicy, make_client
from connectors.operately import OperatelyConnector
from connectors.operately.client import API_PREFIX, ENDPOINTS
from connectors.operately.ids import uuid_to_short
from connectors.operately.sandbox import build
from connectors.operately.sandbox.typenames import output_catalog
from connectors.sandbox_kit import serve

FAST = {"retry_policy": RetryPolicy(max_attempts=3, base_delay=0.01, budget_seconds=5)}

# Listed by a catalogue, deliberately not served: CONTRACT §6 says the serializer never emits it.
DECLARED_NOT_SERVED = {
    ("company", "mission"): "CONTRACT §6 company: 'mission is declared but not emitted'",
    ("space", "icon"): "CONTRACT §6 space full: 'icon/color are declared but not emitted'",
    ("space", "color"): "CONTRACT §6 space full: 'icon/color are declared but not emitted'",
    ("person", "access_level"): "CONTRACT §6 person: '+access_level int only when set'",
}
# Served, deliberately, though the catalogue does not list it: CONTRACT §6 says it is emitted.
SERVED_NOT_DECLARED = {
    ("target", "inserted_at"): "CONTRACT §6 target: 'id, name, from, to, unit, index, value, inserted_at, updated_at'",
    ("target", "updated_at"): "CONTRACT §6 target (as above)",
    ("goal_check", "completed_at"): "CONTRACT §6 goal_check: 'id, name, completed, completed_at, index, ...'",
}
# Answers the server builds by hand rather than from the type (CONTRACT §6 "get_me `me` is
# hand-built"): only the nested-object rules apply to them.
HAND_BUILT = {"me"}
# Endpoints in the connector's table it does not call on a sync, fetch or write (NOTES.md: the
# work map is not read; with one company, 2026-03's get_companies already holds it; 2026-08
# asks companies/get for the token's company).
UNUSED = {"2026-03": {"flat_work_map", "company"}, "2026-08": {"flat_work_map", "companies"}}


def field_problems(value: Any, typ: Any, objects: dict[str, list[list[Any]]], *, top: bool, where: str) -> list[str]:
    """How ``value`` differs from catalogue type ``typ`` (see the module docstring)."""
    if value is None:
        return []
    if isinstance(typ, list):
        items = value if isinstance(value, list) else []
        return [p for i, item in enumerate(items) for p in field_problems(item, typ[0], objects, top=top, where=f"{where}[{i}]")]
    fields = objects.get(typ)
    if fields is None:
        return []  # a primitive or an enum
    if not isinstance(value, dict):
        return [f"{where}: a {typ} object expected, got {type(value).__name__}"]
    listed = {f[0]: f for f in fields}
    problems = [
        f"{where}.{k}: served, not in the catalogue's {typ}" for k in value if k not in listed and (typ, k) not in SERVED_NOT_DECLARED
    ]
    for name, (_, _, optional, _) in listed.items():
        if name in value or (typ, name) in DECLARED_NOT_SERVED:
            continue
        if not optional:
            problems.append(f"{where}.{name}: required by the catalogue's {typ}, not served")
        elif top:
            problems.append(f"{where}.{name}: listed by the catalogue's {typ}, not served")
    for name, child in value.items():
        if name in listed:
            problems += field_problems(child, listed[name][1], objects, top=False, where=f"{where}.{name}")
    return problems


def answer_problems(profile: str, endpoint: str, body: dict[str, Any]) -> list[str]:
    catalog = output_catalog(profile)
    outputs = {f[0]: f for f in catalog["endpoints"][endpoint]}
    problems = [f"{endpoint}: output {k} is not in the catalogue" for k in body if k not in outputs]
    problems += [f"{endpoint}: required output {k} missing" for k, f in outputs.items() if not f[2] and k not in body]
    for key, value in body.items():
        if key in outputs:
            top = key not in HAND_BUILT
            problems += field_problems(value, outputs[key][1], catalog["objects"], top=top, where=f"{endpoint}:{key}")
    return problems


class Recorder:
    """WSGI middleware: every 200 JSON answer the sandbox gives, by endpoint name."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.answers: dict[str, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        name = str(environ.get("PATH_INFO", "")).removeprefix("/" + API_PREFIX)
        status: list[str] = []

        def capture(code: str, headers: Any, exc_info: Any = None) -> Any:
            status.append(code)
            return start_response(code, headers, exc_info) if exc_info else start_response(code, headers)

        chunks = list(self.app(environ, capture))
        if status and status[0].startswith("200"):
            with self._lock:
                self.answers.setdefault(name, []).append(json.loads(b"".join(chunks)))
        return chunks


@pytest.fixture(params=["2026-03", "2026-08"])
def recorded(request: pytest.FixtureRequest) -> Iterator[tuple[str, dict[str, list[dict[str, Any]]]]]:
    """Every answer the connector got in a full read, a fetch of each kind and each write."""
    profile = request.param
    sandbox = build(seed=1, size="small", profile=profile)
    recorder = Recorder(sandbox.app)
    server = serve(recorder)
    client = make_client(server.url)
    try:
        connector = OperatelyConnector(client, {"token": sandbox.credentials[0].secret["token"]}, options=FAST)
        connector.check()
        for stream in connector.streams:
            for _ in connector.read(stream):
                pass
        st = sandbox.state
        goal = next(g for g in st.goals.values() if g.targets and g.closed_at is None and g.archived_at is None)
        project = next(p for p in st.projects.values() if p.state == "active" and p.archived_at is None)
        task = next(t for t in st.tasks.values() if t.project == project.uuid and t.status)
        milestone = next(iter(st.milestones.values()))
        for kind, ident in (
            ("goal", goal.uuid),
            ("key_result", goal.targets[0].uuid),
            ("project", project.uuid),
            ("task", task.uuid),
            ("milestone", milestone.uuid),
        ):
            connector.fetch_item(kind, uuid_to_short(ident))
        connector.post_goal_check_in(uuid_to_short(goal.uuid), "on_track", "Fine", {})
        connector.post_project_check_in(uuid_to_short(project.uuid), "caution", "Slower")
        connector.update_target_value(uuid_to_short(goal.uuid), uuid_to_short(goal.targets[0].uuid), 1.0)
        connector.update_task_status(uuid_to_short(task.uuid), "done")
        yield profile, recorder.answers
    finally:
        client.close()
        server.stop()


def test_every_endpoint_the_connector_uses_was_compared(recorded: tuple[str, dict[str, list[dict[str, Any]]]]) -> None:
    profile, answers = recorded
    used = {name for op, name in ENDPOINTS[profile].items() if op not in UNUSED[profile]}
    assert used <= set(answers), sorted(used - set(answers))
    assert "spaces/list_tasks" in answers and "tasks/list" in answers


def test_the_sandbox_serves_the_fields_each_catalogue_lists(recorded: tuple[str, dict[str, list[dict[str, Any]]]]) -> None:
    profile, answers = recorded
    problems: set[str] = set()
    for endpoint, bodies in answers.items():
        for body in bodies:
            # one line per type and field, not per item: the same gap in 300 tasks is one gap
            problems |= {_generic(p) for p in answer_problems(profile, endpoint, body)}
    assert not problems, "\n".join(sorted(problems))


def _generic(problem: str) -> str:
    """A problem without list indexes, so repeated items collapse."""
    return re.sub(r"\[\d+\]", "[]", problem)


# ---- the comparison itself -------------------------------------------------------------------


def test_the_comparison_finds_a_missing_or_unlisted_field() -> None:
    """The rules above must be able to fail: fed an answer with a gap, they report it."""
    catalog = output_catalog("2026-08")
    task_fields = [f[0] for f in catalog["objects"]["task"]]
    served = dict.fromkeys(task_fields)
    served.update({"__typename": "task", "id": "t-1", "name": "A task", "type": "project"})
    assert answer_problems("2026-08", "tasks/list", {"tasks": [served]}) == []
    without_closed_at = {k: v for k, v in served.items() if k != "closed_at"}
    assert answer_problems("2026-08", "tasks/list", {"tasks": [without_closed_at]}) == [
        "tasks/list:tasks[0].closed_at: listed by the catalogue's task, not served"
    ]
    # the older catalogue does not list closed_at: served there, it is an unlisted field
    older = {k: v for k, v in served.items() if k not in ("__typename", "reminders")}
    assert answer_problems("2026-03", "tasks/list", {"tasks": [older]}) == [
        "tasks/list:tasks[0].closed_at: served, not in the catalogue's task"
    ]
    # nested objects: required fields and unlisted ones count, optional ones do not
    nested = {**served, "status": {"__typename": "task_status", "id": "s", "label": "Done", "color": "green", "index": 0, "value": "done"}}
    assert answer_problems("2026-08", "tasks/list", {"tasks": [nested]}) == [
        "tasks/list:tasks[0].status.closed: required by the catalogue's task_status, not served"
    ]
    check_in = {f[0]: None for f in catalog["objects"]["project_check_in"]} | {
        "__typename": "project_check_in",
        "id": "c",
        "status": "on_track",
    }
    del check_in["state"]
    assert answer_problems("2026-08", "projects/list_check_ins", {"project_check_ins": [check_in]}) == [
        "projects/list_check_ins:project_check_ins[0].state: required by the catalogue's project_check_in, not served"
    ]
