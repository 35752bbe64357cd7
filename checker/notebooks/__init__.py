"""What lesson and exercise notebooks call, beyond `from checker import check`.

- `helpers.py`: which kind of cluster answers (`backend`), and skipping, visibly, the cells
  that need real containers (`only_on_kind`, `only_on_sandbox`).
- `panel.py`: the check panel of a report and of `progress()` (ipywidgets, Check again).
- `live.py`: live views of a rollout, an HPA and a namespace (`watch_rollout`,
  `watch_hpa`, `watch_namespace`).

A new widget or live view is a module beside these, one per concern.

Free of the `kubernetes` client (a cell calls kubectl anyway), so it imports in a blink.
"""
