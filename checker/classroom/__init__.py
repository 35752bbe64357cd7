"""The classroom (not built yet; its issue fills it): the roster, provisioning a namespace and
credentials per student, grading a whole class from one pre-fetched snapshot, and the
handed-in notebooks.

It may write to the cluster (through `checker.clusters`), and it drives the grading core and
the gradebook writers: layers cli -> classroom -> gradebook -> grading. The grading core never
imports it (.importlinter).
"""
