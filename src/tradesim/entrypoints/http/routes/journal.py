"""The journal: /api/v1/journal[/{entryId}], attachments, and per-account statistics."""

from __future__ import annotations

from dependency_injector.wiring import Provide, inject
from quart import Blueprint, Response, redirect, request
from quart_schema import (
    security_scheme_blueprint,
    tag_blueprint,
    validate_querystring,
    validate_request,
    validate_response,
)
from werkzeug.wrappers import Response as WerkzeugResponse

from tradesim.application.journal import EntryFields, JournalService
from tradesim.domain.errors import InvalidInput
from tradesim.entrypoints.container import Container
from tradesim.entrypoints.http import presenters
from tradesim.entrypoints.http.openapi import NO_CONTENT, errors, openapi_extra
from tradesim.entrypoints.http.schemas.journal import (
    AttachmentOut,
    JournalCreate,
    JournalList,
    JournalOut,
    JournalQuery,
    JournalUpdate,
    StatsOut,
    StatsQuery,
)
from tradesim.entrypoints.http.security import BEARER, current_user, require_user

bp = require_user(Blueprint("journal", __name__, url_prefix="/api/v1/journal"))
tag_blueprint(bp, ["journal"])
security_scheme_blueprint(bp, BEARER)

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            }
        },
    }
}
IMAGE_RESPONSE = {
    "responses": {
        200: {
            "description": "The image bytes",
            "content": {
                t: {"schema": {"type": "string", "format": "binary"}}
                for t in ("image/png", "image/jpeg", "image/webp", "image/gif")
            },
        },
        302: {"description": "Redirect to a short-lived presigned URL of the image"},
    }
}


def _fields(data: JournalCreate | JournalUpdate) -> EntryFields:
    return EntryFields(
        title=data.title,
        notes=data.notes,
        tags=tuple(data.tags) if data.tags is not None else None,
        account_id=data.accountId,
        order_id=data.orderId,
        session_start=data.sessionStart,
        session_end=data.sessionEnd,
    )


@bp.post("")
@errors(404)
@validate_request(JournalCreate)
@validate_response(JournalOut, 201)
@inject
async def create_entry(
    data: JournalCreate, journal: JournalService = Provide[Container.journal]
) -> tuple[JournalOut, int]:
    """Write a note; `accountId` and `orderId`, when given, must be the caller's."""
    return presenters.journal_entry(await journal.create(current_user(), _fields(data))), 201


@bp.get("")
@validate_querystring(JournalQuery)
@validate_response(JournalList, 200)
@inject
async def list_entries(query_args: JournalQuery, journal: JournalService = Provide[Container.journal]) -> JournalList:
    """The caller's entries, newest first, optionally of one account or with one tag."""
    q = query_args
    found = await journal.list(current_user(), account_id=q.accountId, tag=q.tag, limit=q.limit)
    return JournalList(list=[presenters.journal_entry(e) for e in found])


@bp.get("/stats")
@errors(404)
@validate_querystring(StatsQuery)
@validate_response(StatsOut, 200)
@inject
async def account_stats(query_args: StatsQuery, journal: JournalService = Provide[Container.journal]) -> StatsOut:
    """Win rate, average R multiple, max drawdown, Sharpe ratio and equity curve of one account."""
    stats = await journal.stats(current_user(), query_args.accountId)
    return presenters.stats(query_args.accountId, stats)


@bp.get("/<id:entry_id>")
@errors(404)
@validate_response(JournalOut, 200)
@inject
async def get_entry(entry_id: str, journal: JournalService = Provide[Container.journal]) -> JournalOut:
    """One entry with its attachments."""
    return presenters.journal_entry(await journal.get(current_user(), entry_id))


@bp.patch("/<id:entry_id>")
@errors(404)
@validate_request(JournalUpdate)
@validate_response(JournalOut, 200)
@inject
async def update_entry(
    entry_id: str, data: JournalUpdate, journal: JournalService = Provide[Container.journal]
) -> JournalOut:
    """Change the given fields of an entry."""
    return presenters.journal_entry(await journal.update(current_user(), entry_id, _fields(data)))


@bp.delete("/<id:entry_id>")
@errors(404)
@openapi_extra(NO_CONTENT)
@inject
async def delete_entry(entry_id: str, journal: JournalService = Provide[Container.journal]) -> tuple[str, int]:
    """Delete an entry and its images."""
    await journal.delete(current_user(), entry_id)
    return "", 204


@bp.post("/<id:entry_id>/attachments")
@errors(404, 413, 415, 422)
@openapi_extra(UPLOAD_BODY)
@validate_response(AttachmentOut, 201)
@inject
async def upload_attachment(
    entry_id: str, journal: JournalService = Provide[Container.journal]
) -> tuple[AttachmentOut, int]:
    """Attach a screenshot (multipart field `file`): PNG, JPEG, WebP or GIF by its bytes, at most 5 MiB."""
    if not request.mimetype.startswith("multipart/form-data"):
        raise InvalidInput("send the image as multipart/form-data with a field named 'file'")
    files = await request.files
    upload = files.get("file")
    if upload is None:
        raise InvalidInput("send the image as multipart/form-data with a field named 'file'")
    data = upload.read()
    attachment = await journal.attach(current_user(), entry_id, data, upload.filename or "")
    return presenters.attachment(attachment), 201


@bp.get("/<id:entry_id>/attachments/<id:attachment_id>")
@errors(404)
@openapi_extra(IMAGE_RESPONSE)
@inject
async def get_attachment(
    entry_id: str, attachment_id: str, journal: JournalService = Provide[Container.journal]
) -> Response | WerkzeugResponse:
    """The image, to its owner only: its bytes, or a redirect to a presigned URL where the store has them."""
    image = await journal.image(current_user(), entry_id, attachment_id)
    if image.url is not None:
        return redirect(image.url, 302)
    assert image.data is not None
    response = Response(image.data, content_type=image.attachment.content_type)
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.delete("/<id:entry_id>/attachments/<id:attachment_id>")
@errors(404)
@openapi_extra(NO_CONTENT)
@inject
async def delete_attachment(
    entry_id: str, attachment_id: str, journal: JournalService = Provide[Container.journal]
) -> tuple[str, int]:
    """Remove an image from an entry."""
    await journal.detach(current_user(), entry_id, attachment_id)
    return "", 204
