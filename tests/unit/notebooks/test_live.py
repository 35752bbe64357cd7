"""The live views' pure part: pods, rollouts, endpoints and HPA samples from lists of watch
events, kubectl's watch stream parsed, and the drawings (checker.notebooks.live)."""

from __future__ import annotations

import json

from checker.notebooks import live


def pod(name: str, group: str, ready: bool = False, restarts: int = 0, *,
        leaving: bool = False, waiting: str = "") -> dict:
    state = {"waiting": {"reason": waiting}} if waiting else {"running": {}}
    meta: dict = {"name": name, "labels": {"app": "web", "pod-template-hash": group}}
    if leaving:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {"metadata": meta, "status": {
        "phase": "Running", "conditions": [{"type": "Ready", "status": str(ready)}],
        "containerStatuses": [{"restartCount": restarts, "state": state}]}}


TEMPLATE = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"image": "v2"}]}}


def replicaset(group: str, image: str) -> dict:
    labels = {"app": "web", "pod-template-hash": group}
    return {"metadata": {"name": f"web-{group}", "labels": labels},
            "spec": {"template": {"metadata": {"labels": dict(labels)},
                                  "spec": {"containers": [{"image": image}]}}}}


def deployment(generation: int = 2, **status: int) -> dict:
    return {"metadata": {"name": "web", "generation": generation},
            "spec": {"replicas": 2, "template": TEMPLATE},
            "status": {"observedGeneration": generation, **status}}


def test_a_pod_book_keeps_each_pods_row_and_a_timeline_of_changes() -> None:
    book = live.PodBook()
    for seconds, type_, obj in [(0.0, "ADDED", pod("a", "old", ready=True)),
                                (1.0, "ADDED", pod("b", "new")),
                                (2.0, "MODIFIED", pod("b", "new", ready=True)),
                                (3.0, "MODIFIED", pod("a", "old", ready=True, leaving=True)),
                                (3.5, "DELETED", pod("a", "old", ready=True, leaving=True)),
                                (4.0, "MODIFIED", pod("b", "new", restarts=1,
                                                      waiting="CrashLoopBackOff"))]:
        book.apply("pod", type_, obj, seconds)
    assert [(m.seconds, m.pod, m.what) for m in book.timeline] == [
        (0.0, "a", "Ready"), (1.0, "b", "appeared"), (2.0, "b", "Ready"),
        (3.0, "a", "leaving"), (3.5, "a", "gone"), (4.0, "b", "waiting: CrashLoopBackOff"),
        (4.0, "b", "not Ready"), (4.0, "b", "restarted")]
    (row,) = book.alive()
    assert (row.name, row.group, row.ready, row.restarts, row.waiting) == (
        "b", "new", False, 1, "CrashLoopBackOff")


def test_a_rollouts_samples_split_old_and_new_by_the_current_template() -> None:
    rollout = live.Rollout()
    rollout.apply("deployment", "ADDED", deployment(), 0)
    rollout.apply("replicaset", "ADDED", replicaset("old", "v1"), 0)
    rollout.apply("replicaset", "ADDED", replicaset("new", "v2"), 0)
    steps = [[("ADDED", pod("o1", "old", True)), ("ADDED", pod("o2", "old", True))],
             [("ADDED", pod("n1", "new"))],
             [("MODIFIED", pod("n1", "new", True)), ("DELETED", pod("o1", "old", True))],
             [("ADDED", pod("n2", "new", True)), ("MODIFIED", pod("o2", "old", True,
                                                               leaving=True))]]
    for second, events in enumerate(steps):
        for type_, obj in events:
            rollout.apply("pod", type_, obj, second)
        rollout.sample(second)
    assert rollout.new_hash() == "new"
    assert rollout.samples() == [(0, 2, 0, 2, 0), (1, 2, 0, 2, 1), (2, 1, 1, 1, 1),
                                 (3, 0, 2, 0, 2)]


def test_rolled_out_is_the_checks_rule_every_count_and_the_observed_generation() -> None:
    from checker.grading.checks.common import rollout_problem

    full = {key: 2 for key in ("updatedReplicas", "readyReplicas", "availableReplicas",
                               "replicas")}
    stale = deployment(**full)
    stale["status"]["observedGeneration"] = 1
    cases = [deployment(**full), deployment(**{**full, "readyReplicas": 1}),
             deployment(**{**full, "updatedReplicas": 1}), stale,
             # An old pod still terminating counts in `replicas` only: rolled out, as the
             # check says (the view shows that pod leaving, apart).
             deployment(**{**full, "replicas": 3})]
    assert [live.rolled_out(d) for d in cases] == [True, False, False, False, True]
    assert [live.rolled_out(d) for d in cases] == [not rollout_problem(d) for d in cases]
    # A view of the rollout ends later: once no old pod is left either.
    assert [live.finished(d) for d in cases] == [True, False, False, False, False]


def test_endpoints_per_service_from_endpointslices() -> None:
    view = live.Endpoints()
    piece = {"metadata": {"name": "web-abc", "labels": {"kubernetes.io/service-name": "web"}},
             "endpoints": [{"targetRef": {"name": "b"}, "conditions": {"ready": True}},
                           {"targetRef": {"name": "a"}, "conditions": {"ready": False}},
                           {"targetRef": {"name": "c"}, "conditions": {"ready": True}}]}
    view.apply("endpointslice", "ADDED", piece, 0)
    assert view.services() == {"web": (["b", "c"], ["a"])}
    view.apply("endpointslice", "DELETED", piece, 1)
    assert view.services() == {}


def test_the_timeline_notes_scheduling_phases_and_endpoints_coming_and_going() -> None:
    view = live.Endpoints()
    created = {"metadata": {"name": "p", "labels": {"app": "web"}},
               "status": {"phase": "Pending"}}
    scheduled = {**created, "spec": {"nodeName": "node-1"}}
    running = {**scheduled, "status": {"phase": "Running"}}

    def piece(ready: bool | None) -> dict:
        endpoints = [] if ready is None else [{"targetRef": {"name": "p"},
                                              "conditions": {"ready": ready}}]
        return {"metadata": {"name": "web-1", "labels": {"kubernetes.io/service-name": "web"}},
                "endpoints": endpoints}

    for seconds, (kind, type_, obj) in enumerate([
            ("pod", "ADDED", created), ("pod", "MODIFIED", scheduled),
            ("pod", "MODIFIED", running), ("endpointslice", "ADDED", piece(False)),
            ("endpointslice", "MODIFIED", piece(True)),
            ("endpointslice", "MODIFIED", piece(None))]):
        view.apply(kind, type_, obj, float(seconds))
    assert [(m.seconds, m.pod, m.what) for m in view.book.timeline] == [
        (0.0, "p", "appeared"), (1.0, "p", "scheduled"), (2.0, "p", "Running"),
        (3.0, "p", "not ready in web"), (4.0, "p", "ready in web"), (5.0, "p", "out of web")]
    view.apply("endpointslice", "MODIFIED", piece(True), 6.0)
    assert view.ready("web") == ["p"] and view.ready("other") == []


def test_each_kind_is_one_watch_request_without_a_resource_version() -> None:
    path = live.watch_path("pod", "lesson-06", "app=api-server,tier in (a,b)")
    assert path == ("/api/v1/namespaces/lesson-06/pods?watch=1&"
                    "labelSelector=app%3Dapi-server%2Ctier+in+%28a%2Cb%29")
    assert live.watch_path("horizontalpodautoscaler", "ns", field_selector="metadata.name=h") \
        == "/apis/autoscaling/v2/namespaces/ns/horizontalpodautoscalers?watch=1&" \
           "fieldSelector=metadata.name%3Dh"
    assert "resourceVersion" not in path
    streaming = live.watch_path("pod", "ns", streaming=True)
    assert streaming == ("/api/v1/namespaces/ns/pods?watch=1&sendInitialEvents=true&"
                         "resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true")


def test_an_hpa_sample_reads_cpu_utilisation_and_replicas() -> None:
    hpa = {"spec": {"metrics": [{"type": "Resource", "resource": {
        "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}]},
        "status": {"currentReplicas": 2, "desiredReplicas": 4, "currentMetrics": [
            {"type": "Resource", "resource": {"name": "cpu", "current": {
                "averageUtilization": 120, "averageValue": "60m"}}}]}}
    assert live.hpa_sample(hpa, 3.21) == (3.21, 120, 50, 2, 4)
    assert live.hpa_sample({"spec": {}, "status": {}}, 0) == (0, None, None, 0, 0)


def test_changes_keep_only_samples_whose_figures_moved() -> None:
    samples = [(0, 1, 2), (1, 1, 2), (2, 1, 3), (3, 1, 3), (4, 1, 2)]
    assert live.changes(samples) == [(0, 1, 2), (2, 1, 3), (4, 1, 2)]


def test_kubectl_watch_output_is_parsed_across_chunk_boundaries() -> None:
    events = [{"type": "ADDED", "object": {"metadata": {"name": "a"}}},
              {"type": "DELETED", "object": {"metadata": {"name": "a {"}}}]
    text = "".join(json.dumps(e, indent=4) + "\n" for e in events)
    chunks = [text[i:i + 7] for i in range(0, len(text), 7)]
    assert list(live.parse_stream(chunks)) == events


def test_drawings_escape_names_and_show_the_timeline_only_at_the_end() -> None:
    book = live.PodBook()
    book.apply("pod", "ADDED", pod("<b>x</b>", "new", True), 1.0)
    values = dict(seconds=2.0, name="web", new="new", pods=book.alive(),
                  timeline=book.timeline, limit=60)
    running, _ = live._render("rollout", final=False, **values)
    html, text = live._render("rollout", final=True, **values)
    assert "&lt;b&gt;" in running and "<b>x" not in running and "timeline" not in running
    assert "timeline (1 changes)" in html and 'data-final="True"' in html
    assert text.splitlines()[0] == "rollout web: done, 2.0 s"
