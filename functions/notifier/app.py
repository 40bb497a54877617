"""The notifier: fed by the table's stream, it publishes every change of status, in stream order.

The event source mapping's filter passes only INSERT and MODIFY of status items (`sk = STATUS`).
A filter cannot compare the old image with the new one, so the handler also checks that
`NewImage.version > OldImage.version` and ignores the other records (a poll rescheduling a
message, a later report of the same status).

Records are processed in order and processing stops at the first failure: that record and every
later one are reported as failed (ReportBatchItemFailures), so Lambda retries from the failed
record and nothing is published out of order.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from textstatus.notifications import wiring
from textstatus.notifications.changes import change_of
from textstatus.notifications.publishing import Publisher
from textstatus.observability import count, logger, metrics


class OrderedStreamProcessor(BatchProcessor):
    """BatchProcessor for a stream that stops at the first failed record: later records are
    reported failed without being processed, so a retry publishes them after it, never before."""

    def __init__(self) -> None:
        super().__init__(EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)

    def _process_record(self, record: dict[str, Any]) -> Any:
        if self.fail_messages:
            batch_record = self._to_batch_type(record=record, event_type=self.event_type, model=self.model)
            skipped = RuntimeError("an earlier record of the batch failed")
            return self.failure_handler(record=batch_record, exception=(RuntimeError, skipped, None))
        return super()._process_record(record)


processor = OrderedStreamProcessor()
_current: dict[str, Publisher] = {}


def record_handler(record: DynamoDBRecord) -> None:
    change = change_of(record.raw_event)
    if change is None:
        count("StreamRecordsIgnored")
        return
    _current["publisher"].publish(change)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    publisher = _current["publisher"] = wiring.publisher()
    result = process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    failed = len(result.get("batchItemFailures", []))
    count("StatusChangesPublished", publisher.published)
    count("WebhooksEnqueued", publisher.enqueued)
    count("StreamRecordsFailed", failed)
    if failed:
        logger.warning("changes not published: the stream retries from the first", extra={"failed": failed})
    return result
