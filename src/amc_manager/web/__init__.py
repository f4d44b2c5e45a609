"""The web dashboard: server-rendered pages at `/` over the application layer, sharing the
REST API's process, session cookie, CSRF token and access rules.

`mount(app)` adds the page routes and the static assets to the API's app. The browser code
(editor, chart) is built from `frontend/` by `make assets`; without it the pages answer 503
naming that command, while the API serves as usual.
"""

from __future__ import annotations

from amc_manager.web.mount import mount

__all__ = ["mount"]
