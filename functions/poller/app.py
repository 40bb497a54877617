"""The scheduled poller: EventBridge invokes it; it polls what is due and stops before its timeout."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from textstatus import runtime
from textstatus.observability import logger, metrics


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@event_parser(model=EventBridgeModel)
def lambda_handler(event: EventBridgeModel, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(schedule=event.resources[0] if event.resources else None)
    summary = runtime.poller().run(context.get_remaining_time_in_millis)
    result = asdict(summary)
    result.pop("by_provider")
    return result


runtime.initialised()  # the end of init: see runtime.initialised (the SnapStart hooks, gc.freeze)
