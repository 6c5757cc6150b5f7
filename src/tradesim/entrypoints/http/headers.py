"""The security headers of every response, in one place."""

from __future__ import annotations

from quart import Quart, Response, request

#: The pages the api serves (the web client at `/`, the api docs) load scripts, styles and images from
#: this origin only, talk to it (and its WebSocket) only, and may not be framed by another site.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data: blob:; "
    "style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'; object-src 'none'"
)
HEADERS = {
    # A JSON body or an uploaded image is never run as script or style because a browser guessed.
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
}
#: Answers under these prefixes are a user's own (tokens, balances, orders): no cache may keep them.
PRIVATE_PREFIXES = ("/api/",)


def install_security_headers(app: Quart) -> None:
    @app.after_request
    async def _secure(response: Response) -> Response:
        response.headers.update(HEADERS)
        if request.path.startswith(PRIVATE_PREFIXES):
            response.headers["Cache-Control"] = "no-store"
        return response
