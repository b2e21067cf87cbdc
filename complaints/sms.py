"""SMS gateway backends. Many customers read text messages, not email.

settings.SMS_BACKEND picks one:
- "complaints.sms.LogBackend" (default): logs the message (development).
- "complaints.sms.HttpGatewayBackend": POSTs to SMS_GATEWAY_URL a JSON body made
  from SMS_GATEWAY_TEMPLATE (placeholders {to} and {text}), signed with
  HMAC-SHA256 of the body under SMS_GATEWAY_SECRET in the X-Signature header.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import urllib.request

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)

DEFAULT_TEMPLATE = '{"to": "{to}", "text": "{text}"}'


class SmsError(OSError):
    """The gateway refused or could not be reached (retried by the outbox)."""


class LogBackend:
    def send(self, *, to: str, text: str) -> None:
        log.info("SMS to %s: %s", to, text)


class HttpGatewayBackend:
    def __init__(self) -> None:
        self.url = settings.SMS_GATEWAY_URL
        self.template = getattr(settings, "SMS_GATEWAY_TEMPLATE", "") or DEFAULT_TEMPLATE
        self.secret = getattr(settings, "SMS_GATEWAY_SECRET", "")
        self.timeout = getattr(settings, "SMS_GATEWAY_TIMEOUT", 10)

    def body(self, *, to: str, text: str) -> bytes:
        # Values are JSON-escaped before they go into the template, so a message
        # text cannot break out of its string.
        def quoted(value: str) -> str:
            return json.dumps(value, ensure_ascii=False)[1:-1]

        filled = self.template.replace("{to}", quoted(to)).replace("{text}", quoted(text))
        json.loads(filled)  # the template must give valid JSON
        return filled.encode("utf-8")

    def send(self, *, to: str, text: str) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise SmsError("SMS_GATEWAY_URL must be an http(s) URL")
        data = self.body(to=to, text=text)
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if self.secret:
            headers["X-Signature"] = hmac.new(
                self.secret.encode(), data, hashlib.sha256
            ).hexdigest()
        request = urllib.request.Request(self.url, data=data, headers=headers, method="POST")  # noqa: S310 - URL scheme checked above
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                if not 200 <= response.status < 300:
                    raise SmsError(f"gateway answered {response.status}")
        except OSError as exc:  # URLError and HTTPError are OSErrors
            raise SmsError(str(exc)) from exc


def get_backend():
    return import_string(getattr(settings, "SMS_BACKEND", "complaints.sms.LogBackend"))()
