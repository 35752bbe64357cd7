"""The one Jinja2 environment every HTML view renders through: reports and `progress()`
(templates in `templates/`), the notebooks' check panel and live views, and the gradebook's
feedback pages (templates kept as strings in their modules).

Autoescaping is on (messages quote the cluster; the roster may hold any characters), a name a
template does not get is an error rather than an empty string, and block tags leave no blank
lines behind.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jinja2


@functools.cache
def environment() -> jinja2.Environment:
    """The environment, made once: `get_template` for `templates/`, `from_string` for others."""
    import jinja2   # here: the CLI prints text and JSON, and need not pay for Jinja2's import

    return jinja2.Environment(
        loader=jinja2.PackageLoader("checker.grading", "templates"), autoescape=True,
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
