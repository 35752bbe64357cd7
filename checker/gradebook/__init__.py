"""The gradebook writers (not built yet; their issue fills it): one module per format, each
turning a class's reports into that format's file.

Below the classroom and above the grading core (.importlinter): a writer reads reports and
never the cluster.
"""
