"""Security headers on every HTTP response: a Content Security Policy that fits the pages,
``nosniff``, a referrer policy, and no framing by other sites.

The pages load only their own scripts, styles and plotly.js from ``/static``, talk to
their own origin (``fetch`` and the training WebSocket), and draw images from data and
blob URLs (the favicon, plotly's downloads).  Two inline pieces are allowed by name rather
than by ``'unsafe-inline'``: a script a template marks with the response's nonce
(``{{ request.state.csp_nonce }}``: the digits page's recipe table), and the digits form's
``onsubmit`` handler, by its hash.  Styles may be inline, as plotly.js sets them.  Swagger
UI at ``/docs`` (FastAPI's page) starts itself with an inline script, so it alone may run
one.  ``frame-ancestors 'none'`` (with the older ``X-Frame-Options``) keeps the pages out
of other sites' frames.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The key of the response's nonce in the request's state (templates read it).
NONCE = "csp_nonce"
#: templates/digits.html's form handler (it stops the form from being sent on Enter).
FORM_HANDLER = "return false"


def _hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


def policy(nonce: str, host: str, path: str) -> str:
    """The Content-Security-Policy of one response."""
    scripts = f"'self' 'nonce-{nonce}' 'unsafe-hashes' {_hash(FORM_HANDLER)}"
    if path == "/docs":
        scripts = "'self' 'unsafe-inline'"
    # 'self' covers the page's own ws:/wss: in CSP Level 3; older browsers need the scheme.
    sockets = f" ws://{host} wss://{host}" if host else ""
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {scripts}",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            f"connect-src 'self'{sockets}",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


class SecurityHeaders:
    """ASGI middleware: the headers above on every HTTP response, and the nonce in the
    request's state for the templates."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})[NONCE] = nonce
        host = dict(scope.get("headers", [])).get(b"host", b"").decode("latin-1")
        # a Host header is the client's own: only characters a host:port may have
        host = host if all(c.isalnum() or c in ".-:[]" for c in host) else ""
        extra = [
            (b"content-security-policy", policy(nonce, host, scope["path"]).encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
            (b"x-frame-options", b"DENY"),
        ]

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)
