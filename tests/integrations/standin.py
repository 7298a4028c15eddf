"""A local stand-in for the Daily and Zoom REST APIs: a Starlette app that checks each request
the way the provider documents it (auth, method, path, query, JSON fields and their types) and
answers in the provider's shape. A malformed request is answered 400, like the provider would,
and recorded in `violations`, which the test fixtures assert is empty after every test.

Tests script failures with `fail(...)`: the next matching requests get that status instead."""

from __future__ import annotations

import base64
import re
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

DAILY_KEY = "daily-test-key-5f0c"
DAILY_DOMAIN = "coachbot-test"
ZOOM_ACCOUNT = "acct-Zx81"
ZOOM_CLIENT_ID = "client-id-77"
ZOOM_CLIENT_SECRET = "client-secret-s3cr3t"
FIRST_MEETING_ID = 85746065432
DAILY_NAME = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
ZOOM_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


@dataclass
class Scripted:
    status: int
    headers: dict = field(default_factory=dict)
    body: dict = field(default_factory=dict)
    apply_first: bool = False  # do the real work, then answer with this failure anyway


@dataclass
class Seen:
    method: str
    path: str
    query: dict
    headers: dict
    json: object


class StandIn:
    def __init__(self):
        self.base_url = ""
        self.reset()

    def reset(self) -> None:
        self.seen: list[Seen] = []
        self.violations: list[str] = []
        self.script: dict[tuple[str, str], list[Scripted]] = defaultdict(list)
        self.rooms: dict[str, dict] = {}
        self.meetings: dict[int, dict] = {}
        self.next_meeting_id = FIRST_MEETING_ID
        self.valid_tokens: set[str] = set()
        self.issued_tokens: list[str] = []
        self.zoom_expires_in = 3599
        self.reject_all_tokens = False

    # -- test helpers ---------------------------------------------------------------------------

    def fail(self, method: str, path: str, status: int, *, times: int = 1, headers=None, body=None, apply_first=False):
        for _ in range(times):
            self.script[(method, path)].append(Scripted(status, headers or {}, body or {}, apply_first))

    def calls(self, method: str, path: str) -> list[Seen]:
        return [s for s in self.seen if s.method == method and s.path == path]

    def revoke_zoom_tokens(self) -> None:
        self.valid_tokens.clear()

    # -- plumbing -------------------------------------------------------------------------------

    async def intake(self, request: Request) -> Seen:
        raw = await request.body()
        parsed = None
        if raw:
            try:
                parsed = await request.json()
            except ValueError:
                parsed = "<not json>"
        seen = Seen(request.method, request.url.path, dict(request.query_params), dict(request.headers), parsed)
        self.seen.append(seen)
        return seen

    def scripted(self, seen: Seen) -> Scripted | None:
        queue = self.script.get((seen.method, seen.path))
        return queue.pop(0) if queue else None

    def reject(self, problems: list[str], body: dict) -> JSONResponse | None:
        if not problems:
            return None
        self.violations.extend(problems)
        return JSONResponse(body | {"_problems": problems}, status_code=400)


def _json_problems(seen: Seen) -> list[str]:
    ctype = seen.headers.get("content-type", "")
    problems = [] if ctype.startswith("application/json") else [f"{seen.path}: content-type {ctype!r}"]
    if not isinstance(seen.json, dict):
        problems.append(f"{seen.path}: body is not a JSON object: {seen.json!r}")
    return problems


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _scripted_response(s: Scripted) -> Response:
    return JSONResponse(
        s.body or {"error": "server-error", "info": f"scripted {s.status}"}, s.status, headers=s.headers
    )


def build_app(state: StandIn) -> Starlette:
    # ---------------------------------------------------------------- Daily (api_base /daily/v1)

    def daily_auth(seen: Seen) -> Response | None:
        auth = seen.headers.get("authorization")
        if auth is None:
            return JSONResponse({"error": "authorization-header-error"}, 400)
        if auth != f"Bearer {DAILY_KEY}":
            return JSONResponse({"error": "authentication-error", "info": "invalid API key"}, 401)
        return None

    def room_object(name: str) -> dict:
        room = state.rooms[name]
        return {
            "id": room["id"],
            "name": name,
            "api_created": True,
            "privacy": room["privacy"],
            "url": f"https://{DAILY_DOMAIN}.daily.co/{name}",
            "created_at": "2031-01-01T00:00:00.000Z",
            "config": room["properties"],
        }

    async def daily_create_room(request: Request) -> Response:
        seen = await state.intake(request)
        if (denied := daily_auth(seen)) is not None:
            return denied
        problems = _json_problems(seen)
        body = seen.json if isinstance(seen.json, dict) else {}
        props = body.get("properties")
        name = body.get("name")
        if not isinstance(name, str) or not DAILY_NAME.match(name):
            problems.append(f"rooms: bad name {name!r}")
        if body.get("privacy") != "private":
            problems.append(f"rooms: privacy {body.get('privacy')!r}, want 'private'")
        if not isinstance(props, dict):
            problems.append("rooms: properties missing")
            props = {}
        for key in ("nbf", "exp"):
            if not _is_int(props.get(key)):
                problems.append(f"rooms: properties.{key} must be an integer epoch, got {props.get(key)!r}")
        if props.get("eject_at_room_exp") is not True:
            problems.append("rooms: properties.eject_at_room_exp must be true")
        if _is_int(props.get("nbf")) and _is_int(props.get("exp")) and props["exp"] <= props["nbf"]:
            problems.append("rooms: exp must be after nbf")
        if unknown := set(body) - {"name", "privacy", "properties"}:
            problems.append(f"rooms: unexpected fields {sorted(unknown)}")
        if (bad := state.reject(problems, {"error": "invalid-request-error", "info": "; ".join(problems)})) is not None:
            return bad
        script = state.scripted(seen)
        if script and not script.apply_first:
            return _scripted_response(script)
        if name in state.rooms:
            return JSONResponse({"error": "invalid-request-error", "info": f"a room named {name} already exists"}, 400)
        state.rooms[name] = {"id": str(uuid.uuid4()), "privacy": body["privacy"], "properties": props}
        if script:
            return _scripted_response(script)
        return JSONResponse(room_object(name))

    async def daily_get_room(request: Request) -> Response:
        seen = await state.intake(request)
        if (denied := daily_auth(seen)) is not None:
            return denied
        name = request.path_params["name"]
        if name not in state.rooms:
            return JSONResponse({"error": "not-found", "info": f"room {name} not found"}, 404)
        return JSONResponse(room_object(name))

    async def daily_delete_room(request: Request) -> Response:
        seen = await state.intake(request)
        if (denied := daily_auth(seen)) is not None:
            return denied
        if (script := state.scripted(seen)) is not None:
            return _scripted_response(script)
        name = request.path_params["name"]
        if state.rooms.pop(name, None) is None:
            return JSONResponse({"error": "not-found", "info": f"room {name} not found"}, 404)
        return JSONResponse({"deleted": True, "name": name})

    async def daily_meeting_token(request: Request) -> Response:
        seen = await state.intake(request)
        if (denied := daily_auth(seen)) is not None:
            return denied
        problems = _json_problems(seen)
        body = seen.json if isinstance(seen.json, dict) else {}
        props = body.get("properties") if isinstance(body.get("properties"), dict) else {}
        if not props:
            problems.append("meeting-tokens: properties missing")
        if not isinstance(props.get("room_name"), str) or props.get("room_name") not in state.rooms:
            problems.append(f"meeting-tokens: room_name {props.get('room_name')!r} is not an existing room")
        if not isinstance(props.get("user_name"), str):
            problems.append("meeting-tokens: user_name must be a string")
        if not isinstance(props.get("is_owner"), bool):
            problems.append("meeting-tokens: is_owner must be a boolean")
        if not _is_int(props.get("exp")):
            problems.append("meeting-tokens: exp must be an integer epoch")
        if (bad := state.reject(problems, {"error": "invalid-request-error", "info": "; ".join(problems)})) is not None:
            return bad
        if (script := state.scripted(seen)) is not None:
            return _scripted_response(script)
        token = (
            "eyJ." + base64.urlsafe_b64encode(f"{props['room_name']}|{props['user_name']}".encode()).decode() + ".sig"
        )
        return JSONResponse({"token": token})

    # ---------------------------------------------------- Zoom (oauth /zoom/oauth/token, api /zoom/v2)

    async def zoom_oauth(request: Request) -> Response:
        seen = await state.intake(request)
        problems = []
        if seen.query.get("grant_type") != "account_credentials":
            problems.append(f"oauth: grant_type {seen.query.get('grant_type')!r}")
        if seen.query.get("account_id") != ZOOM_ACCOUNT:
            problems.append(f"oauth: account_id {seen.query.get('account_id')!r}")
        if bad := state.reject(problems, {"reason": "unsupported grant type", "error": "unsupported_grant_type"}):
            return bad
        expected = "Basic " + base64.b64encode(f"{ZOOM_CLIENT_ID}:{ZOOM_CLIENT_SECRET}".encode()).decode()
        if seen.headers.get("authorization") != expected:
            return JSONResponse({"reason": "Invalid client_id or client_secret", "error": "invalid_client"}, 400)
        if (script := state.scripted(seen)) is not None:
            return _scripted_response(script)
        token = f"zoom-access-{len(state.issued_tokens) + 1}-{uuid.uuid4().hex}"
        state.issued_tokens.append(token)
        state.valid_tokens.add(token)
        return JSONResponse(
            {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": state.zoom_expires_in,
                "scope": "meeting:write:meeting:admin meeting:delete:meeting:admin",
                "api_url": "https://api.zoom.us",
            }
        )

    def zoom_auth(seen: Seen) -> Response | None:
        auth = seen.headers.get("authorization", "")
        token = auth.removeprefix("Bearer ")
        if not auth.startswith("Bearer ") or state.reject_all_tokens or token not in state.valid_tokens:
            return JSONResponse({"code": 124, "message": "Invalid access token."}, 401)
        return None

    async def zoom_create_meeting(request: Request) -> Response:
        seen = await state.intake(request)
        if (denied := zoom_auth(seen)) is not None:
            return denied
        problems = _json_problems(seen)
        body = seen.json if isinstance(seen.json, dict) else {}
        if not isinstance(body.get("topic"), str) or not body["topic"]:
            problems.append("meetings: topic must be a non-empty string")
        if body.get("type") != 2 or not _is_int(body.get("type")):
            problems.append(f"meetings: type {body.get('type')!r}, want 2 (scheduled)")
        if not isinstance(body.get("start_time"), str) or not ZOOM_TIME.match(body["start_time"]):
            problems.append(f"meetings: start_time {body.get('start_time')!r} is not yyyy-MM-ddTHH:mm:ssZ")
        if not _is_int(body.get("duration")) or body["duration"] <= 0:
            problems.append(f"meetings: duration {body.get('duration')!r} must be a positive integer")
        if body.get("timezone") != "UTC":
            problems.append(f"meetings: timezone {body.get('timezone')!r}")
        settings = body.get("settings") if isinstance(body.get("settings"), dict) else {}
        if settings.get("join_before_host") is not False or settings.get("waiting_room") is not True:
            problems.append(f"meetings: settings {settings!r}")
        if (bad := state.reject(problems, {"code": 300, "message": "; ".join(problems)})) is not None:
            return bad
        if (script := state.scripted(seen)) is not None:
            return _scripted_response(script)
        meeting_id = state.next_meeting_id
        state.next_meeting_id += 1
        meeting = {
            "uuid": base64.b64encode(uuid.uuid4().bytes).decode(),
            "id": meeting_id,
            "host_id": "KDcuGIm1QgePTO8WbOqwIQ",
            "host_email": "coach@example.com",
            "topic": body["topic"],
            "type": 2,
            "status": "waiting",
            "start_time": body["start_time"],
            "duration": body["duration"],
            "timezone": "UTC",
            "created_at": "2031-01-01T00:00:00Z",
            "start_url": f"https://zoom.us/s/{meeting_id}?zak=eyJzdGFydA",
            "join_url": f"https://zoom.us/j/{meeting_id}?pwd=Wm9vbVBhc3Njb2Rl.1",
            "password": "Zx81pw",
            "settings": body["settings"],
        }
        state.meetings[meeting_id] = meeting
        return JSONResponse(meeting, status_code=201)

    async def zoom_delete_meeting(request: Request) -> Response:
        seen = await state.intake(request)
        if (denied := zoom_auth(seen)) is not None:
            return denied
        if (script := state.scripted(seen)) is not None:
            return _scripted_response(script)
        raw = request.path_params["meeting_id"]
        if not raw.isdigit() or state.meetings.pop(int(raw), None) is None:
            return JSONResponse({"code": 3001, "message": f"Meeting does not exist: {raw}."}, 404)
        return Response(status_code=204)

    async def unknown_route(request: Request) -> Response:
        # A wrong path must not pass for "404, already gone": record it as a violation.
        seen = await state.intake(request)
        state.violations.append(f"no such endpoint: {seen.method} {seen.path}")
        return JSONResponse({"error": "not-found", "info": "no such endpoint"}, 404)

    return Starlette(
        routes=[
            Route("/daily/v1/rooms", daily_create_room, methods=["POST"]),
            Route("/daily/v1/rooms/{name}", daily_get_room, methods=["GET"]),
            Route("/daily/v1/rooms/{name}", daily_delete_room, methods=["DELETE"]),
            Route("/daily/v1/meeting-tokens", daily_meeting_token, methods=["POST"]),
            Route("/zoom/oauth/token", zoom_oauth, methods=["POST"]),
            Route("/zoom/v2/users/me/meetings", zoom_create_meeting, methods=["POST"]),
            Route("/zoom/v2/meetings/{meeting_id}", zoom_delete_meeting, methods=["DELETE"]),
            Route("/{path:path}", unknown_route, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        ]
    )
