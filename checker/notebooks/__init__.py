"""What lesson and exercise notebooks call, beyond `from checker import check`.

- `helpers.py`: which kind of cluster answers (`backend`), and skipping, visibly, the cells
  that need real containers (`only_on_kind`, `only_on_sandbox`).
- Widgets and live views come as modules beside it (e.g. `widgets.py`), one per concern.

Free of the `kubernetes` client (a cell calls kubectl anyway), so it imports in a blink.
"""
