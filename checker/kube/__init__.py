"""The one place that talks to the Kubernetes API, and the only package that imports the
`kubernetes` client (.importlinter holds every other package to it).

- `reader.py`: the `Reader` protocol, what the grading core reads through. The live client
  serves it, and so does `snapshot.py`'s `Snapshot` of many namespaces (one LIST per kind
  for a whole class), so class grading needs no change to any check.
- `client.py`: `Cluster`, the live client of one kube context: reads, and the one request
  that is not a read, a SubjectAccessReview.
- `writer.py`: `Writer`, the classroom's writes (apply, delete, tokens). The grading core
  may never import it (.importlinter).

Cluster backends (which start clusters and drive kubectl) live in `checker.clusters`, not here.
"""
