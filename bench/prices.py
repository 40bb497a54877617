"""The AWS prices `make cost` uses: us-east-1, public list prices, no free tier, in US dollars.

One dated table: when AWS changes a price, change it here (and the date). Taken as of AS_OF from
the public pricing pages (DynamoDB on-demand: the prices since the 50% cut of November 2024,
$0.625 per million write request units and $0.125 per million read request units).
"""

from __future__ import annotations

AS_OF = "2026-11-24"
REGION = "us-east-1"
MILLION = 1_000_000

# API Gateway, REST API: per request (first 333 million a month). An HTTP API would be $1.00.
API_GATEWAY_REST_PER_MILLION = 3.50
API_GATEWAY_HTTP_PER_MILLION = 1.00
# Lambda, x86_64: per GB-second of billed duration (first tier), and per request.
LAMBDA_PER_GB_SECOND = 0.0000166667
LAMBDA_REQUESTS_PER_MILLION = 0.20
# DynamoDB on-demand, Standard table class: per million write request units (1 KB) and read
# request units (4 KB strongly consistent, or two eventually consistent reads).
DYNAMODB_WRITE_UNITS_PER_MILLION = 0.625
DYNAMODB_READ_UNITS_PER_MILLION = 0.125
# CloudWatch Logs, Standard log class: ingestion per GB (2^30 bytes).
CLOUDWATCH_LOGS_PER_GB = 0.50
# X-Ray: per million traces recorded.
XRAY_TRACES_PER_MILLION = 5.00
# SQS FIFO queues: per million requests (each 64 KB chunk of a payload is one request).
SQS_FIFO_REQUESTS_PER_MILLION = 0.50
# EventBridge: per million custom events published (each 64 KB chunk of an event is one event).
EVENTBRIDGE_EVENTS_PER_MILLION = 1.00
