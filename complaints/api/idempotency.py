"""`Idempotency-Key` for every API POST that creates something.

The same mechanism as intake's (complaints/api/intake.py): the key is stored with a
fingerprint of the request in the same transaction as what the request creates, so

- the same key and the same request answer the first response again (200, header
  `Idempotent-Replayed: true`) without creating anything;
- the same key with another request (other body or other URL) is refused (409);
- a refused request (400, 403, 404, 409) rolls the key back with everything else;
- two requests racing with one key create one object: the second waits on the key's
  unique index, then replays the first.

Keys belong to the account that sent them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from complaints.errors import ComplaintConflict, InvalidInput
from complaints.models import IdempotentRequest

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 200

PARAMETERS = [
    OpenApiParameter(
        HEADER,
        str,
        OpenApiParameter.HEADER,
        required=False,
        description=(
            "A unique key per object to create (e.g. a UUID). Repeating the request with the "
            "same key returns the first answer instead of creating a second object."
        ),
    ),
    OpenApiParameter(
        REPLAYED_HEADER,
        str,
        OpenApiParameter.HEADER,
        response=[200],
        description="`true` when the response replays an earlier request with the same key.",
    ),
]


def _plain(value: Any) -> Any:
    """A JSON-able stand-in for an uploaded file: its name, size and content hash."""
    if hasattr(value, "read") and hasattr(value, "size"):
        digest = hashlib.sha256()
        value.seek(0)
        for chunk in iter(lambda: value.read(65536), b""):
            digest.update(chunk)
        value.seek(0)
        return {
            "name": getattr(value, "name", ""),
            "size": value.size,
            "sha256": digest.hexdigest(),
        }
    return value


def fingerprint(request: Request) -> str:
    """sha256 of the method, the path and the body as canonical JSON (key order and
    spacing do not matter; every value, and every uploaded file's content, does)."""
    data = request.data
    if hasattr(data, "lists"):  # form-encoded or multipart
        data = {
            k: [_plain(v) for v in vs] if len(vs) != 1 else _plain(vs[0]) for k, vs in data.lists()
        }
    canonical = json.dumps(
        {"method": request.method, "path": request.path, "body": data},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _scope(request: Request) -> str:
    return f"api:{request.user.pk}"


def _replay(scope: str, key: str, digest: str) -> Response | None:
    record = IdempotentRequest.objects.filter(scope=scope, key=key).first()
    if record is None:
        return None
    if record.fingerprint != digest or record.status_code is None:
        raise ComplaintConflict(
            _(
                "This Idempotency-Key was already used with a different request. "
                "Use a new key for a new request."
            )
        )
    response = Response(record.response, status=status.HTTP_200_OK)
    response[REPLAYED_HEADER] = "true"
    return response


def idempotent(request: Request, create: Callable[[], Response]) -> Response:
    """Run `create` (which creates through services and answers 201) at most once per
    Idempotency-Key; without a key it simply runs."""
    key = (request.headers.get(HEADER) or "").strip()
    if not key:
        return create()
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(
            _("The Idempotency-Key is too long (at most %(n)d characters).")
            % {"n": MAX_KEY_LENGTH},
            fields={HEADER: [_("Too long.")]},
        )
    scope, digest = _scope(request), fingerprint(request)
    replay = _replay(scope, key, digest)
    if replay is not None:
        return replay
    with transaction.atomic():
        try:
            # A savepoint: a concurrent request with the same key blocks on the unique
            # index here (PostgreSQL) until the first commits (→ replay) or rolls back.
            with transaction.atomic():
                record = IdempotentRequest.objects.create(scope=scope, key=key, fingerprint=digest)
        except IntegrityError:
            replay = _replay(scope, key, digest)
            if replay is None:
                raise
            return replay
        response = create()
        if response.status_code >= 400:
            # Refused without an exception: nothing may stay, the key included.
            transaction.set_rollback(True)
            return response
        record.status_code = response.status_code
        record.response = response.data
        record.save(update_fields=["status_code", "response"])
    return response
