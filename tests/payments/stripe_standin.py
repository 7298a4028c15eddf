"""A local stand-in for the Stripe API, for the payment tests.

The app's STRIPE_API_BASE points here and the real `stripe` SDK talks to it over HTTP. It serves
what localstripe lacks, Checkout Sessions, and forwards every other /v1 request to localstripe
unchanged (method, path, query, body, headers), so PaymentIntents, charges and refunds are real
localstripe objects.

Checked the way Stripe documents it (a request Stripe would refuse gets Stripe's 400 error JSON
and is recorded in `violations`, which the fixtures assert is empty after each test):
- every /v1 request needs `Authorization: Bearer sk_...`;
- `POST /v1/checkout/sessions`: mode=payment, exactly one line item with a whole quantity from 1
  (a series paid at once: its sessions) and
  price_data (currency, unit_amount, product_data[name]), expires_at 30 minutes to 24 hours after
  creation, metadata[session_id] (a package: package_id and author_id), success_url and cancel_url; unknown parameters are refused;
- `POST /v1/checkout/sessions/{id}/expire` only for an open session;
- a refund may not exceed what is left unrefunded on the payment (localstripe does not check);
- idempotency (localstripe has none): a POST repeating an Idempotency-Key gets the first answer
  replayed; the same key with other parameters is an `idempotency_error`.

While a Checkout Session is open its `payment_intent` is null (current API versions create it
when the customer pays); the PaymentIntent made at creation is attached once it is paid.

`outage` simulates Stripe being unreachable: "down" drops every /v1 connection without an answer,
"error" answers 500; neither is recorded in `seen` (nothing reached Stripe's API). Test-side
control (`pay`, `expire`) goes through /_test/ routes that outages do not affect, and runs in the
server's loop, so all state changes happen on one thread.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import json
import re
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

import aiohttp
import httpx
from aiohttp import web

API_VERSION = "2025-09-30.clover"
TEST_CARD = {"number": "4242424242424242", "exp_month": "12", "exp_year": "2034", "cvc": "123"}
MIN_EXPIRY = 30 * 60
MAX_EXPIRY = 24 * 60 * 60
MINIMUM_CHARGE = {"usd": 50, "eur": 50, "gbp": 30, "chf": 50, "cad": 50, "aud": 50}
CHECKOUT_PARAMS = {
    "mode",
    "line_items",
    "expires_at",
    "metadata",
    "client_reference_id",
    "payment_intent_data",
    "success_url",
    "cancel_url",
    "customer_email",
    "expand",
}
PARAMS = web.RequestKey("params", dict)
BODY = web.RequestKey("body", bytes)
HOP_HEADERS = {"host", "content-length", "transfer-encoding", "connection", "accept-encoding", "keep-alive"}


class Rejected(Exception):
    """A request Stripe would refuse. `violation`: the app should never send it (recorded and
    failed by the fixtures); False for refusals a correct app meets in normal races."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        type_: str = "invalid_request_error",
        violation: bool = True,
    ):
        super().__init__(message)
        self.status, self.message, self.param, self.code, self.type = status, message, param, code, type_
        self.violation = violation

    def response(self) -> web.Response:
        error = {"type": self.type, "message": self.message}
        if self.param:
            error["param"] = self.param
        if self.code:
            error["code"] = self.code
        return web.json_response(
            {"error": error}, status=self.status, headers={"Request-Id": f"req_{secrets.token_hex(7)}"}
        )


@dataclass
class Seen:
    method: str
    path: str
    idempotency_key: str | None
    params: dict
    status: int = 0
    replayed: bool = False
    response: dict = field(default_factory=dict)


def unflatten(pairs: list[tuple[str, str]]) -> dict:
    """Stripe's form encoding (`a[b][0][c]=v`) back into nested dicts and lists."""
    tree: dict = {}
    for key, value in pairs:
        head, *rest = re.findall(r"[^\[\]]+", key) or [key]
        path = [head, *rest]
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise Rejected(400, f"Invalid value for {key}", param=key)
        node[path[-1]] = value

    def lists(node):
        if isinstance(node, dict):
            node = {k: lists(v) for k, v in node.items()}
            if node and all(k.isdigit() for k in node):
                return [node[k] for k in sorted(node, key=int)]
        return node

    return lists(tree)


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """A Stripe-Signature header value: t=<ts>,v1=<hex HMAC-SHA256(secret, "<ts>.<payload>")>."""
    ts = int(time.time()) if timestamp is None else int(timestamp)
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


async def send(
    client: httpx.AsyncClient,
    event: dict,
    secret: str | None,
    *,
    timestamp: int | None = None,
    signature: str | None = None,
) -> httpx.Response:
    """Deliver an event to the app's webhook like Stripe does (signed unless `secret` is None)."""
    payload = json.dumps(event, indent=2).encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
    }
    if signature is not None:
        headers["Stripe-Signature"] = signature
    elif secret is not None:
        headers["Stripe-Signature"] = sign(payload, secret, timestamp)
    return await client.post("/webhooks/stripe", content=payload, headers=headers)


def make_event(type_: str, obj: dict) -> dict:
    return {
        "id": f"evt_{secrets.token_hex(12)}",
        "object": "event",
        "api_version": API_VERSION,
        "created": int(time.time()),
        "data": {"object": copy.deepcopy(obj)},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type_,
    }


class StripeStandIn:
    def __init__(self, secret_key: str = "sk_test_x"):
        self.secret_key = secret_key
        self.base_url = ""
        self.localstripe_url = ""
        self._http: aiohttp.ClientSession | None = None
        self.reset()

    def reset(self) -> None:
        self.checkouts: dict[str, dict] = {}
        self._intents: dict[str, str] = {}  # checkout id -> PaymentIntent id made at creation
        self._saved: dict[str, tuple[tuple, int, bytes]] = {}  # idempotency key -> (request, status, body)
        self.seen: list[Seen] = []
        self.violations: list[str] = []
        self.outage: str | None = None  # None | "down" | "error"

    # ---- what tests read ---------------------------------------------------------------------

    def calls(self, method: str, path: str) -> list[Seen]:
        return [s for s in self.seen if s.method == method and re.fullmatch(path, s.path)]

    @property
    def checkout_keys(self) -> list[str | None]:
        return [s.idempotency_key for s in self.calls("POST", "/v1/checkout/sessions")]

    @property
    def refund_keys(self) -> list[str | None]:
        """Idempotency-Key of every refund request that reached Stripe, in order (replays included)."""
        return [s.idempotency_key for s in self.calls("POST", "/v1/refunds")]

    def refunds(self, payment_intent: str) -> list[dict]:
        """Refunds localstripe holds for a PaymentIntent, newest first."""
        return self._localstripe("GET", "/v1/refunds", params={"payment_intent": payment_intent})["data"]

    def payment_intent(self, payment_intent: str) -> dict:
        return self._localstripe("GET", f"/v1/payment_intents/{payment_intent}")

    def intent_of(self, checkout_id: str) -> str:
        return self._intents[checkout_id]

    def dashboard_refund(self, payment_intent: str, amount: int) -> dict:
        """A refund made by hand in the Stripe dashboard: straight to localstripe, not via the app."""
        return self._localstripe("POST", "/v1/refunds", data={"payment_intent": payment_intent, "amount": str(amount)})

    def charge_refunded_event(self, payment_intent: str) -> dict:
        """`charge.refunded` for the payment's charge as it is now (amount_refunded = the total)."""
        charge = self.payment_intent(payment_intent)["latest_charge"]
        return make_event("charge.refunded", self._localstripe("GET", f"/v1/charges/{charge['id']}"))

    # ---- test-side control -------------------------------------------------------------------

    def pay(self, checkout_id: str) -> dict:
        """The customer pays with a test card: the PaymentIntent is confirmed in localstripe, the
        session becomes complete/paid. Returns the `checkout.session.completed` event (not sent)."""
        return self._control(f"/_test/checkouts/{checkout_id}/pay")

    def expire(self, checkout_id: str) -> dict:
        """The session times out at Stripe. Returns the `checkout.session.expired` event."""
        return self._control(f"/_test/checkouts/{checkout_id}/expire")

    def event(self, checkout_id: str, type_: str, **changes) -> dict:
        """An event carrying a snapshot of the session as it is now, with `changes` applied: for
        deliveries that arrive late or out of order."""
        return make_event(type_, {**copy.deepcopy(self.checkouts[checkout_id]), **changes})

    def _control(self, path: str) -> dict:
        response = httpx.post(self.base_url + path, timeout=10, trust_env=False)
        assert response.status_code == 200, response.text
        return response.json()

    def _localstripe(self, method: str, path: str, **kwargs) -> dict:
        response = httpx.request(
            method,
            self.localstripe_url + path,
            timeout=10,
            trust_env=False,
            headers={"Authorization": f"Bearer {self.secret_key}"},
            **kwargs,
        )
        assert response.status_code == 200, response.text
        return response.json()

    # ---- the server --------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._stripe_rules])
        app.router.add_post("/v1/checkout/sessions", self._create_checkout)
        app.router.add_get("/v1/checkout/sessions/{id}", self._get_checkout)
        app.router.add_post("/v1/checkout/sessions/{id}/expire", self._expire_checkout)
        app.router.add_post("/_test/checkouts/{id}/pay", self._test_pay)
        app.router.add_post("/_test/checkouts/{id}/expire", self._test_expire)
        app.router.add_get("/c/pay/{id}", self._hosted_page)
        app.router.add_route("*", "/v1/{tail:.*}", self._proxy)
        app.on_startup.append(self._open)
        app.on_cleanup.append(self._close)
        return app

    async def _open(self, _app) -> None:
        self._http = aiohttp.ClientSession(auto_decompress=True)

    async def _close(self, _app) -> None:
        await self._http.close()

    @web.middleware
    async def _stripe_rules(self, request: web.Request, handler):
        if not request.path.startswith("/v1/"):
            return await handler(request)
        if self.outage == "down":
            request.transport.abort()  # the client sees the connection drop, like a network fault
            return web.Response(status=503)  # never reaches the client
        if self.outage == "error":
            return web.json_response({"error": {"type": "api_error", "message": "stand-in outage"}}, status=500)
        body = await request.read()
        params = (
            unflatten(parse_qsl(body.decode(), keep_blank_values=True))
            if request.method == "POST"
            else unflatten(list(request.query.items()))
        )
        key = request.headers.get("Idempotency-Key")
        seen = Seen(request.method, request.path, key, params)
        self.seen.append(seen)
        try:
            auth = request.headers.get("Authorization", "")
            if not re.fullmatch(r"Bearer sk_\w+", auth):
                raise Rejected(
                    401,
                    "You did not provide an API key. Provide it in the Authorization header as a "
                    "Bearer token (Authorization: Bearer YOUR_SECRET_KEY).",
                )
            fingerprint = (
                request.method,
                request.path,
                tuple(sorted(parse_qsl(body.decode(), keep_blank_values=True))),
            )
            if request.method == "POST" and key and key in self._saved:
                first, status, saved = self._saved[key]
                if first != fingerprint:
                    raise Rejected(
                        400,
                        "Keys for idempotent requests can only be used with the same parameters "
                        "they were first used with. Try using a key other than "
                        f"'{key}' if you meant to execute a different request.",
                        type_="idempotency_error",
                    )
                seen.status, seen.replayed = status, True
                return web.Response(
                    body=saved, status=status, content_type="application/json", headers={"Idempotent-Replayed": "true"}
                )
            request[PARAMS], request[BODY] = params, body
            response = await handler(request)
        except Rejected as exc:
            if exc.violation:
                self.violations.append(f"{request.method} {request.path}: {exc.status} {exc.message}")
            response = exc.response()
        seen.status = response.status
        if response.body and response.content_type == "application/json":
            seen.response = json.loads(response.body)
        if request.method == "POST" and key and 200 <= response.status < 300:
            self._saved[key] = (fingerprint, response.status, response.body)
        return response

    # ---- Checkout Sessions -------------------------------------------------------------------

    async def _create_checkout(self, request: web.Request) -> web.Response:
        params = request[PARAMS]
        now = int(time.time())
        item = check_checkout(params, now)
        price = item["price_data"]
        amount, currency = int(price["unit_amount"]) * int(item["quantity"]), price["currency"]
        intent_params = {"amount": str(amount), "currency": currency}
        for k, val in ((params.get("payment_intent_data") or {}).get("metadata") or {}).items():
            intent_params[f"metadata[{k}]"] = val
        intent = await self._ls("POST", "/v1/payment_intents", data=intent_params)
        checkout_id = f"cs_test_{secrets.token_hex(16)}"
        self._intents[checkout_id] = intent["id"]
        checkout = {
            "id": checkout_id,
            "object": "checkout.session",
            "amount_subtotal": amount,
            "amount_total": amount,
            "cancel_url": params["cancel_url"],
            "client_reference_id": params.get("client_reference_id"),
            "created": now,
            "currency": currency,
            "customer_email": params.get("customer_email"),
            "expires_at": int(params["expires_at"]),
            "livemode": False,
            "metadata": params.get("metadata") or {},
            "mode": "payment",
            "payment_intent": None,
            "payment_status": "unpaid",
            "status": "open",
            "success_url": params["success_url"],
            "url": f"{self.base_url}/c/pay/{checkout_id}",
        }
        self.checkouts[checkout_id] = checkout
        return web.json_response(checkout)

    async def _get_checkout(self, request: web.Request) -> web.Response:
        params = request[PARAMS]
        unknown = set(params) - {"expand"}
        if unknown:
            raise Rejected(400, f"Received unknown parameter: {sorted(unknown)[0]}", param=sorted(unknown)[0])
        checkout = self._checkout(request.match_info["id"])
        body = copy.deepcopy(checkout)
        if "payment_intent" in (params.get("expand") or []) and body["payment_intent"]:
            body["payment_intent"] = await self._ls("GET", f"/v1/payment_intents/{body['payment_intent']}")
        return web.json_response(body)

    async def _expire_checkout(self, request: web.Request) -> web.Response:
        params = request[PARAMS]
        unknown = set(params) - {"expand"}
        if unknown:
            raise Rejected(400, f"Received unknown parameter: {sorted(unknown)[0]}", param=sorted(unknown)[0])
        return web.json_response(self._do_expire(self._checkout(request.match_info["id"])))

    def _checkout(self, checkout_id: str) -> dict:
        checkout = self.checkouts.get(checkout_id)
        if checkout is None:
            raise Rejected(404, f"No such checkout.session: '{checkout_id}'", param="session", code="resource_missing")
        if checkout["status"] == "open" and time.time() >= checkout["expires_at"]:
            checkout.update(status="expired", url=None)
        return checkout

    def _do_expire(self, checkout: dict) -> dict:
        if checkout["status"] != "open":
            raise Rejected(
                400,
                'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout '
                f"Session has a status of `{checkout['status']}`.",
                violation=False,
            )
        checkout.update(status="expired", url=None)
        return checkout

    async def _hosted_page(self, request: web.Request) -> web.Response:
        checkout = self.checkouts.get(request.match_info["id"])
        if checkout is None:
            raise web.HTTPNotFound()
        return web.Response(text=f"Checkout {checkout['id']}: {checkout['status']}", content_type="text/plain")

    # ---- test control (not subject to outages) -------------------------------------------------

    async def _test_pay(self, request: web.Request) -> web.Response:
        checkout = self.checkouts.get(request.match_info["id"])
        if checkout is None or checkout["status"] != "open":
            return web.json_response(
                {"error": f"cannot pay a checkout that is {checkout and checkout['status']}"}, status=409
            )
        intent_id = self._intents[checkout["id"]]
        method = await self._ls(
            "POST", "/v1/payment_methods", data={"type": "card", **{f"card[{k}]": v for k, v in TEST_CARD.items()}}
        )
        await self._ls("POST", f"/v1/payment_intents/{intent_id}", data={"payment_method": method["id"]})
        intent = await self._ls("POST", f"/v1/payment_intents/{intent_id}/confirm", data={})
        if intent["status"] != "succeeded":
            return web.json_response({"error": f"payment intent is {intent['status']}"}, status=409)
        checkout.update(status="complete", payment_status="paid", payment_intent=intent_id, url=None)
        return web.json_response(make_event("checkout.session.completed", checkout))

    async def _test_expire(self, request: web.Request) -> web.Response:
        checkout = self.checkouts.get(request.match_info["id"])
        if checkout is None or checkout["status"] != "open":
            return web.json_response(
                {"error": f"cannot expire a checkout that is {checkout and checkout['status']}"}, status=409
            )
        self._do_expire(checkout)
        return web.json_response(make_event("checkout.session.expired", checkout))

    # ---- everything else: localstripe --------------------------------------------------------

    async def _proxy(self, request: web.Request) -> web.Response:
        params, body = request[PARAMS], request[BODY]
        if request.method == "POST" and request.path == "/v1/refunds":
            await self._check_refund(params)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
        async with self._http.request(
            request.method, self.localstripe_url + request.path_qs, data=body or None, headers=headers
        ) as answer:
            payload = await answer.read()
            if answer.status >= 400 and answer.status != 402:
                self.violations.append(
                    f"{request.method} {request.path}: localstripe {answer.status} {payload[:200]!r}"
                )
            return web.Response(
                body=payload, status=answer.status, content_type=answer.content_type or "application/json"
            )

    async def _check_refund(self, params: dict) -> None:
        intent_id = params.get("payment_intent")
        if not intent_id or "amount" not in params:
            return  # localstripe answers these itself
        intent = await self._ls("GET", f"/v1/payment_intents/{intent_id}", allow_error=True)
        charge = intent.get("latest_charge") if isinstance(intent, dict) else None
        if not charge:
            return
        left = charge["amount"] - charge["amount_refunded"]
        if int(params["amount"]) > left:
            raise Rejected(
                400,
                f"Refund amount ({int(params['amount'])}) is greater than unrefunded amount on charge ({left})",
                param="amount",
            )

    async def _ls(self, method: str, path: str, *, data: dict | None = None, allow_error: bool = False) -> dict:
        async with self._http.request(
            method, self.localstripe_url + path, data=data, headers={"Authorization": f"Bearer {self.secret_key}"}
        ) as answer:
            body = await answer.json(content_type=None)
            if answer.status != 200 and not allow_error:
                raise Rejected(
                    answer.status if answer.status < 500 else 500,
                    f"localstripe {method} {path}: {body}",
                    type_="api_error",
                )
            return body


def check_checkout(params: dict, now: int) -> dict:
    """Stripe's rules for the parameters coachbot sends; returns the one line item."""
    unknown = sorted(set(params) - CHECKOUT_PARAMS)
    if unknown:
        raise Rejected(400, f"Received unknown parameter: {unknown[0]}", param=unknown[0])
    for name in ("mode", "line_items", "success_url", "cancel_url", "expires_at"):
        if name not in params or params[name] in ("", None):
            raise Rejected(400, f"Missing required param: {name}.", param=name, code="parameter_missing")
    if params["mode"] != "payment":
        raise Rejected(400, f"coachbot must use mode=payment, got {params['mode']!r}", param="mode")
    items = params["line_items"]
    if not isinstance(items, list) or len(items) != 1:
        raise Rejected(400, "expected exactly one line item", param="line_items")
    item = items[0]
    extra = sorted(set(item) - {"quantity", "price_data"})
    if extra:
        raise Rejected(
            400, f"Received unknown parameter: line_items[0][{extra[0]}]", param=f"line_items[0][{extra[0]}]"
        )
    quantity = item.get("quantity")
    if not (isinstance(quantity, str) and quantity.isdigit() and 1 <= int(quantity) <= 999_999):
        raise Rejected(400, "quantity must be a whole number from 1 to 999999", param="line_items[0][quantity]")
    price = item.get("price_data")
    if not isinstance(price, dict):
        raise Rejected(
            400, "You must specify either `price` or `price_data` for each line item.", param="line_items[0]"
        )
    extra = sorted(set(price) - {"currency", "unit_amount", "product_data"})
    if extra:
        raise Rejected(400, f"Received unknown parameter: line_items[0][price_data][{extra[0]}]")
    currency = price.get("currency", "")
    if not re.fullmatch(r"[a-z]{3}", currency):
        raise Rejected(400, f"Invalid currency: {currency}", param="line_items[0][price_data][currency]")
    if not re.fullmatch(r"\d+", price.get("unit_amount", "")):
        raise Rejected(
            400,
            "Invalid integer: unit_amount",
            param="line_items[0][price_data][unit_amount]",
            code="parameter_invalid_integer",
        )
    if int(price["unit_amount"]) < MINIMUM_CHARGE.get(currency, 1):
        raise Rejected(
            400,
            f"The Checkout Session's total amount due must add up to at least the minimum charge amount for {currency}",
            param="line_items[0][price_data][unit_amount]",
        )
    product = price.get("product_data")
    if not isinstance(product, dict) or not product.get("name") or set(product) - {"name", "description"}:
        raise Rejected(
            400,
            "product_data needs a name (and nothing unknown)",
            param="line_items[0][price_data][product_data][name]",
        )
    if not re.fullmatch(r"\d+", str(params["expires_at"])):
        raise Rejected(400, "Invalid integer: expires_at", param="expires_at", code="parameter_invalid_integer")
    expires_at = int(params["expires_at"])
    if expires_at < now + MIN_EXPIRY:
        raise Rejected(
            400,
            "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.",
            param="expires_at",
        )
    if expires_at > now + MAX_EXPIRY:
        raise Rejected(
            400,
            "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.",
            param="expires_at",
        )
    metadata = params.get("metadata")
    ids = ("session_id",) if isinstance(metadata, dict) and "session_id" in metadata else ("package_id", "author_id")
    if not isinstance(metadata, dict) or not all(re.fullmatch(r"\d+", metadata.get(k, "")) for k in ids):
        raise Rejected(400, "coachbot must send metadata[session_id] (or package_id and author_id)", param="metadata")
    for owner in (metadata, (params.get("payment_intent_data") or {}).get("metadata") or {}):
        for k, val in owner.items():
            if len(k) > 40 or len(val) > 500:
                raise Rejected(400, "Metadata keys are at most 40 characters, values at most 500", param="metadata")
    pid = params.get("payment_intent_data")
    if pid is not None and (not isinstance(pid, dict) or set(pid) - {"metadata", "description"}):
        raise Rejected(400, "Received unknown parameter in payment_intent_data", param="payment_intent_data")
    for name in ("success_url", "cancel_url"):
        if not re.match(r"https?://[^/\s]+", params[name]):
            raise Rejected(400, "Not a valid URL", param=name, code="url_invalid")
    if len(params.get("client_reference_id") or "") > 200:
        raise Rejected(400, "client_reference_id is at most 200 characters", param="client_reference_id")
    if params.get("customer_email") is not None and "@" not in params["customer_email"]:
        raise Rejected(400, "Invalid email address", param="customer_email", code="email_invalid")
    return item


# ---- running localstripe and the stand-in in one background loop ----------------------------


def _bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class Servers:
    """localstripe (its aiohttp app, in-process, nothing written to /tmp) and the stand-in, both
    served from one thread with its own event loop, each on a free 127.0.0.1 port."""

    def __init__(self, standin: StripeStandIn):
        self.standin = standin
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="stripe-standin", daemon=True)
        self.runners: list[web.AppRunner] = []

    def start(self) -> None:
        from localstripe import resources, server

        self._store = resources.store
        self._store.dump_to_disk = lambda: None  # instance attribute: Store.__setitem__ and the middleware use it
        self._store.clear()
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(server.app), self.loop).result(timeout=10)

    async def _serve(self, localstripe_app: web.Application) -> None:
        for app, attr in ((localstripe_app, "localstripe_url"), (self.standin.app(), "base_url")):
            runner = web.AppRunner(app, access_log=None, handle_signals=False)
            await runner.setup()
            sock = _bound_socket()
            await web.SockSite(runner, sock).start()
            self.runners.append(runner)
            setattr(self.standin, attr, f"http://127.0.0.1:{sock.getsockname()[1]}")

    def flush(self) -> None:
        """Empty localstripe (DELETE /_config/data) and the stand-in's own state."""
        response = httpx.delete(self.standin.localstripe_url + "/_config/data", timeout=10, trust_env=False)
        assert response.status_code == 200, response.text
        self.standin.reset()

    def stop(self) -> None:
        async def shutdown():
            for runner in reversed(self.runners):
                await runner.cleanup()
            pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in pending:  # localstripe's delayed webhook deliveries
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

        try:
            asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(timeout=10)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=5)
            self.loop.close()
            self._store.clear()
            del self._store.dump_to_disk
