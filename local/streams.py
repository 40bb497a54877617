"""The template's event sources, locally: the table's stream feeds the notifier, the FIFO queue
feeds the delivery function, as Lambda's event source mappings do on AWS.

- `create_resources` creates the template's SQS queues and EventBridge buses in moto (the same
  server as the table: it serves every service moto has), with their properties.
- `StreamPump` reads the table's stream (DescribeStream, GetShardIterator, GetRecords on the
  `dynamodbstreams` endpoint), applies the event's FilterCriteria, and invokes the function with
  Lambda's DynamoDB stream event. With ReportBatchItemFailures it retries from the first failed
  record (the records before it are done) up to MaximumRetryAttempts, then sends the batch's
  description to the OnFailure queue and goes on. (BisectBatchOnFunctionError is not emulated: a
  function error retries the whole batch.)
- `QueuePump` receives from a queue and invokes the function with Lambda's SQS event; it deletes
  what succeeded and leaves the `batchItemFailures` (and everything, if the function raised).
  Several pumps may share a FIFO queue: SQS (and moto) hand out no message of a group while
  another of it is in flight.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from local import template

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
Invoke = Callable[[dict[str, Any]], Any]


# -- the template's definitions ------------------------------------------------------------------


@dataclass(frozen=True)
class StreamSource:
    function: template.FunctionDef
    batch_size: int
    starting_position: str
    filters: tuple[dict[str, Any], ...]
    max_retries: int
    on_failure: str | None  # logical id of the OnFailure queue
    report_failures: bool


@dataclass(frozen=True)
class QueueSource:
    function: template.FunctionDef
    queue: str  # logical id
    batch_size: int
    report_failures: bool


def _logical(value: Any) -> str | None:
    """The logical id a !GetAtt X.Arn or !Ref X names."""
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return str(value["Fn::GetAtt"][0])
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    return None


def stream_sources(document: dict[str, Any] | None = None) -> list[StreamSource]:
    found = []
    for function in template.functions(document).values():
        for event in function.events.values():
            if event["Type"] != "DynamoDB":
                continue
            properties = event["Properties"]
            destination = properties.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
            found.append(
                StreamSource(
                    function=function,
                    batch_size=int(properties.get("BatchSize", 100)),
                    starting_position=str(properties.get("StartingPosition", "LATEST")),
                    filters=tuple(
                        json.loads(item["Pattern"]) for item in properties.get("FilterCriteria", {}).get("Filters", [])
                    ),
                    max_retries=int(properties.get("MaximumRetryAttempts", -1)),
                    on_failure=_logical(destination),
                    report_failures="ReportBatchItemFailures" in properties.get("FunctionResponseTypes", []),
                )
            )
    return found


def queue_sources(document: dict[str, Any] | None = None) -> list[QueueSource]:
    found = []
    for function in template.functions(document).values():
        for event in function.events.values():
            if event["Type"] != "SQS":
                continue
            properties = event["Properties"]
            queue = _logical(properties["Queue"])
            assert queue is not None
            found.append(
                QueueSource(
                    function=function,
                    queue=queue,
                    batch_size=int(properties.get("BatchSize", 10)),
                    report_failures="ReportBatchItemFailures" in properties.get("FunctionResponseTypes", []),
                )
            )
    return found


def queue_name(prefix: str, logical_id: str, document: dict[str, Any] | None = None) -> str:
    properties = template.load() if document is None else document
    body = properties["Resources"][logical_id].get("Properties") or {}
    return f"{prefix}-{logical_id}" + (".fifo" if body.get("FifoQueue") else "")


def resource_refs(prefix: str, endpoint: str | None, document: dict[str, Any] | None = None) -> dict[str, str]:
    """What `!Ref` gives for the template's queues (their URL) and buses (their name), locally."""
    refs = {}
    base = endpoint.rstrip("/") if endpoint else f"https://sqs.{REGION}.amazonaws.com"
    for logical_id in template.resources_of_type("AWS::SQS::Queue", document):
        refs[logical_id] = f"{base}/{ACCOUNT_ID}/{queue_name(prefix, logical_id, document)}"
    for logical_id in template.resources_of_type("AWS::Events::EventBus", document):
        refs[logical_id] = f"{prefix}-{logical_id}"
    return refs


_QUEUE_ATTRIBUTES = (
    "VisibilityTimeout",
    "MessageRetentionPeriod",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
    "DelaySeconds",
)


def create_resources(prefix: str, document: dict[str, Any] | None = None) -> dict[str, str]:
    """Create the template's buses and queues (with their attributes and redrive policies) in
    moto; returns `!Ref` of each (queue URL, bus name)."""
    import boto3

    sqs = boto3.client("sqs")
    events = boto3.client("events")
    refs: dict[str, str] = {}
    arns: dict[str, str] = {}
    queues = template.resources_of_type("AWS::SQS::Queue", document)
    for logical_id, body in queues.items():
        properties = body.get("Properties") or {}
        attributes = {
            key: str(properties[key]).lower() if isinstance(properties[key], bool) else str(properties[key])
            for key in _QUEUE_ATTRIBUTES
            if key in properties
        }
        if properties.get("FifoQueue"):
            attributes["FifoQueue"] = "true"
        url = sqs.create_queue(QueueName=queue_name(prefix, logical_id, document), Attributes=attributes)["QueueUrl"]
        refs[logical_id] = url
        arns[logical_id] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    for logical_id, body in queues.items():
        redrive = (body.get("Properties") or {}).get("RedrivePolicy")
        if redrive:
            target = _logical(redrive["deadLetterTargetArn"])
            policy = {"deadLetterTargetArn": arns[str(target)], "maxReceiveCount": int(redrive["maxReceiveCount"])}
            sqs.set_queue_attributes(QueueUrl=refs[logical_id], Attributes={"RedrivePolicy": json.dumps(policy)})
    for logical_id in template.resources_of_type("AWS::Events::EventBus", document):
        name = f"{prefix}-{logical_id}"
        events.create_event_bus(Name=name)
        refs[logical_id] = name
    return refs


def streams_client() -> Any:
    """DynamoDB Streams without account-based endpoints (<account>.streams-ddb...), which moto
    does not serve."""
    import boto3
    from botocore.config import Config

    return boto3.client("dynamodbstreams", config=Config(account_id_endpoint_mode="disabled"))


# -- event filtering -------------------------------------------------------------------------------


def matches(pattern: Mapping[str, Any], value: Any) -> bool:
    """Lambda's event filtering for what the template uses: nested keys, lists of literal values,
    `exists` and `prefix`."""
    if not isinstance(value, Mapping):
        return False
    for key, expected in pattern.items():
        present = key in value
        actual = value.get(key)
        if isinstance(expected, Mapping):
            if not present or not matches(expected, actual):
                return False
            continue
        if not any(_matches_one(rule, present, actual) for rule in expected):
            return False
    return True


def _matches_one(rule: Any, present: bool, actual: Any) -> bool:
    if isinstance(rule, Mapping):
        if "exists" in rule:
            return bool(rule["exists"]) == present
        if "prefix" in rule:
            return present and isinstance(actual, str) and actual.startswith(rule["prefix"])
        return False
    return present and actual == rule


def passes(filters: tuple[dict[str, Any], ...], record: Mapping[str, Any]) -> bool:
    return not filters or any(matches(pattern, record) for pattern in filters)


# -- Lambda's event shapes -------------------------------------------------------------------------


def _json_safe(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, Mapping):
        return {key: _json_safe(inner) for key, inner in value.items()}
    if isinstance(value, list | tuple | set):
        return [_json_safe(inner) for inner in value]
    return value


def stream_record(record: Mapping[str, Any], stream_arn: str) -> dict[str, Any]:
    """A GetRecords record as Lambda passes it to the function."""
    shaped: dict[str, Any] = _json_safe(dict(record))
    shaped["eventSourceARN"] = stream_arn
    shaped.setdefault("awsRegion", REGION)
    return shaped


def sqs_record(message: Mapping[str, Any], queue_arn: str) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": _json_safe(message.get("MessageAttributes", {})),
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


# -- the pumps -------------------------------------------------------------------------------------


@dataclass
class StreamPump:
    """One shard's records, in order, to the function (moto's tables have one shard)."""

    table_name: str
    source: StreamSource
    invoke: Invoke
    stop: threading.Event
    failure_queue_url: str | None = None
    poll_seconds: float = 0.1
    retry_seconds: float = 0.2
    max_retries: int | None = None  # None: the template's
    invocations: int = 0

    def run(self) -> None:
        import boto3

        dynamodb = boto3.client("dynamodb")
        streams = streams_client()
        stream_arn = dynamodb.describe_table(TableName=self.table_name)["Table"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard, ShardIteratorType=self.source.starting_position
        )["ShardIterator"]
        while not self.stop.is_set():
            try:
                response = streams.get_records(ShardIterator=iterator, Limit=self.source.batch_size)
            except Exception as exc:  # noqa: BLE001 - the server stopping, usually: try again
                if self.stop.wait(self.poll_seconds):
                    return
                print(f"stream: GetRecords failed: {exc!r}")
                continue
            iterator = response["NextShardIterator"]
            records = [stream_record(r, stream_arn) for r in response["Records"]]
            batch = [r for r in records if passes(self.source.filters, r)]
            if batch:
                self._deliver(batch, shard, stream_arn)
            elif not records:
                self.stop.wait(self.poll_seconds)

    def _deliver(self, batch: list[dict[str, Any]], shard: str, stream_arn: str) -> None:
        limit = self.source.max_retries if self.max_retries is None else self.max_retries
        retries = 0
        while batch and not self.stop.is_set():
            self.invocations += 1
            try:
                result = self.invoke({"Records": batch})
                failures = (result or {}).get("batchItemFailures", []) if self.source.report_failures else []
            except Exception:  # noqa: BLE001 - a function error retries the batch
                failures = [{"itemIdentifier": batch[0]["dynamodb"]["SequenceNumber"]}]
            if not failures:
                return
            first = min(int(failure["itemIdentifier"]) for failure in failures)
            batch = [r for r in batch if int(r["dynamodb"]["SequenceNumber"]) >= first]
            retries += 1
            if 0 <= limit < retries:
                self._give_up(batch, shard, stream_arn, retries)
                return
            self.stop.wait(self.retry_seconds)

    def _give_up(self, batch: list[dict[str, Any]], shard: str, stream_arn: str, attempts: int) -> None:
        """What Lambda sends to the OnFailure destination: where the batch is, not its records."""
        if not self.failure_queue_url:
            return
        import boto3

        description = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.source.function.logical_id}",
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": attempts,
            },
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(),
            "DDBStreamBatchInfo": {
                "shardId": shard,
                "startSequenceNumber": batch[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": batch[-1]["dynamodb"]["SequenceNumber"],
                "batchSize": len(batch),
                "streamArn": stream_arn,
            },
        }
        boto3.client("sqs").send_message(QueueUrl=self.failure_queue_url, MessageBody=json.dumps(description))


@dataclass
class QueuePump:
    queue_url: str
    source: QueueSource
    invoke: Invoke
    stop: threading.Event
    poll_seconds: float = 0.05
    invocations: int = 0

    def run(self) -> None:
        import boto3

        sqs = boto3.client("sqs")
        queue_arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        while not self.stop.is_set():
            try:
                messages = sqs.receive_message(
                    QueueUrl=self.queue_url,
                    MaxNumberOfMessages=self.source.batch_size,
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                ).get("Messages", [])
            except Exception as exc:  # noqa: BLE001 - the server stopping, usually
                if self.stop.wait(self.poll_seconds):
                    return
                print(f"queue: ReceiveMessage failed: {exc!r}")
                continue
            if not messages:
                self.stop.wait(self.poll_seconds)
                continue
            records = [sqs_record(message, queue_arn) for message in messages]
            self.invocations += 1
            try:
                result = self.invoke({"Records": records})
                failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
                if not self.source.report_failures and failed:
                    failed = {r["messageId"] for r in records}
            except Exception:  # noqa: BLE001 - a function error: the whole batch comes back
                failed = {r["messageId"] for r in records}
            done = [
                {"Id": str(index), "ReceiptHandle": r["receiptHandle"]}
                for index, r in enumerate(records)
                if r["messageId"] not in failed
            ]
            if done:
                sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=done)


@dataclass
class EventSources:
    """Every stream and queue event source of the template, pumping into `invoker(function, event)`."""

    table_name: str
    refs: dict[str, str]
    invoker: Callable[[template.FunctionDef, dict[str, Any]], Any]
    stop: threading.Event
    queue_workers: int = 1
    threads: list[threading.Thread] | None = None

    def _to(self, function: template.FunctionDef) -> Invoke:
        return lambda event: self.invoker(function, event)

    def pumps(self) -> list[StreamPump | QueuePump]:
        found: list[StreamPump | QueuePump] = []
        for stream in stream_sources():
            found.append(
                StreamPump(
                    self.table_name,
                    stream,
                    self._to(stream.function),
                    self.stop,
                    failure_queue_url=self.refs.get(stream.on_failure) if stream.on_failure else None,
                )
            )
        for queue in queue_sources():
            for _ in range(max(1, self.queue_workers)):
                found.append(QueuePump(self.refs[queue.queue], queue, self._to(queue.function), self.stop))
        return found

    def start(self) -> list[StreamPump | QueuePump]:
        pumps = self.pumps()
        self.threads = []
        for number, pump in enumerate(pumps):
            thread = threading.Thread(target=pump.run, name=f"event-source-{number}", daemon=True)
            thread.start()
            self.threads.append(thread)
        return pumps

    def join(self, seconds: float = 5) -> None:
        deadline = time.monotonic() + seconds
        for thread in self.threads or []:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))


def read_stream(table_name: str, filters: tuple[dict[str, Any], ...] | None = None) -> list[dict[str, Any]]:
    """Every record in the table's stream that passes the filters (the template's by default), in
    Lambda's shape (tests, and `make invoke`-style checks)."""
    import boto3

    if filters is None:
        filters = tuple(pattern for source in stream_sources() for pattern in source.filters)
    dynamodb = boto3.client("dynamodb")
    streams = streams_client()
    stream_arn = dynamodb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    found: list[dict[str, Any]] = []
    while True:
        response = streams.get_records(ShardIterator=iterator, Limit=1000)
        if not response["Records"]:
            return found
        found += [r for r in (stream_record(raw, stream_arn) for raw in response["Records"]) if passes(filters, r)]
        iterator = response["NextShardIterator"]
