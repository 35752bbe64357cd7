"""The grading core: reads a cluster, never changes it, and turns what it finds into reports.

Layers, each importing only those below it (.importlinter holds them to it; `|` joins
independent siblings, which import none of one another):
`progress` (`rwk progress`: every exercise of one namespace from one read) ->
`runner` (grade: connect, read, run, report; `--wait` polling) ->
`exercises` (the graded exercises by name) ->
`audit` (`rwk audit`'s pitfalls; the disruptions exercise grades with its `CLEAN`) ->
`checks/` (criteria per topic, plus `common.py`, the facts several of them share) ->
`state` (the state view: one namespace, each object read once, through `checker.kube`'s
Reader) | `report` (text, JSON and HTML from `templates/report.html.j2`) ->
`model` (criteria, results, failures) | `quantities` | `certificates` | `masking` (every
Secret value of the namespace kept out of every output) | `timestamps` (now, and how every
output prints a moment) | `rendering` (the one Jinja2 environment of every HTML view).

It imports neither `checker.clusters` (which may write) nor `checker.classroom`.
"""
