"""A real OpenID provider on loopback, for the SSO tests and ``make demo-sso`` (a test helper,
never product code). Authlib's authorization server on Flask: the authorization-code flow with
PKCE required (S256), nonce and state passed through, id_tokens signed RS256 with a key made at
start (JWKS at /jwks), a discovery document, /userinfo, and an /authorize page with a small
sign-in form (pick a test user; no password).

Knobs for the failure tests (attributes of :class:`Provider`, changed between sign-ins):
``wrong_issuer``, ``wrong_audience``, ``expired``, ``omit_email``, ``wrong_nonce``; ``users[...]["groups"]`` to move
a user in and out of groups. ``authorize_requests`` / ``token_requests`` record what came in.

    python -m tests.oidc_provider --port 8110     # the provider `make demo-sso` starts
"""

from __future__ import annotations

import argparse
import html
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import InvalidRequestError, OAuth2Error, grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core.grants import OpenIDCode
from flask import Flask, jsonify, request
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server

CLIENT_ID = "okrhub-test"
CLIENT_SECRET = "okrhub-test-client-secret"  # a test provider's client
DEFAULT_USERS: dict[str, dict[str, Any]] = {
    "ada": {"email": "ada@example.com", "name": "Ada Lovelace", "groups": ["okrhub-admins", "Engineering"]},
    "grace": {"email": "grace@example.com", "name": "Grace Hopper", "groups": ["Engineering"]},
    "linus": {"email": "linus@example.com", "name": "Linus Pauling", "groups": []},
}


@dataclass
class Client:
    client_id: str
    client_secret: str
    redirect_uris: list[str]

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in scope.split() if s in ("openid", "email", "profile", "groups"))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # Exact URIs, or any callback on loopback when the list says "*" (the live-server tests).
        return redirect_uri in self.redirect_uris or ("*" in self.redirect_uris and redirect_uri.startswith("http://"))

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_post", "client_secret_basic")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class AuthCode:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    username: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None


class Provider:
    def __init__(self, redirect_uris: list[str] | None = None) -> None:
        self.issuer = "http://127.0.0.1"  # set by serve() once the port is known
        self.key = RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(4), "use": "sig", "alg": "RS256"}, private=True)
        self.client = Client(CLIENT_ID, CLIENT_SECRET, redirect_uris or ["*"])
        self.users: dict[str, dict[str, Any]] = {name: {**u, "groups": list(u["groups"])} for name, u in DEFAULT_USERS.items()}
        self.codes: dict[str, AuthCode] = {}
        self.access_tokens: dict[str, tuple[str, str]] = {}  # token -> (username, scope)
        self.authorize_requests: list[dict[str, str]] = []
        self.token_requests: list[dict[str, str]] = []
        self.wrong_issuer = False
        self.wrong_audience = False
        self.expired = False
        self.omit_email = False
        self.wrong_nonce = False
        self.app = self._build_app()

    def reset(self) -> None:
        self.wrong_issuer = self.wrong_audience = self.expired = self.omit_email = self.wrong_nonce = False

    # -- claims -------------------------------------------------------------------------------
    def claims_of(self, username: str, scope: str) -> dict[str, Any]:
        user = self.users[username]
        claims: dict[str, Any] = {"sub": f"sub-{username}"}
        if "email" in scope.split() and not self.omit_email:
            claims.update(email=user["email"], email_verified=True)
        if "profile" in scope.split():
            first, _, last = user["name"].partition(" ")
            claims.update(name=user["name"], given_name=first, family_name=last, preferred_username=username)
        if "groups" in scope.split():
            claims["groups"] = list(user["groups"])
        return claims

    def _build_app(self) -> Flask:
        provider = self
        app = Flask("okrhub-test-oidc-provider")

        class RequirePKCE(CodeChallenge):
            """The provider refuses an authorization request without a code_challenge (S256)."""

            def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
                data = grant.request.payload.data
                if not data.get("code_challenge") or data.get("code_challenge_method") != "S256":
                    raise InvalidRequestError("PKCE is required: send code_challenge with code_challenge_method=S256")
                super().validate_code_challenge(grant, redirect_uri)

        class CodeGrant(grants.AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_post", "client_secret_basic"]

            def save_authorization_code(self, code: str, req: Any) -> None:
                data = req.payload.data
                provider.codes[code] = AuthCode(
                    code=code,
                    client_id=req.client.client_id,
                    redirect_uri=req.payload.redirect_uri,
                    scope=req.scope,
                    username=req.user,
                    nonce=data.get("nonce"),
                    code_challenge=data.get("code_challenge"),
                    code_challenge_method=data.get("code_challenge_method"),
                )

            def query_authorization_code(self, code: str, client: Client) -> AuthCode | None:
                item = provider.codes.get(code)
                return item if item and item.client_id == client.client_id else None

            def delete_authorization_code(self, authorization_code: AuthCode) -> None:
                provider.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code: AuthCode) -> str:
                return authorization_code.username

        class IdToken(OpenIDCode):
            def exists_nonce(self, nonce: str, req: Any) -> bool:
                return any(c.nonce == nonce for c in provider.codes.values())

            def resolve_client_private_key(self, client: Client) -> RSAKey:
                return provider.key

            def get_client_algorithm(self, client: Client) -> str:
                return "RS256"

            def get_encode_header(self, client: Client) -> dict[str, str]:
                return {"alg": "RS256", "kid": str(provider.key.kid)}

            def get_client_claims(self, client: Client) -> dict[str, Any]:
                now = int(time.time())
                claims: dict[str, Any] = {
                    "iss": provider.issuer + ("/other" if provider.wrong_issuer else ""),
                    "aud": ["another-client" if provider.wrong_audience else client.client_id],
                }
                if provider.expired:
                    claims.update(iat=now - 7200, auth_time=now - 7200, exp=now - 3600)
                return claims

            def get_authorization_code_claims(self, authorization_code: AuthCode) -> dict[str, Any]:
                claims: dict[str, Any] = super().get_authorization_code_claims(authorization_code)
                if provider.wrong_nonce:
                    claims["nonce"] = "not-the-nonce-the-client-sent"
                return claims

            def generate_user_info(self, user: str, scope: str) -> dict[str, Any]:
                return provider.claims_of(user, scope)

        def save_token(token: dict[str, Any], req: Any) -> None:
            provider.access_tokens[token["access_token"]] = (req.user, token.get("scope", ""))

        server = AuthorizationServer(
            app, query_client=lambda cid: provider.client if cid == provider.client.client_id else None, save_token=save_token
        )
        server.register_grant(CodeGrant, [RequirePKCE(required=True), IdToken(require_nonce=False)])

        @app.get("/.well-known/openid-configuration")
        def discovery() -> Any:
            base = provider.issuer
            return jsonify(
                issuer=base,
                authorization_endpoint=f"{base}/authorize",
                token_endpoint=f"{base}/token",
                userinfo_endpoint=f"{base}/userinfo",
                jwks_uri=f"{base}/jwks",
                response_types_supported=["code"],
                subject_types_supported=["public"],
                id_token_signing_alg_values_supported=["RS256"],
                scopes_supported=["openid", "email", "profile", "groups"],
                code_challenge_methods_supported=["S256"],
                token_endpoint_auth_methods_supported=["client_secret_post", "client_secret_basic"],
            )

        @app.get("/jwks")
        def jwks() -> Any:
            return jsonify(keys=[provider.key.as_dict(private=False)])

        @app.route("/authorize", methods=["GET", "POST"])
        def authorize() -> Any:
            if request.method == "GET":
                provider.authorize_requests.append(dict(request.args))
            try:
                grant = server.get_consent_grant(end_user=None)
            except OAuth2Error as error:
                return f"<h1>Sign-in request refused</h1><p>{html.escape(error.description or error.error)}</p>", 400
            if request.method == "GET":
                options = "".join(
                    f'<label><input type="radio" name="username" value="{html.escape(name)}"{" checked" if i == 0 else ""}> '
                    f"{html.escape(u['name'])} ({html.escape(u['email'])})</label><br>"
                    for i, (name, u) in enumerate(provider.users.items())
                )
                return (
                    "<!doctype html><title>Test identity provider</title><h1>Test identity provider</h1>"
                    f'<form method="post"><fieldset><legend>Sign in as</legend>{options}</fieldset>'
                    '<button type="submit">Continue</button></form>'
                )
            username = request.form.get("username", "")
            if username not in provider.users:
                return "<p>No such test user</p>", 400
            return server.create_authorization_response(grant_user=username, grant=grant)

        @app.post("/token")
        def token() -> Any:
            provider.token_requests.append(dict(request.form))
            return server.create_token_response()

        @app.get("/userinfo")
        def userinfo() -> Any:
            auth = request.headers.get("Authorization", "")
            found = provider.access_tokens.get(auth.removeprefix("Bearer ").strip()) if auth.startswith("Bearer ") else None
            if not found:
                return jsonify(error="invalid_token"), 401
            return jsonify(provider.claims_of(*found))

        return app


class RunningProvider:
    def __init__(self, provider: Provider, host: str = "127.0.0.1", port: int = 0) -> None:
        self.provider = provider
        self.server = make_server(host, port, provider.app, threaded=True)
        provider.issuer = f"http://{host}:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="oidc-provider", daemon=True)
        self.thread.start()

    @property
    def issuer(self) -> str:
        return self.provider.issuer

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve(provider: Provider | None = None, host: str = "127.0.0.1", port: int = 0) -> RunningProvider:
    return RunningProvider(provider or Provider(), host, port)


def main() -> None:
    parser = argparse.ArgumentParser(description="A test OpenID provider (for make demo-sso)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8110)
    args = parser.parse_args()
    running = serve(host=args.host, port=args.port)
    # One JSON line first (dashboard/demo.py reads it), then a line for people.
    print(json.dumps({"issuer": running.issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}), flush=True)
    print(f"test OpenID provider at {running.issuer}/ (users: {', '.join(DEFAULT_USERS)})", flush=True)
    try:
        running.thread.join()
    except KeyboardInterrupt:
        running.stop()


if __name__ == "__main__":
    main()
