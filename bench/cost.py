"""`make cost`: what AWS bills for a million messages, measured from the requests actually made.

Each provider's typical life of a message runs through the real handlers on moto in-process (the
template's table, queues and bus; the provider simulators on loopback; one webhook subscription
with a receiver on loopback), and a meter counts what AWS bills as it happens:

- API Gateway (REST): one request per handler invocation made with an API Gateway event, split
  into provider callbacks and client calls.
- Lambda: every invocation, its handler time measured here rounded up to the millisecond as Lambda
  bills it, times the function's MemorySize in template.yaml (GB-seconds), plus the request charge.
- DynamoDB: every request made through botocore (`BaseClient._make_api_call`, patched). Write
  units from the item actually written, by DynamoDB's item size rules (attribute names + values,
  1 KB units; the larger of the item before and after; transactions double; a conditional write
  that fails costs the units it would have used). Global secondary index writes from the item
  before and after each write (read from moto's store, outside the metered client): a put when the
  item enters the index or changes a projected attribute, a delete when it leaves, both when its
  index key changes. Read units: 4 KB of the items read (a query's page as a whole), eventually
  consistent reads half. Stream reads by the notifier's event source mapping are free.
- CloudWatch Logs: the bytes the handlers write to stdout (log lines, EMF metrics), plus Lambda's
  own START/END/REPORT lines (with the XRAY line of active tracing) per invocation.
- X-Ray: one trace per API request (the function joins API Gateway's trace) and per invocation by
  an event source or the schedule, sampled at the default rule (1 a second, then 5 %), at an
  assumed volume (MONTHLY_MESSAGES, evenly spread over 30 days).
- SQS (FIFO): every request, one per 64 KB chunk of its payload, including the event source
  mapping's receive and delete of each message (its empty long polls are a fixed monthly cost).
- EventBridge: one event per 64 KB chunk of each PutEvents entry.

What moto cannot show: Lambda's own time. Handler time is measured on this machine against moto,
whose DynamoDB requests take 10 to 25 ms in Python (single digits on AWS), with no cold starts
(every function is warmed first) and no network latency to the providers or the subscriber.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import importlib
import io
import json
import math
import os
import sys
import threading
import time
import uuid
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from bench import prices
from bench.harness import ENV, ROOT, notifications_on_moto

PROVIDERS = ("usajobs", "comapi", "govdelivery", "wunderkind")
# The blend: equal parts. Nothing in the repository says which provider carries more traffic;
# change MIX (weights summing to 1) when the real shares are known.
MIX = {"usajobs": 0.25, "comapi": 0.25, "govdelivery": 0.25, "wunderkind": 0.25}
TARGET_PER_MILLION = 12.00  # the target for the blend, in dollars per million messages
MONTHLY_MESSAGES = 1_000_000  # the volume the X-Ray reservoir is spread over
SECONDS_PER_MONTH = 30 * 24 * 3600
KB = 1024
SQS_CHUNK = EVENT_CHUNK = 64 * KB
GB = 1024**3
FIXED_POLLER_RUNS_PER_MONTH = SECONDS_PER_MONTH // 60  # rate(1 minute)

COST_ENV = {
    **ENV,
    # As deployed: the template's log level, metrics on.
    "POWERTOOLS_METRICS_DISABLED": "false",
    "POWERTOOLS_DEV": "false",
    "USAJOBS_API_KEY": "cost-usajobs-key",
    "GOVDELIVERY_TOKEN": "cost-govdelivery-token",
    "GOVDELIVERY_CALLBACK_TOKEN": "cost-govdelivery-callback-token",
    "WEBHOOKS_ALLOW_LOOPBACK": "true",
    # The only change from the template's defaults: a message is due for its next poll a second
    # after the last (60 s and more on AWS), so three polls take three seconds here. What a poll
    # costs does not depend on when it happens.
    "POLL_INITIAL_DELAY_SECONDS": "1",
    "POLL_MAX_BACKOFF_SECONDS": "1",
}
TEMPLATE_PARAMETERS = {
    "POWERTOOLS_LOG_LEVEL": "LogLevel",
    "RETENTION_DAYS": "RetentionDays",
    "POLL_CONCURRENCY": "PollConcurrency",
    "POLL_BATCH_SIZE": "PollBatchSize",
    "TRACKING_DEADLINE_HOURS": "TrackingDeadlineHours",
    "USAJOBS_NOT_FOUND_GRACE_MINUTES": "UsajobsNotFoundGraceMinutes",
}


# -- DynamoDB's sizing rules -----------------------------------------------------------------------


def attribute_size(value: dict[str, Any]) -> int:
    """The size of one attribute value as DynamoDB counts it (the name is counted by the caller)."""
    ((kind, content),) = value.items()
    if kind == "S":
        return len(content.encode())
    if kind == "B":
        return len(content) if isinstance(content, bytes) else len(base64.b64decode(content))
    if kind == "N":
        return _number_size(content)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(member.encode()) for member in content)
    if kind == "NS":
        return sum(_number_size(member) for member in content)
    if kind == "BS":
        return sum(attribute_size({"B": member}) for member in content)
    if kind == "M":
        return 3 + sum(len(name.encode()) + attribute_size(inner) + 1 for name, inner in content.items())
    if kind == "L":
        return 3 + sum(attribute_size(inner) + 1 for inner in content)
    raise ValueError(f"unknown DynamoDB type {kind}")


def _number_size(text: str) -> int:
    """One byte per two significant digits, plus one (leading and trailing zeros trimmed)."""
    digits = text.lstrip("-").split("e")[0].split("E")[0].replace(".", "").strip("0") or "0"
    return math.ceil(len(digits) / 2) + 1


def item_size(item: dict[str, Any] | None) -> int:
    """Attribute names plus values, in bytes."""
    return sum(len(name.encode()) + attribute_size(value) for name, value in (item or {}).items())


def write_units(size: int) -> int:
    return max(1, math.ceil(size / KB))


def read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / (4 * KB)))
    return float(units) if consistent else units / 2


# -- what is counted ---------------------------------------------------------------------------------


@dataclass
class Usage:
    """What one provider's messages (or one part of the run) made AWS count."""

    api: Counter[str] = field(default_factory=Counter)  # "callback" / "client"
    invocations: Counter[str] = field(default_factory=Counter)  # by function
    billed_ms: Counter[str] = field(default_factory=Counter)
    gb_seconds: float = 0.0
    write_units: float = 0.0  # the table's
    index_writes: Counter[str] = field(default_factory=Counter)  # "due-index put", ...
    index_write_units: float = 0.0
    read_units: float = 0.0
    failed_writes: int = 0
    requests: Counter[str] = field(default_factory=Counter)  # "dynamodb:PutItem", ...
    log_bytes: int = 0  # ours: log lines and EMF
    platform_log_bytes: int = 0  # Lambda's START / END / REPORT
    trace_roots: Counter[str] = field(default_factory=Counter)  # by sampler
    sqs_requests: int = 0  # 64 KB chunks
    events: int = 0  # 64 KB chunks


@dataclass(frozen=True)
class Index:
    name: str
    keys: tuple[str, ...]
    projection: str
    non_key: tuple[str, ...]


class CountingStdout(io.TextIOBase):
    """stdout for the handlers: counts the UTF-8 bytes written (what CloudWatch Logs ingests)."""

    def __init__(self) -> None:
        self.bytes = 0
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self.bytes += len(text.encode())
        return len(text)

    def writable(self) -> bool:
        return True


def platform_log_lines(function: str, billed_ms: int, memory_mb: int) -> str:
    """The lines Lambda itself writes to the function's log group for one invocation."""
    request_id = str(uuid.uuid4())
    trace = f"1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"
    return (
        f"START RequestId: {request_id} Version: $LATEST\n"
        f"END RequestId: {request_id}\n"
        f"REPORT RequestId: {request_id}\tDuration: {billed_ms - 0.5:.2f} ms\tBilled Duration: {billed_ms} ms\t"
        f"Memory Size: {memory_mb} MB\tMax Memory Used: {memory_mb // 2} MB\t\n"
        f"XRAY TraceId: {trace}\tSegmentId: {uuid.uuid4().hex[:16]}\tSampled: true\t\n"
    )


_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
_CONDITIONAL_FAILURES = {"ConditionalCheckFailedException", "TransactionCanceledException"}


class Meter:
    """Counts what AWS bills, from every request made through botocore while installed."""

    def __init__(self, table_name: str) -> None:
        from local.template import table_definition

        arguments, _ = table_definition(table_name)
        self.table = table_name
        self.keys = tuple(key["AttributeName"] for key in arguments["KeySchema"])
        self.indexes = tuple(
            Index(
                index["IndexName"],
                tuple(key["AttributeName"] for key in index["KeySchema"]),
                index["Projection"]["ProjectionType"],
                tuple(index["Projection"].get("NonKeyAttributes", ())),
            )
            for index in arguments.get("GlobalSecondaryIndexes", ())
        )
        self.usage: defaultdict[str, Usage] = defaultdict(Usage)
        self.tag = "setup"
        self.stdout = CountingStdout()
        self._local = threading.local()
        self._lock = threading.RLock()
        self._original: Callable[..., Any] | None = None

    # installing -------------------------------------------------------------------------------

    def install(self) -> None:
        from botocore.client import BaseClient

        self._original = original = BaseClient._make_api_call  # type: ignore[attr-defined]
        meter = self

        def metered(client: Any, operation: str, params: dict[str, Any]) -> Any:
            return meter._call(original, client, operation, params)

        BaseClient._make_api_call = metered  # type: ignore[attr-defined]

    def uninstall(self) -> None:
        from botocore.client import BaseClient

        if self._original is not None:
            BaseClient._make_api_call = self._original  # type: ignore[attr-defined]
            self._original = None

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Requests this thread makes that AWS does not bill us for (or that are not ours)."""
        self._local.paused = True
        try:
            yield
        finally:
            self._local.paused = False

    @contextmanager
    def tagged(self, tag: str) -> Iterator[Usage]:
        previous, self.tag = self.tag, tag
        try:
            yield self.usage[tag]
        finally:
            self.tag = previous

    def overhead(self) -> float:
        """Seconds this thread spent in the meter's own work (taken out of handler times)."""
        return float(getattr(self._local, "overhead", 0.0))

    def _spent(self, started: float) -> None:
        self._local.overhead = self.overhead() + time.perf_counter() - started

    # the requests -----------------------------------------------------------------------------

    def _call(self, original: Callable[..., Any], client: Any, operation: str, params: dict[str, Any]) -> Any:
        if getattr(self._local, "paused", False):
            return original(client, operation, params)
        service = client.meta.service_model.service_name
        usage = self.usage[self.tag]
        usage.requests[f"{service}:{operation}"] += 1
        if service == "dynamodb" and operation in _WRITES:
            return self._write(original, client, operation, params, usage)
        response = original(client, operation, params)
        started = time.perf_counter()
        if service == "dynamodb":
            usage.read_units += self._read_units(original, client, operation, params, response)
        elif service == "sqs":
            usage.sqs_requests += sqs_requests(operation, params, response)
        elif service == "events" and operation == "PutEvents":
            usage.events += sum(math.ceil(max(1, event_size(entry)) / EVENT_CHUNK) for entry in params["Entries"])
        self._spent(started)
        return response

    def stored(self, key: dict[str, Any]) -> dict[str, Any] | None:
        """The item as moto holds it now (read from moto's store: no request, nothing billed)."""
        from moto.core.models import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends

        item = dynamodb_backends[DEFAULT_ACCOUNT_ID][prices.REGION].get_item(self.table, key)
        if item is None:
            return None
        copied: dict[str, Any] = json.loads(json.dumps(item.to_json()["Attributes"]))
        return copied

    def _key(self, item: dict[str, Any]) -> dict[str, Any]:
        return {name: item[name] for name in self.keys}

    def _targets(self, operation: str, params: dict[str, Any]) -> list[tuple[str, dict[str, Any], Any]]:
        """(kind, key, item sent or None) for each item the write request touches."""
        if operation == "PutItem":
            return [("put", self._key(params["Item"]), params["Item"])]
        if operation == "UpdateItem":
            return [("update", params["Key"], None)]
        if operation == "DeleteItem":
            return [("delete", params["Key"], None)]
        targets: list[tuple[str, dict[str, Any], Any]] = []
        if operation == "TransactWriteItems":
            for action in params["TransactItems"]:
                ((kind, body),) = action.items()
                if kind == "Put":
                    targets.append(("put", self._key(body["Item"]), body["Item"]))
                else:
                    targets.append(({"Update": "update", "Delete": "delete"}.get(kind, "check"), body["Key"], None))
            return targets
        for requests in params["RequestItems"].values():  # BatchWriteItem
            for request in requests:
                if "PutRequest" in request:
                    item = request["PutRequest"]["Item"]
                    targets.append(("put", self._key(item), item))
                else:
                    targets.append(("delete", request["DeleteRequest"]["Key"], None))
        return targets

    def _write(
        self, original: Callable[..., Any], client: Any, operation: str, params: dict[str, Any], usage: Usage
    ) -> Any:
        from botocore.exceptions import ClientError

        with self._lock:  # nothing else writes between the reads before and after
            started = time.perf_counter()
            targets = self._targets(operation, params)
            before = [self.stored(key) for _, key, _ in targets]
            self._spent(started)
            try:
                response = original(client, operation, params)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") not in _CONDITIONAL_FAILURES:
                    raise
                started = time.perf_counter()
                self._account(operation, targets, before, None, usage)
                self._spent(started)
                raise
            started = time.perf_counter()
            after = [self.stored(key) for _, key, _ in targets]
            self._account(operation, targets, before, after, usage)
            self._spent(started)
            return response

    def _account(
        self,
        operation: str,
        targets: list[tuple[str, dict[str, Any], Any]],
        before: list[dict[str, Any] | None],
        after: list[dict[str, Any] | None] | None,
        usage: Usage,
    ) -> None:
        """Write units for each item (after is None: the condition failed, nothing was written)."""
        factor = 2 if operation == "TransactWriteItems" else 1
        if after is None:
            usage.failed_writes += 1
        for number, (kind, _, sent) in enumerate(targets):
            old = before[number]
            if kind == "put":
                size = max(item_size(sent), item_size(old))
            elif kind == "update":
                # A failed update is charged the item as it stands (what it would have written
                # is not known without applying the expression).
                size = max(item_size(old), item_size(after[number] if after is not None else None))
            else:
                size = item_size(old)
            usage.write_units += factor * write_units(size)
            if after is not None:
                self._index_writes(old, after[number], usage)

    def _in_index(self, index: Index, item: dict[str, Any] | None) -> bool:
        return item is not None and all(name in item for name in index.keys)

    def _projected(self, index: Index, item: dict[str, Any]) -> dict[str, Any]:
        if index.projection == "ALL":
            return item
        names = {*self.keys, *index.keys, *index.non_key}
        return {name: value for name, value in item.items() if name in names}

    def _index_writes(self, old: dict[str, Any] | None, new: dict[str, Any] | None, usage: Usage) -> None:
        for index in self.indexes:
            was, now = self._in_index(index, old), self._in_index(index, new)
            writes: list[tuple[str, dict[str, Any]]] = []
            if was and old is not None and (not now or any(old[k] != new[k] for k in index.keys)):  # type: ignore[index]
                writes.append(("delete", self._projected(index, old)))
            if now and new is not None:
                moved = not was or any(old[k] != new[k] for k in index.keys)  # type: ignore[index]
                if moved or self._projected(index, old) != self._projected(index, new):  # type: ignore[arg-type]
                    writes.append(("put", self._projected(index, new)))
            for kind, entry in writes:
                usage.index_writes[f"{index.name} {kind}"] += 1
                usage.index_write_units += write_units(item_size(entry))

    def _read_units(
        self, original: Callable[..., Any], client: Any, operation: str, params: dict[str, Any], response: Any
    ) -> float:
        consistent = bool(params.get("ConsistentRead"))
        if operation == "GetItem":
            return read_units(item_size(self.stored(params["Key"])), consistent)
        if operation == "BatchGetItem":
            return sum(
                read_units(item_size(self.stored(key)), bool(request.get("ConsistentRead")))
                for request in params["RequestItems"].values()
                for key in request["Keys"]
            )
        if operation in ("Query", "Scan"):
            items = response.get("Items", [])
            if "ProjectionExpression" in params or "FilterExpression" in params or "Select" in params:
                # Billed on the items read, before any filter or projection: the same page again.
                plain = {
                    name: value
                    for name, value in params.items()
                    if name not in ("ProjectionExpression", "FilterExpression", "Select")
                }
                names = plain.pop("ExpressionAttributeNames", None)
                values = plain.pop("ExpressionAttributeValues", None)
                expression = plain.get("KeyConditionExpression", "")
                if names:
                    plain["ExpressionAttributeNames"] = {k: v for k, v in names.items() if k in expression}
                if values:
                    plain["ExpressionAttributeValues"] = {k: v for k, v in values.items() if k in expression}
                for optional in ("ExpressionAttributeNames", "ExpressionAttributeValues"):
                    if not plain.get(optional):
                        plain.pop(optional, None)
                items = original(client, operation, plain).get("Items", [])
            indexed = "IndexName" in params
            return read_units(sum(item_size(item) for item in items), consistent and not indexed)
        return 0.0

    # the functions ----------------------------------------------------------------------------

    def invoke(self, function: str, event: dict[str, Any], api: str | None = None) -> Any:
        """Invoke a function's handler as Lambda would, counting the invocation, its billed time,
        its logs and its trace (`api`: "client" or "callback" when API Gateway invokes it)."""
        from local.gateway import LambdaContext
        from local.template import functions

        definition = functions()[function]
        handler = getattr(importlib.import_module(definition.module), definition.handler)
        memory = memory_mb(function)
        usage = self.usage[self.tag]
        if api is not None:
            usage.api[api] += 1
            usage.trace_roots["API Gateway"] += 1
        else:
            usage.trace_roots[function] += 1
        written, overhead = self.stdout.bytes, self.overhead()
        started = time.perf_counter()
        result = handler(event, LambdaContext(function, definition.timeout_seconds, memory_limit_in_mb=memory))
        seconds = time.perf_counter() - started - (self.overhead() - overhead)
        billed = max(1, math.ceil(seconds * 1000))
        usage.invocations[function] += 1
        usage.billed_ms[function] += billed
        usage.gb_seconds += billed / 1000 * memory / 1024
        usage.log_bytes += self.stdout.bytes - written
        usage.platform_log_bytes += len(platform_log_lines(function, billed, memory).encode())
        return result


def sqs_requests(operation: str, params: dict[str, Any], response: Any) -> int:
    """Billed SQS requests: one per 64 KB chunk of the payload."""

    def message_size(body: str, attributes: dict[str, Any]) -> int:
        size = len(body.encode())
        for name, value in (attributes or {}).items():
            size += len(name.encode()) + len(str(value.get("DataType", "")).encode())
            size += len(str(value.get("StringValue", value.get("BinaryValue", ""))).encode())
        return size

    if operation == "SendMessage":
        size = message_size(params["MessageBody"], params.get("MessageAttributes", {}))
    elif operation == "SendMessageBatch":
        size = sum(message_size(e["MessageBody"], e.get("MessageAttributes", {})) for e in params["Entries"])
    elif operation == "ReceiveMessage":
        size = sum(message_size(m["Body"], m.get("MessageAttributes", {})) for m in response.get("Messages", []))
    else:
        return 1
    return max(1, math.ceil(size / SQS_CHUNK))


def event_size(entry: dict[str, Any]) -> int:
    """An EventBridge entry's size as EventBridge bills it."""
    size = 14 if entry.get("Time") else 0
    for name in ("Source", "DetailType", "Detail"):
        size += len(str(entry.get(name, "")).encode())
    return size + sum(len(resource.encode()) for resource in entry.get("Resources", []))


def memory_mb(function: str) -> int:
    from local.template import load

    document = load()
    default = document["Globals"]["Function"].get("MemorySize", 128)
    return int(document["Resources"][function]["Properties"].get("MemorySize", default))


# -- the life of a message, per provider -------------------------------------------------------------


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class Run:
    """moto with the template's resources, the simulators, one subscription; each step a request
    (or a poller run) followed by what it sets off: the stream into the notifier, the FIFO queue
    into the delivery function, one record at a time as the event source mappings do."""

    def __init__(self, meter: Meter, refs: dict[str, str], sims: dict[str, Any]) -> None:
        from local import streams

        self.meter = meter
        self.refs = refs
        self.sims = sims
        self.filters = tuple(pattern for source in streams.stream_sources() for pattern in source.filters)
        self.batch_size = streams.stream_sources()[0].batch_size
        with meter.paused():
            import boto3

            self.sqs = boto3.client("sqs")
            client = streams.streams_client()
            arn = boto3.client("dynamodb").describe_table(TableName=ENV["TABLE_NAME"])["Table"]["LatestStreamArn"]
            shard = client.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
            self.stream_arn = arn
            self.streams = client
            self.iterator = client.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")[
                "ShardIterator"
            ]
            self.queue_arn = self.sqs.get_queue_attributes(QueueUrl=refs["DeliveryQueue"], AttributeNames=["QueueArn"])[
                "Attributes"
            ]["QueueArn"]

    # what a step sets off ---------------------------------------------------------------------

    def settle(self) -> None:
        """The stream's new records to the notifier (free reads for a Lambda trigger), then every
        webhook queued to the delivery function."""
        from local import streams

        with self.meter.paused():
            records: list[dict[str, Any]] = []
            while True:
                response = self.streams.get_records(ShardIterator=self.iterator, Limit=1000)
                self.iterator = response["NextShardIterator"]
                if not response["Records"]:
                    break
                records += [streams.stream_record(raw, self.stream_arn) for raw in response["Records"]]
        batch = [record for record in records if streams.passes(self.filters, record)]
        for start in range(0, len(batch), self.batch_size):
            self.meter.invoke("NotifierFunction", {"Records": batch[start : start + self.batch_size]})
        while True:
            # The event source mapping's receive and delete are billed SQS requests; its empty
            # receives (long polling, around the clock) are a fixed monthly cost, not counted here.
            messages = self.sqs.receive_message(
                QueueUrl=self.refs["DeliveryQueue"], MaxNumberOfMessages=1, AttributeNames=["All"]
            ).get("Messages", [])
            if not messages:
                usage = self.meter.usage[self.meter.tag]
                usage.requests["sqs:ReceiveMessage"] -= 1
                usage.sqs_requests -= 1
                return
            result = self.meter.invoke(
                "DeliveryFunction", {"Records": [streams.sqs_record(messages[0], self.queue_arn)]}
            )
            if result.get("batchItemFailures"):
                raise RuntimeError(f"a delivery failed: {result}")
            self.sqs.delete_message_batch(
                QueueUrl=self.refs["DeliveryQueue"],
                Entries=[{"Id": "0", "ReceiptHandle": messages[0]["ReceiptHandle"]}],
            )

    def api(self, kind: str, method: str, path: str, **request: Any) -> tuple[int, Any]:
        from tests.support.aws import api_event

        result = self.meter.invoke(
            "CallbacksFunction" if kind == "callback" else "StatusApiFunction",
            api_event(method, path, **request),
            api=kind,
        )
        self.settle()
        return int(result["statusCode"]), json.loads(result["body"]) if result.get("body") else None

    def register(self, provider: str, send_response: Any) -> str:
        code, body = self.api(
            "client", "POST", "/v1/messages", body={"provider": provider, "sendResponse": send_response}
        )
        assert code == 201, body
        message_id: str = body["messages"][0]["messageId"]
        return message_id

    def lookup(self, provider: str, message_id: str) -> None:
        code, body = self.api("client", "GET", f"/v1/messages/{provider}/{message_id}")
        assert code == 200, body

    def callback(self, provider: str, **request: Any) -> None:
        code, body = self.api("callback", "POST", f"/v1/callbacks/{provider}", **request)
        assert code == 200, body
        assert body["accepted"] + body["duplicates"] >= 1, body

    def poll(self) -> dict[str, Any]:
        event = json.loads((ROOT / "events" / "poller" / "schedule.json").read_text())
        summary: dict[str, Any] = self.meter.invoke("PollerFunction", event)
        self.settle()
        return summary

    def send(self, provider: str, path: str, body: dict[str, Any]) -> Any:
        """The client's send call to the provider (not ours to bill): its answer is registered."""
        import requests

        sim = self.sims[provider]
        with self.meter.paused():
            response = requests.post(f"{sim.url}{path}", json=body, headers=sim.credentials(), timeout=10)
        response.raise_for_status()
        return response.json()

    # each provider's typical life ---------------------------------------------------------------

    def usajobs(self, count: int) -> list[str]:
        """Registered from its send response, polled until final: not found twice, then delivered."""
        sim = self.sims["usajobs"]
        ids = [
            self.register("usajobs", self.send("usajobs", "/api/textmessaging/sendmessage", {
                "alternateDocumentID": f"cost-{uuid.uuid4().hex[:8]}", "message": "Your application was received.",
            }))
            for _ in range(count)
        ]  # fmt: skip
        for poll in range(3):
            if poll == 2:
                for message_id in ids:  # the receipt exists now
                    sim.messages[message_id].created -= sim.step_seconds
            time.sleep(float(COST_ENV["POLL_MAX_BACKOFF_SECONDS"]) + 0.1)
            summary = self.poll()
            assert summary["polled"] == count, summary
        return ids

    def comapi(self, count: int) -> list[str]:
        """Registered, message.sent then message.delivered webhooks, one duplicate webhook."""
        ids = []
        for number in range(count):
            sent = self.send("comapi", self.sims["comapi"].messages_path, {
                "to": {"phoneNumber": f"+1555010{number:04d}"}, "body": "Your order shipped.", "rules": ["sms"],
            })  # fmt: skip
            message_id = self.register("comapi", sent)
            now = datetime.now(UTC)
            for name, status, ago in (("message.sent", "sent", 2), ("message.delivered", "delivered", 1)):
                raw = json.dumps(comapi_envelope(message_id, name, status, now - timedelta(seconds=ago))).encode()
                self.callback("comapi", body=raw, headers={"X-Comapi-Signature": _sign(raw)})
            self.callback("comapi", body=raw, headers={"X-Comapi-Signature": _sign(raw)})  # the duplicate
            ids.append(message_id)
        return ids

    def govdelivery(self, count: int) -> list[str]:
        """Registered, `sending` then `sent` recipient callbacks, each confirmed with TMS."""
        sim = self.sims["govdelivery"]
        ids = []
        for number in range(count):
            sent = self.send("govdelivery", "/messages/sms", {
                "body": "Your appointment is tomorrow.", "recipients": [{"phone": f"+1555020{number:04d}"}],
            })  # fmt: skip
            message_id = self.register("govdelivery", sent)
            message = sim.messages[message_id]
            recipient = message.data["recipients"][0]["id"]
            for status in ("sending", "sent"):
                message.created -= sim.step_seconds  # TMS moves the recipient on
                fields = {
                    "status": status,
                    "message_type": "sms",
                    "message_url": f"{sim.url}/messages/sms/{message_id}",
                    "recipient_url": f"{sim.url}/messages/sms/{message_id}/recipients/{recipient}",
                    "sid": uuid.uuid4().hex[:8],
                    "completed_at": _iso(datetime.now(UTC)),
                }
                self.callback(
                    "govdelivery",
                    body=urlencode(fields),
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                    query={"token": COST_ENV["GOVDELIVERY_CALLBACK_TOKEN"]},
                )
            ids.append(message_id)
        return ids

    def wunderkind(self, count: int) -> list[str]:
        """Registered, PENDING_TO_SEND, SENDING, DELIVERED callbacks."""
        ids = []
        headers = {"X-Client-ID": ENV["WUNDERKIND_CALLBACK_ID"], "X-Client-Secret": ENV["WUNDERKIND_CALLBACK_SECRET"]}
        for number in range(count):
            sent = self.send(
                "wunderkind", "/text/message/send", {"phone": f"+1555030{number:04d}", "text": "Your cart misses you."}
            )
            message_id = self.register("wunderkind", sent)
            for status in ("PENDING_TO_SEND", "SENDING", "DELIVERED"):
                body = {"messageID": message_id, "status": status, "phone": f"+1555030{number:04d}", "email": None}
                self.callback("wunderkind", body=body, headers=headers)
            ids.append(message_id)
        return ids


def comapi_envelope(message_id: str, name: str, status: str, at: datetime) -> dict[str, Any]:
    """A Comapi webhook as Comapi documents it (docs/providers.md#comapi-webhooks)."""
    stamp = _iso(at)
    return {
        "eventId": f"evt-{message_id}-{status}",
        "accountId": "12345",
        "apiSpaceId": ENV["COMAPI_API_SPACE_ID"],
        "name": name,
        "payload": {
            "id": message_id,
            "details": {
                "channel": "sms",
                "additionalInfo": {},
                "channelStatus": {"sms": {"status": status, "details": {}, "updatedOn": stamp}},
            },
            "channelData": {},
            "metadata": {},
            "updatedOn": stamp,
        },
        "revision": 2,
        "etag": "W/abc",
        "timestamp": stamp,
    }


def _sign(raw: bytes) -> str:
    return hmac.new(ENV["COMAPI_WEBHOOK_SECRET"].encode(), raw, hashlib.sha1).hexdigest()


# -- running it ------------------------------------------------------------------------------------


@dataclass
class Measured:
    usage: dict[str, Usage]  # by provider, "idle poller run" and the outcomes report
    counts: dict[str, int]  # messages per provider
    finals: dict[str, Counter[str]]  # final statuses reached, per provider


def measure(count: int) -> Measured:
    """Every provider's life `count` times (after one warm-up each), metered."""
    from local.template import parameter_defaults

    defaults = parameter_defaults()
    os.environ.update(COST_ENV)
    os.environ.update({name: defaults[parameter] for name, parameter in TEMPLATE_PARAMETERS.items()})
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        os.environ.pop(name, None)
    meter = Meter(ENV["TABLE_NAME"])
    # Before anything imports Powertools: its Logger keeps the stream it was made with.
    real_stdout, sys.stdout = sys.stdout, meter.stdout
    try:
        return _measure(meter, count)
    finally:
        sys.stdout = real_stdout


def _measure(meter: Meter, count: int) -> Measured:
    from moto import mock_aws

    from local.dynamodb import make_moto_atomic
    from local.simulators.comapi import ComapiSimulator
    from local.simulators.govdelivery import GovdeliverySimulator
    from local.simulators.usajobs import UsajobsSimulator
    from local.simulators.wunderkind import WunderkindSimulator
    from tests.webhook_receiver import Receiver
    from textstatus import runtime
    from textstatus.notifications import wiring

    make_moto_atomic()
    sims: dict[str, Any] = {}
    for simulator in (UsajobsSimulator, ComapiSimulator, GovdeliverySimulator, WunderkindSimulator):
        sim = simulator.from_settings(os.environ, step_seconds=1000, tick_seconds=0.5).start()
        os.environ[f"{simulator.name.upper()}_BASE_URL"] = sim.url
        sims[simulator.name] = sim
    receiver = Receiver().start()
    try:
        with mock_aws():
            refs = notifications_on_moto("textstatus-cost", receiver.url, "the one subscriber")
            meter.install()
            try:
                run = Run(meter, refs, sims)
                with meter.tagged("warm-up"):  # every function and client made once, not counted
                    for provider in PROVIDERS:
                        if provider != "usajobs":
                            lookup_all(run, provider, getattr(run, provider)(1))
                    run.poll()
                with meter.tagged("idle poller run"):
                    run.poll()
                ids = {}
                started = datetime.now(UTC)
                for provider in PROVIDERS:
                    with meter.tagged(provider):
                        ids[provider] = getattr(run, provider)(count)
                        lookup_all(run, provider, ids[provider])
                with meter.tagged(REPORT):  # not per message: what one report over them all reads
                    window = {"from": _iso(started), "to": _iso(datetime.now(UTC) + timedelta(seconds=1))}
                    for provider in PROVIDERS:
                        query = {"provider": provider, **window}
                        code, body = run.api("client", "GET", "/v1/reports/outcomes", query=query)
                        assert code == 200, body
                        assert body["messages"] == count, body
                finals = {
                    provider: Counter(
                        str((meter.stored({"pk": {"S": f"MSG#{provider}#{m}"}, "sk": {"S": "STATUS"}}) or {})
                            .get("status", {}).get("S"))
                        for m in message_ids
                    )
                    for provider, message_ids in ids.items()
                }  # fmt: skip
                delivered = len(receiver.accepted())
            finally:
                meter.uninstall()
                wiring.reset()
                runtime.reset()
    finally:
        receiver.stop()
        for sim in sims.values():
            sim.stop()
    if delivered == 0:
        raise RuntimeError("no webhook reached the receiver")
    return Measured(dict(meter.usage), dict.fromkeys(PROVIDERS, count), finals)


REPORT = "outcomes report"


def lookup_all(run: Run, provider: str, message_ids: list[str]) -> None:
    for message_id in message_ids:
        run.lookup(provider, message_id)


# -- pricing and printing ----------------------------------------------------------------------------

SERVICES = ("API Gateway", "Lambda", "DynamoDB", "CloudWatch Logs", "X-Ray", "SQS", "EventBridge")


def traced_fraction(roots_per_second: float) -> float:
    """The default sampling rule: the first request each second, then 5 % of the rest."""
    if roots_per_second <= 0:
        return 1.0
    return (min(roots_per_second, 1.0) + 0.05 * max(0.0, roots_per_second - 1.0)) / roots_per_second


def per_message(usage: Usage, count: int) -> dict[str, float]:
    """The counts behind the cost, per message."""
    return {
        "api_callback": usage.api["callback"] / count,
        "api_client": usage.api["client"] / count,
        "invocations": sum(usage.invocations.values()) / count,
        "gb_seconds": usage.gb_seconds / count,
        "write_units": usage.write_units / count,
        "index_write_units": usage.index_write_units / count,
        "read_units": usage.read_units / count,
        "log_bytes": usage.log_bytes / count,
        "platform_log_bytes": usage.platform_log_bytes / count,
        "sqs_requests": usage.sqs_requests / count,
        "events": usage.events / count,
    }


@dataclass(frozen=True)
class Deployment:
    """The template parameters that change the bill without changing what is done."""

    callback_url: bool  # CallbackFunctionUrl: callbacks through the function URL (no request charge)
    tracing: bool  # Tracing=Active: X-Ray traces at the default sampling
    platform_logs: bool  # PlatformLogLevel INFO or DEBUG: Lambda's START/END/REPORT lines

    @classmethod
    def from_template(cls) -> Deployment:
        from local.template import parameter_defaults

        defaults = parameter_defaults()
        return cls(
            callback_url=defaults["CallbackFunctionUrl"] == "true",
            tracing=defaults["Tracing"] == "Active",
            platform_logs=defaults["PlatformLogLevel"] in ("DEBUG", "INFO"),
        )

    def describe(self) -> str:
        return (
            f"CallbackFunctionUrl={'true' if self.callback_url else 'false'}, "
            f"Tracing={'Active' if self.tracing else 'Disabled'}, "
            f"PlatformLogLevel={'INFO' if self.platform_logs else 'WARN'}"
        )


def costs(usage: Usage, count: int, fractions: dict[str, float], deployment: Deployment) -> dict[str, float]:
    """Dollars per million messages, by service, as `deployment` bills them."""
    each = per_message(usage, count)
    traces = sum(roots * fractions.get(sampler, 1.0) for sampler, roots in usage.trace_roots.items()) / count
    log_bytes = each["log_bytes"] + (each["platform_log_bytes"] if deployment.platform_logs else 0.0)
    api_requests = each["api_client"] + (0.0 if deployment.callback_url else each["api_callback"])
    million = prices.MILLION
    return {
        "API Gateway": api_requests * prices.API_GATEWAY_REST_PER_MILLION,
        "Lambda": each["invocations"] * prices.LAMBDA_REQUESTS_PER_MILLION
        + each["gb_seconds"] * million * prices.LAMBDA_PER_GB_SECOND,
        "DynamoDB": (each["write_units"] + each["index_write_units"]) * prices.DYNAMODB_WRITE_UNITS_PER_MILLION
        + each["read_units"] * prices.DYNAMODB_READ_UNITS_PER_MILLION,
        "CloudWatch Logs": log_bytes * million / GB * prices.CLOUDWATCH_LOGS_PER_GB,
        "X-Ray": traces * prices.XRAY_TRACES_PER_MILLION if deployment.tracing else 0.0,
        "SQS": each["sqs_requests"] * prices.SQS_FIFO_REQUESTS_PER_MILLION,
        "EventBridge": each["events"] * prices.EVENTBRIDGE_EVENTS_PER_MILLION,
    }


FUNCTIONS = ("StatusApiFunction", "CallbacksFunction", "PollerFunction", "NotifierFunction", "DeliveryFunction")


def _invocations_of(function: str) -> Callable[[Usage, int], float]:
    return lambda usage, count: usage.invocations[function] / count


def _dynamodb_requests(usage: Usage) -> int:
    return sum(made for name, made in usage.requests.items() if name.startswith("dynamodb:"))


def report(measured: Measured, out: Any) -> float:
    """Print the tables; returns the blend's dollars per million messages."""
    usage, counts = measured.usage, measured.counts
    # X-Ray: the reservoir is shared by all traffic, so the sampled fraction follows the blend.
    samplers: defaultdict[str, float] = defaultdict(float)
    for provider, weight in MIX.items():
        for sampler, roots in usage[provider].trace_roots.items():
            samplers[sampler] += weight * roots / counts[provider]
    rate = MONTHLY_MESSAGES / SECONDS_PER_MONTH
    fractions = {sampler: traced_fraction(roots * rate) for sampler, roots in samplers.items()}
    fractions["PollerFunction"] = 1.0  # once a minute: always inside the reservoir
    deployment = Deployment.from_template()

    def blend_of(chosen: Deployment, chosen_fractions: dict[str, float] = fractions) -> dict[str, float]:
        each = {p: costs(usage[p], counts[p], chosen_fractions, chosen) for p in PROVIDERS}
        return {service: sum(MIX[p] * each[p][service] for p in PROVIDERS) for service in SERVICES}

    table = {provider: costs(usage[provider], counts[provider], fractions, deployment) for provider in PROVIDERS}
    table["blend"] = blend_of(deployment)
    totals = {column: sum(values.values()) for column, values in table.items()}

    def line(text: str = "") -> None:
        print(text, file=out)

    line(f"Cost per million messages, us-east-1 list prices as of {prices.AS_OF} (bench/prices.py), no free tier")
    line(f"blend: {', '.join(f'{p} {w:.0%}' for p, w in MIX.items())}; {counts['usajobs']} messages per provider")
    line(f"as template.yaml deploys by default: {deployment.describe()}")
    line()
    columns = [*PROVIDERS, "blend"]
    line(f"{'$ per million messages':<24}" + "".join(f"{c:>13}" for c in columns) + f"{'blend share':>13}")
    for service in SERVICES:
        share = table["blend"][service] / totals["blend"]
        line(f"{service:<24}" + "".join(f"{table[c][service]:>13.2f}" for c in columns) + f"{share:>12.0%}")
    line(f"{'total':<24}" + "".join(f"{totals[c]:>13.2f}" for c in columns))
    verdict = "OK" if totals["blend"] <= TARGET_PER_MILLION else "MISSED"
    line(f"{'target (the issue)':<24}{'':>52}{TARGET_PER_MILLION:>13.2f}   blend {verdict}")
    line()
    line("Counts per message (what the cost is computed from)")
    rows: list[tuple[str, Callable[[Usage, int], float], str]] = [
        ("API requests: callbacks", lambda u, n: u.api["callback"] / n, ".2f"),
        ("API requests: client", lambda u, n: u.api["client"] / n, ".2f"),
        *[(f"invocations: {f.removesuffix('Function')}", _invocations_of(f), ".2f") for f in FUNCTIONS],
        ("billed ms (all functions)", lambda u, n: sum(u.billed_ms.values()) / n, ".0f"),
        ("GB-seconds x 1000", lambda u, n: u.gb_seconds / n * 1000, ".2f"),
        ("DynamoDB requests", lambda u, n: _dynamodb_requests(u) / n, ".2f"),
        ("write units: table", lambda u, n: u.write_units / n, ".2f"),
        ("write units: indexes", lambda u, n: u.index_write_units / n, ".2f"),
        ("read units", lambda u, n: u.read_units / n, ".2f"),
        ("failed conditional writes", lambda u, n: u.failed_writes / n, ".2f"),
        ("log bytes: ours", lambda u, n: u.log_bytes / n, ".0f"),
        ("log bytes: Lambda's", lambda u, n: u.platform_log_bytes / n, ".0f"),
        ("trace roots", lambda u, n: sum(u.trace_roots.values()) / n, ".2f"),
        ("SQS requests", lambda u, n: u.sqs_requests / n, ".2f"),
        ("EventBridge events", lambda u, n: u.events / n, ".2f"),
    ]  # fmt: skip
    line(f"{'per message':<28}" + "".join(f"{p:>13}" for p in PROVIDERS))
    for label, value, spec in rows:
        line(f"{label:<28}" + "".join(f"{value(usage[p], counts[p]):>13{spec}}" for p in PROVIDERS))
    line()
    line("DynamoDB requests and index writes per message")
    for provider in PROVIDERS:
        made = usage[provider].requests
        detail = ", ".join(
            f"{k.split(':', 1)[1]} {v / counts[provider]:.2f}"
            for k, v in sorted(made.items())
            if k.startswith("dynamodb:")
        )
        indexes = ", ".join(f"{k} {v / counts[provider]:.2f}" for k, v in sorted(usage[provider].index_writes.items()))
        line(f"  {provider:<12} {detail}; {indexes or 'no index writes'}")  # fmt: skip
    line()
    idle = usage["idle poller run"]
    idle_cost = FIXED_POLLER_RUNS_PER_MONTH * (
        prices.LAMBDA_REQUESTS_PER_MILLION / prices.MILLION
        + idle.gb_seconds * prices.LAMBDA_PER_GB_SECOND
        + idle.read_units * prices.DYNAMODB_READ_UNITS_PER_MILLION / prices.MILLION
        + (prices.XRAY_TRACES_PER_MILLION / prices.MILLION if deployment.tracing else 0.0)
    )
    line(
        f"Fixed, not per message: the poller's schedule, {FIXED_POLLER_RUNS_PER_MONTH:,} runs a month; an idle run "
        f"here {sum(idle.billed_ms.values())} ms, {idle.read_units:.1f} read units: about ${idle_cost:.2f} a month "
        "(the runs above are these same runs, with work)."
    )
    reported = usage[REPORT]
    report_units = reported.read_units / sum(counts.values())
    line(
        f"The outcomes report (GET /v1/reports/outcomes), once per provider over its messages: {report_units:.2f} "
        f"read units per message reported, ${report_units * prices.DYNAMODB_READ_UNITS_PER_MILLION:.3f} per million "
        f"messages reported, plus one request and {sum(reported.billed_ms.values()) // len(PROVIDERS)} ms of Lambda "
        "per report; its index costs the created-index put above, one per message."
    )
    line()
    line("The options that cost more (template parameters), each alone, for the blend:")
    options = {
        "CallbackFunctionUrl=false (callbacks through the REST API)": replace(deployment, callback_url=False),
        "Tracing=Active (X-Ray at the default sampling)": replace(deployment, tracing=True),
        "PlatformLogLevel=INFO (Lambda's START/END/REPORT lines)": replace(deployment, platform_logs=True),
    }
    for label, chosen in options.items():
        if chosen != deployment:
            total = sum(blend_of(chosen).values())
            line(f"  {label:<62} {total:>7.2f}  (+{total - totals['blend']:.2f})")
    traced = replace(deployment, tracing=True)
    xray_at_five_percent = blend_of(traced, dict.fromkeys(fractions, 0.05))["X-Ray"]
    sampled = ", ".join(f"{s} {fractions[s]:.0%}" for s in sorted(fractions))
    line(
        f"X-Ray when Active: traced share at {MONTHLY_MESSAGES:,} messages a month evenly spread (1 a second, then "
        f"5 %, per sampler): {sampled}. At higher volumes it falls towards 5 %: the blend's X-Ray would be "
        f"${xray_at_five_percent:.2f} per million."
    )
    line(
        "Not counted: DynamoDB storage and stream reads (free for Lambda triggers), SQS empty long polls by the "
        "event source mapping, SSM parameter reads (cached per cold start), data transfer out, CloudWatch metrics "
        "(EMF is billed as log bytes above, custom metrics per metric-month), alarms."
    )
    line(
        "moto cannot show Lambda's own time: handler time is measured on this machine against moto in-process "
        "(DynamoDB 10-25 ms a request here, single digits on AWS), warmed up, with providers and the subscriber "
        "on loopback: GB-seconds are an estimate; every other figure is counted from the requests made."
    )
    finals = "; ".join(f"{p}: {dict(measured.finals[p])}" for p in PROVIDERS)
    line(f"Final statuses reached: {finals}")
    return totals["blend"]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cost", description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=16, help="messages per provider (default 16)")
    arguments = parser.parse_args(argv)
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    measured = measure(arguments.messages)
    report(measured, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
