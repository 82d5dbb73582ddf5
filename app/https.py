"""HTTPS awareness: what a trusted proxy says about the request, and a session cookie that is
Secure whenever the request came over HTTPS, not only when configured so."""

from __future__ import annotations

from flask import Flask, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix


class SessionInterface(SecureCookieSessionInterface):
    def get_cookie_secure(self, app: Flask) -> bool:
        # SESSION_COOKIE_SECURE=1 forces it; otherwise a request over HTTPS gets a cookie the
        # browser never sends back over plain HTTP, where anyone on the network could read it.
        configured = super().get_cookie_secure(app)
        return configured or (has_request_context() and request.is_secure)


def install(app: Flask) -> None:
    app.session_interface = SessionInterface()
    hops = app.config.get("TRUSTED_PROXIES", 0)
    if hops:
        # Behind a TLS-terminating proxy the app sees plain HTTP from the proxy's address;
        # only the proxies configured here are believed about the client's scheme and address.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
