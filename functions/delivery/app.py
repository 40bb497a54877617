"""The delivery function: fed by the FIFO delivery queue, it posts each webhook once per attempt.

SqsFifoPartialProcessor with skip_group_on_error: a failed webhook fails the rest of its own group
in the batch (they come back after it, in order), while other groups go on. A failed attempt
has already set its message's visibility to the backoff delay; the messages skipped behind it
are made visible again at once, so they do not hold the group beyond that delay.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch.exceptions import SQSFifoMessageGroupCircuitBreakerError
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from textstatus.notifications import wiring
from textstatus.notifications.delivering import Delivery
from textstatus.notifications.settings import notification_settings
from textstatus.observability import logger, metrics

processor = SqsFifoPartialProcessor(skip_group_on_error=True)
processor.raise_on_entire_batch_failure = False  # a failed attempt is an outcome, not a function error


def record_handler(record: SQSRecord) -> str:
    return wiring.deliverer().deliver(Delivery.from_record(record.raw_event))


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    result = process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    _release_skipped()
    return result


def _release_skipped() -> None:
    """Make the messages skipped behind a failed one visible again: their group stays blocked by
    the failed message (in flight until its backoff ends), and they follow it in order."""
    skipped = [
        record.receipt_handle
        for record, exception in zip(processor.fail_messages, processor.exceptions, strict=True)
        if isinstance(record, SQSRecord)
        and exception[0] is not None
        and issubclass(exception[0], SQSFifoMessageGroupCircuitBreakerError)
    ]
    if not skipped:
        return
    queue_url = notification_settings().delivery_queue_url
    sqs = wiring.sqs()
    for receipt in skipped:
        try:
            sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=receipt, VisibilityTimeout=0)
        except Exception:  # noqa: BLE001 - they come back after the queue's visibility timeout anyway
            logger.warning("a skipped message could not be released")
