"""A local stand-in for Google, GitHub, Kakao and Naver: their token and user-info endpoints.

A real HTTP server on 127.0.0.1 (random port), so allauth's provider code runs unchanged over
``requests``; only the providers' endpoint URLs are pointed here (``point_providers_at``). Each
authorization code is registered with the profile the provider would return for it, checked
against the client id/secret and redirect URI the way the providers do, and usable once.
Google's ID tokens are RS256-signed with a key made per server, whose certificate is served at
the certs URL, as Google does.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

GOOGLE_ISSUER = "https://accounts.google.com"

CLIENTS = {
    "google": ("google-client-id.apps.example", "google-secret"),
    "github": ("github-client-id", "github-secret"),
    "kakao": ("kakao-client-id", "kakao-secret"),
    "naver": ("naver-client-id", "naver-secret"),
}


def providers_setting() -> dict:
    """SOCIALACCOUNT_PROVIDERS as settings build it when every provider's env vars are set."""
    return {pid: {"APPS": [{"client_id": cid, "secret": secret, "key": ""}]} for pid, (cid, secret) in CLIENTS.items()}


class _Signer:
    def __init__(self) -> None:
        self.kid = secrets.token_hex(8)
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "provider-double")])
        now = datetime.now(UTC)
        self.certificate_pem = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=1))
            .sign(self.key, hashes.SHA256())
            .public_bytes(serialization.Encoding.PEM)
            .decode()
        )

    def id_token(self, claims: dict, *, audience: str, lifetime: int = 300) -> str:
        now = int(time.time())
        body = {"iss": GOOGLE_ISSUER, "aud": audience, "iat": now, "exp": now + lifetime, **claims}
        return jwt.encode(body, self.key, algorithm="RS256", headers={"kid": self.kid})


class ProviderServer:
    def __init__(self) -> None:
        self.signer = _Signer()
        self.codes: dict[str, dict] = {}  # code -> {"provider", "profile", "redirect_uri"?}
        self.tokens: dict[str, dict] = {}  # access token -> {"provider", "profile"}
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ProviderServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def issue_code(self, provider: str, profile: dict) -> str:
        """What the provider hands the browser after the user consents."""
        code = secrets.token_urlsafe(12)
        with self._lock:
            self.codes[code] = {"provider": provider, "profile": profile}
        return code

    def google_id_token(self, profile: dict, *, audience: str | None = None, lifetime: int = 300) -> str:
        return self.signer.id_token(profile, audience=audience or CLIENTS["google"][0], lifetime=lifetime)

    # --- HTTP -------------------------------------------------------------------------------

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def _send(self, status: int, body) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                path = urlsplit(self.path).path
                server.requests.append(("POST", path))
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                provider = path.strip("/").split("/")[0]
                if provider not in CLIENTS or not path.endswith(("/token", "/access_token")):
                    return self._send(404, {"error": "not_found"})
                self._token(provider, form)

            def _token(self, provider: str, form: dict) -> None:
                client_id, secret = CLIENTS[provider]
                if form.get("client_id") != client_id or form.get("client_secret") != secret:
                    return self._send(401, {"error": "invalid_client"})
                if form.get("grant_type") != "authorization_code" or not form.get("redirect_uri"):
                    return self._send(400, {"error": "invalid_request"})
                with server._lock:
                    grant = server.codes.pop(form.get("code", ""), None)
                if grant is None or grant["provider"] != provider:
                    return self._send(400, {"error": "invalid_grant"})
                access = secrets.token_urlsafe(16)
                with server._lock:
                    server.tokens[access] = grant
                body = {"access_token": access, "token_type": "bearer", "expires_in": 3600}
                if provider == "google":
                    body["id_token"] = server.google_id_token(grant["profile"])
                self._send(200, body)

            def do_GET(self):
                path = urlsplit(self.path).path
                server.requests.append(("GET", path))
                if path == "/google/certs":
                    return self._send(200, {server.signer.kid: server.signer.certificate_pem})
                auth = self.headers.get("Authorization", "")
                token = auth.split(" ", 1)[1] if " " in auth else ""
                grant = server.tokens.get(token)
                provider = path.strip("/").split("/")[0]
                if grant is None or grant["provider"] != provider:
                    return self._send(401, {"message": "Bad credentials"})
                profile = grant["profile"]
                if path == "/google/userinfo":
                    return self._send(200, {"id": profile["sub"], **profile})
                if path == "/github/user":
                    return self._send(200, {k: v for k, v in profile.items() if k != "emails"})
                if path == "/github/user/emails":
                    return self._send(200, profile.get("emails", []))
                if path == "/kakao/v2/user/me":
                    return self._send(200, profile)
                if path == "/naver/v1/nid/me":
                    return self._send(200, {"resultcode": "00", "message": "success", "response": profile})
                return self._send(404, {"error": "not_found"})

        return Handler


def point_providers_at(monkeypatch, server: ProviderServer) -> None:
    """Aim allauth's provider adapters at the double (their endpoint URLs are class attributes)."""
    from allauth.socialaccount.providers.github.views import GitHubOAuth2Adapter
    from allauth.socialaccount.providers.google import views as google_views
    from allauth.socialaccount.providers.kakao.views import KakaoOAuth2Adapter
    from allauth.socialaccount.providers.naver.views import NaverOAuth2Adapter

    base = server.url
    monkeypatch.setattr(google_views.GoogleOAuth2Adapter, "access_token_url", f"{base}/google/token")
    monkeypatch.setattr(google_views.GoogleOAuth2Adapter, "identity_url", f"{base}/google/userinfo")
    monkeypatch.setattr(google_views, "CERTS_URL", f"{base}/google/certs")
    monkeypatch.setattr(GitHubOAuth2Adapter, "access_token_url", f"{base}/github/login/oauth/access_token")
    monkeypatch.setattr(GitHubOAuth2Adapter, "profile_url", f"{base}/github/user")
    monkeypatch.setattr(GitHubOAuth2Adapter, "emails_url", f"{base}/github/user/emails")
    monkeypatch.setattr(KakaoOAuth2Adapter, "access_token_url", f"{base}/kakao/oauth/token")
    monkeypatch.setattr(KakaoOAuth2Adapter, "profile_url", f"{base}/kakao/v2/user/me")
    monkeypatch.setattr(NaverOAuth2Adapter, "access_token_url", f"{base}/naver/oauth2.0/token")
    monkeypatch.setattr(NaverOAuth2Adapter, "profile_url", f"{base}/naver/v1/nid/me")


def profile_for(provider: str, *, uid: str, email: str | None, name: str = "Test User") -> dict:
    """The user-info document each provider returns, in its own shape."""
    if provider == "google":
        given, _, family = name.partition(" ")
        profile = {"sub": uid, "name": name, "given_name": given, "family_name": family, "email_verified": True}
        if email:
            profile["email"] = email
        return profile
    if provider == "github":
        return {
            "id": int(uid),
            "login": name.lower().replace(" ", ""),
            "name": name,
            "email": email,
            "emails": [{"email": email, "primary": True, "verified": True}] if email else [],
        }
    if provider == "kakao":
        account = {"profile": {"nickname": name}}
        if email:
            account.update(email=email, is_email_valid=True, is_email_verified=True)
        return {"id": int(uid), "kakao_account": account, "properties": {"nickname": name}}
    if provider == "naver":
        profile = {"id": uid, "name": name, "nickname": name}
        if email:
            profile["email"] = email
        return profile
    raise ValueError(provider)
