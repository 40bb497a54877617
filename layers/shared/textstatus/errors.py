"""One error hierarchy for the domain. No HTTP here: the functions map these to responses."""

from __future__ import annotations


class TextStatusError(Exception):
    """Base of every error the domain raises on purpose."""

    code = "InternalError"
    target: str | None = None

    def __init__(self, message: str, *, target: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if target is not None:
            self.target = target


class ConfigurationError(TextStatusError):
    code = "ConfigurationError"


class UnknownProviderError(TextStatusError):
    code = "ProviderNotFound"
    target = "provider"


class ProviderNotConfiguredError(UnknownProviderError):
    """A provider this service knows, but whose settings this deployment does not have."""

    code = "ProviderNotConfigured"


class MessageNotFoundError(TextStatusError):
    code = "MessageNotFound"
    target = "messageId"


class InvalidRequestError(TextStatusError):
    code = "BadRequest"


class CallbacksNotSupportedError(TextStatusError):
    code = "CallbacksNotSupported"
    target = "provider"


class RecipientsNotSupportedError(TextStatusError):
    """A provider whose messages have one recipient each: it has no recipient list to read."""

    code = "RecipientsNotSupported"
    target = "provider"


class CallbackAuthenticationError(TextStatusError):
    """Missing or wrong callback credentials. The message never says which part was wrong."""

    code = "Unauthorized"


class InvalidCallbackError(TextStatusError):
    code = "InvalidCallback"
    target = "body"


class StorageUnavailableError(TextStatusError):
    """DynamoDB could not be reached or throttled us: the caller should retry later."""

    code = "ServiceUnavailable"


class ReportTooLargeError(TextStatusError):
    """A report whose window holds more messages than one request can read in time."""

    code = "ReportTooLarge"
    target = "to"


class AwsRequestRefusedError(TextStatusError):
    """AWS refused a request for a reason that retrying will not fix (AccessDenied, a validation
    error): a deployment or code defect. Logged at error level with the action; answered 500."""

    code = "InternalError"

    def __init__(self, action: str, aws_code: str) -> None:
        super().__init__(f"AWS refused {action} ({aws_code})")
        self.action = action
        self.aws_code = aws_code


class ProviderError(TextStatusError):
    """A provider call failed. Subclasses say whether and when to try again."""

    code = "ProviderError"

    def __init__(self, provider: str, message: str) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider


class ProviderUnavailableError(ProviderError):
    """Timeouts, connection errors and 5xx: try this message again later."""

    code = "ProviderUnavailable"


class ProviderThrottledError(ProviderUnavailableError):
    """429 (or 503 with Retry-After): pause the whole provider for `retry_after` seconds."""

    code = "ProviderThrottled"

    def __init__(self, provider: str, message: str, retry_after: float) -> None:
        super().__init__(provider, message)
        self.retry_after = retry_after


class ProviderRejectedRequestError(ProviderError):
    """401/403 and other 4xx: our request or our credentials are wrong; retrying will not help soon."""

    code = "ProviderRejectedRequest"


class ProviderBadResponseError(ProviderError):
    """The provider answered 2xx with something we cannot read."""

    code = "ProviderBadResponse"
