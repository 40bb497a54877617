"""GovDelivery TMS simulator, from its public docs (docs/providers.md#govdelivery).

- POST /messages/sms {"body", "recipients": [{"phone"}]} -> 201 the message resource
- GET  /messages/sms/{id} -> {body, created_at, completed_at, status, _links, recipient_counts}
  status new, queued, sending, completed (when every recipient has a final status)
- GET  /messages/sms/{id}/recipients[/sent|/failed][?page=N] -> a JSON array, pages of 50 with an RFC 5988
  Link header of relative links (first, prev, next, last), each followed by a comma as TMS's own
  server writes them; 202 {"message": "Recipient list is being built and is not yet complete"}
  while the list is being built (the first `building` list requests of a message)
- GET  /messages/sms/{id}/recipients/{rid} -> {phone, formatted_phone, status, error_message (failed
  only), created_at, completed_at, _links: {self, sms_message}}: a recipient's id is the end of `self`
- Auth: X-AUTH-TOKEN. Errors: {"error": "..."}.
- Webhooks, one per recipient status change: POST application/x-www-form-urlencoded (or JSON with
  {"format": "json"}) with status, message_type, message_url, recipient_url, sid, completed_at and
  error_message on failures; no signature (the callback URL carries our token).

Each recipient's outcome is chosen by its phone number (OUTCOME_BY_PHONE; numbers starting
FAILING_PREFIX fail with one of FAILURE_MESSAGES, by their last digit; otherwise sent). Control:
POST /_sim/messages {"data": {"phones": [...], "silent"?: true, "building"?: 1}} makes a message
with those recipients, whose recipient list answers 202 to its first `building` requests.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlencode

from local.simulators.base import (
    Plan,
    Reply,
    SimMessage,
    SimRequest,
    Simulator,
    json_reply,
    local_credentials,
    status_in,
)

OUTCOME_BY_PHONE: dict[str, str | None] = {
    "+15555550001": "failed",
    "+15555550002": "blacklisted",
    "+15555550003": "canceled",
    "+15555550004": "inconclusive",
    "+15555550005": None,  # never leaves sending
}
# Numbers starting with this fail too, so a message can have many failed recipients; the error
# message is chosen by the number's last digit. (Made-up texts: TMS passes its SMS vendor's on.)
FAILING_PREFIX = "+1555009"
FAILURE_MESSAGES = (
    "Number is not SMS capable",
    "Unreachable destination handset",
    "Unknown destination handset",
    "Message blocked by carrier",
)
FINAL = ("sent", "failed", "blacklisted", "canceled", "inconclusive")
PAGE_SIZE = 50
BUILDING = {"message": "Recipient list is being built and is not yet complete"}


def outcome_of(phone: str) -> str | None:
    if phone in OUTCOME_BY_PHONE:
        return OUTCOME_BY_PHONE[phone]
    return "failed" if phone.startswith(FAILING_PREFIX) else "sent"


def failure_message(phone: str) -> str:
    if phone.startswith(FAILING_PREFIX) and phone[-1:].isdecimal():
        return FAILURE_MESSAGES[int(phone[-1]) % len(FAILURE_MESSAGES)]
    return FAILURE_MESSAGES[0]


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class GovdeliverySimulator(Simulator):
    name = "govdelivery"
    LOCAL_CREDENTIALS: ClassVar[dict[str, str]] = local_credentials("govdelivery", "TOKEN", "CALLBACK_TOKEN")
    SETTINGS: ClassVar[dict[str, str]] = {"token": "GOVDELIVERY_TOKEN"}
    MISSING_CREDENTIALS: ClassVar[tuple[int, Any]] = (401, {"error": "Invalid authentication token"})

    def callback_target_for(self, callback_url: str, settings: Mapping[str, str]) -> dict[str, Any] | None:
        # TMS callbacks carry no credentials: the token rides in the URL registered with TMS.
        return {"url": f"{callback_url}?{urlencode({'token': settings['GOVDELIVERY_CALLBACK_TOKEN']})}"}

    def __init__(self, token: str, **options: Any) -> None:
        """`options`: the port, step_seconds and tick_seconds of `Simulator`."""
        super().__init__(**options)
        self.token = token
        self._ids = itertools.count(165532)
        self._recipient_ids = itertools.count(16553200)

    def credentials(self) -> dict[str, str]:
        return {"x-auth-token": self.token}

    def routes(self) -> dict[tuple[str, str], Any]:
        return {("POST", "/messages/sms"): self._send, ("GET", "/messages/sms/*"): self._get}

    def recipient_plan(self, phone: str) -> Plan:
        outcome = outcome_of(phone)
        plan: Plan = [("new", 0.0), ("sending", self.step_seconds)]
        return [*plan, (outcome, 2 * self.step_seconds)] if outcome else plan

    def timelines(self, message: SimMessage) -> list[tuple[str, Plan]]:
        return [(str(recipient["id"]), recipient["plan"]) for recipient in message.data["recipients"]]

    def add_sms(
        self, phones: list[str], body: str = "Today is Sunny and 70F", silent: bool = False, building: int = 0
    ) -> SimMessage:
        """A message to `phones`; its recipient list answers 202 ("being built") `building` times first."""
        number = next(self._ids)
        plans = [self.recipient_plan(phone) for phone in phones]
        with self.lock:
            recipients = [
                {"id": next(self._recipient_ids), "phone": phone, "plan": plan}
                for phone, plan in zip(phones, plans, strict=True)
            ]
        # The message's own timeline: new, then sending, then completed once every recipient is final.
        plan: Plan = [("new", 0.0), ("sending", self.step_seconds)]
        ends = [steps[-1][1] for steps in plans if steps[-1][0] in FINAL]
        if len(ends) == len(plans):
            plan.append(("completed", max(ends)))
        return self.add_message(
            plan, str(number), recipients=recipients, body=body, silent=silent, building=max(0, building)
        )

    def _send(self, request: SimRequest) -> Reply:
        body = request.json()
        recipients = body.get("recipients") if isinstance(body, dict) else None
        if not isinstance(recipients, list) or not recipients or not body.get("body"):
            return json_reply(422, {"error": "body and recipients are required"})
        phones = [str(r.get("phone")) for r in recipients if isinstance(r, dict) and r.get("phone")]
        return json_reply(201, self.resource(self.add_sms(phones, str(body["body"]))))

    def _get(self, request: SimRequest) -> Reply:
        parts = request.path.strip("/").split("/")  # messages, sms, id, [recipients, [rid|sent|failed]]
        with self.lock:
            message = self.messages.get(parts[2]) if len(parts) >= 3 else None
        if message is None:
            return json_reply(404, {"error": "Not found"})
        if len(parts) == 3:
            return json_reply(200, self.resource(message))
        if parts[3] != "recipients" or len(parts) > 5:
            return json_reply(404, {"error": "Not found"})
        recipients = [self.recipient(message, r) for r in message.data["recipients"]]
        if len(parts) == 5 and parts[4] not in ("sent", "failed"):
            found = [
                r for r, raw in zip(recipients, message.data["recipients"], strict=True) if str(raw["id"]) == parts[4]
            ]
            return json_reply(200, found[0]) if found else json_reply(404, {"error": "Not found"})
        with self.lock:
            if message.data.get("building", 0) > 0:
                message.data["building"] -= 1
                return json_reply(202, BUILDING)
        if len(parts) == 5:
            recipients = [r for r in recipients if r["status"] == parts[4]]
        return self.recipient_page(request, recipients)

    def recipient_page(self, request: SimRequest, recipients: list[dict[str, Any]]) -> Reply:
        """One page of a list, with TMS's Link header (relative links, each with a trailing comma)."""
        try:
            page = max(1, int((request.query.get("page") or ["1"])[0]))
        except ValueError:
            page = 1  # as TMS: `Integer(params[:page]) rescue 1`
        last = max(1, -(-len(recipients) // PAGE_SIZE))
        links: dict[str, int] = {}
        if page > 1:
            links |= {"first": 1, "prev": page - 1}
        if page < last:
            links |= {"next": page + 1, "last": last}
        header = "".join(f'<{request.path}?page={number}>; rel="{rel}",' for rel, number in links.items())
        chunk = recipients[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        return json_reply(200, chunk, {"Link": header} if header else None)

    def resource(self, message: SimMessage) -> dict[str, Any]:
        elapsed = message.elapsed()
        status = status_in(message.plan, elapsed)
        counts = dict.fromkeys(("new", "sending", "inconclusive", "blacklisted", "canceled", "sent", "failed"), 0)
        for recipient in message.data["recipients"]:
            counts[status_in(recipient["plan"], elapsed)] += 1
        link = f"/messages/sms/{message.message_id}"
        resource: dict[str, Any] = {
            "body": message.data["body"],
            "created_at": iso(message.created_at),
            "status": status,
            "_links": {
                "self": link,
                "recipients": f"{link}/recipients",
                "failed": f"{link}/recipients/failed",
                "sent": f"{link}/recipients/sent",
            },
            "recipient_counts": {"total": len(message.data["recipients"]), **counts},
        }
        if status == "completed":
            resource["completed_at"] = iso(message.reached_at(message.plan, "completed"))
        return resource

    def recipient(self, message: SimMessage, raw: dict[str, Any]) -> dict[str, Any]:
        status = status_in(raw["plan"], message.elapsed())
        found: dict[str, Any] = {
            "phone": raw["phone"].lstrip("+1"),
            "formatted_phone": raw["phone"],
            "status": status,
            "created_at": iso(message.created_at),
            "_links": {
                "self": f"/messages/sms/{message.message_id}/recipients/{raw['id']}",
                "sms_message": f"/messages/sms/{message.message_id}",
            },
        }
        if status in FINAL:
            found["completed_at"] = iso(message.reached_at(raw["plan"], status))
        if status == "failed":
            found["error_message"] = failure_message(raw["phone"])
        return found

    def add_from_control(self, body: dict[str, Any]) -> SimMessage:
        data = body.get("data") or {}
        phones = [str(p) for p in data.get("phones", ["+15555550000"])]
        return self.add_sms(phones, silent=bool(data.get("silent")), building=int(data.get("building", 0)))

    def send_callback(self, message: SimMessage, status: str, part: str = "") -> None:
        if status == "new":
            return  # TMS has no webhook for a recipient that is merely created
        raw = next((r for r in message.data["recipients"] if str(r["id"]) == part), message.data["recipients"][0])
        fields = {
            "status": status,
            "message_type": "sms",
            "message_url": f"{self.url}/messages/sms/{message.message_id}",
            "recipient_url": f"{self.url}/messages/sms/{message.message_id}/recipients/{raw['id']}",
            "sid": uuid.uuid4().hex,
            "completed_at": iso(datetime.now(UTC)),
        }
        if status == "failed":
            fields["error_message"] = failure_message(raw["phone"])
        with self.lock:
            as_json = (self.callback_target or {}).get("format") == "json"
        if as_json:
            self.post_callback("POST", {"Content-Type": "application/json"}, json.dumps(fields).encode())
        else:
            body = urlencode(fields).encode()
            self.post_callback("POST", {"Content-Type": "application/x-www-form-urlencoded"}, body)
