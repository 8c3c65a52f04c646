"""Routes: previews of redaction (the letter's, and any text's), uploads, retries and call-backs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.publishing.deps import (
    AUTH_ERRORS,
    LIST_ERRORS,
    READ_ERRORS,
    CallbackRecorder,
    Cursor,
    KnownLetter,
    KnownUpload,
    Limit,
    Office,
    PreviewsDep,
    Retrier,
    ServiceDep,
    SettingsDep,
    UploadIdPath,
    cursor_after,
    cursor_of,
    page_size,
)
from services.publishing.letters.models import LETTER_ID_PATTERN
from services.publishing.redaction.service import PersonData
from services.publishing.uploads.models import UploadDoc, UploadState
from services.publishing.uploads.publication import findings_of, redact_one
from services.publishing.uploads.schemas import (
    CallbackIn,
    FieldRedaction,
    LetterPreviewIn,
    LetterPreviewRead,
    PreviewIn,
    PreviewRead,
    UploadPage,
    UploadRead,
)
from shared.web import error_doc

router = APIRouter()


@router.get(
    "/letters/{letter_id}/preview",
    tags=["preview"],
    summary="The redacted letter and latest reply, before online publication is approved.",
    responses=READ_ERRORS,
)
async def preview_letter(letter: KnownLetter, previews: PreviewsDep) -> LetterPreviewRead:
    """Title, text and the latest approved reply redacted, with spans and the leak scan."""
    return LetterPreviewRead.of(await previews.preview(letter.id, parts=None))


@router.post(
    "/letters/{letter_id}/preview",
    tags=["preview"],
    summary="Preview the letter with a draft reply given in the request.",
    responses={**READ_ERRORS, 422: error_doc("the reply parts are invalid")},
)
async def preview_letter_with(
    letter: KnownLetter, body: LetterPreviewIn, previews: PreviewsDep
) -> LetterPreviewRead:
    """As the GET, with the request's reply parts (or the latest approved reply without)."""
    parts = body.reply.parts() if body.reply is not None else None
    return LetterPreviewRead.of(await previews.preview(letter.id, parts=parts))


@router.post(
    "/preview",
    tags=["preview"],
    summary="Redact any text with a writer's data, and run the leak scan on the result.",
    responses={**AUTH_ERRORS, 422: error_doc("the text or person is invalid")},
)
async def preview_text(_: Office, body: PreviewIn, service: ServiceDep) -> PreviewRead:
    """An ad-hoc check of a text (and title): redacted text, spans, what the scan still finds."""
    person = PersonData.model_validate(body.person.model_dump()) if body.person else None
    config = service.redaction
    text, text_leaks = redact_one(body.text, person=person, config=config)
    fields = {
        "text": FieldRedaction(
            original=body.text,
            text=text.text,
            spans=text.spans,
            leaks=findings_of("text", text_leaks),
        )
    }
    if body.title is not None:
        title, title_leaks = redact_one(body.title, person=person, config=config)
        fields["title"] = FieldRedaction(
            original=body.title,
            text=title.text,
            spans=title.spans,
            leaks=findings_of("title", title_leaks),
        )
    return PreviewRead(
        text=fields["text"],
        title=fields.get("title"),
        leak_scan_passed=not any(f.leaks for f in fields.values()),
    )


@router.get(
    "/uploads",
    tags=["uploads"],
    summary=(
        "Uploads, newest first; `state=parked` lists those waiting for a retry,"
        " `state=awaiting_callback` the answers to letters taken by hand to give by call-back."
    ),
    responses=LIST_ERRORS,
)
async def list_uploads(
    _: Office,
    service: ServiceDep,
    settings: SettingsDep,
    state: UploadState | None = None,
    letter_id: Annotated[str | None, Query(pattern=LETTER_ID_PATTERN)] = None,
    cursor: Cursor = None,
    limit: Limit = None,
) -> UploadPage:
    """Uploads by state (pending, awaiting_callback, sent, parked, refused) and letter,
    keyset-paged."""
    size = page_size(settings, limit)
    docs = await service.uploads.page(
        state=state.value if state else None,
        letter_id=letter_id,
        after=cursor_after(cursor),
        limit=size,
    )
    items = [UploadRead.of(UploadDoc.of(d)) for d in docs[:size]]
    last = docs[size - 1] if len(docs) > size else None
    return UploadPage(
        items=items,
        next_cursor=cursor_of(last["created_at"], str(last["_id"])) if last else None,
    )


@router.get(
    "/uploads/{upload_id}",
    tags=["uploads"],
    summary="One upload: what is sent, its attempts and errors.",
    responses=READ_ERRORS,
)
async def get_upload(upload: KnownUpload) -> UploadRead:
    """The upload with its attempts, errors, receipt, e-mail and leak-scan findings."""
    return UploadRead.of(upload)


@router.post(
    "/uploads/{upload_id}/retry",
    tags=["uploads"],
    summary="Send a parked upload again, or re-check a refused one.",
    responses={
        **READ_ERRORS,
        409: error_doc("the upload is neither parked nor refused"),
    },
)
async def retry_upload(
    upload_id: UploadIdPath, principal: Retrier, service: ServiceDep
) -> UploadRead:
    """A parked upload goes back to pending (attempts from zero); a refused one is re-planned
    with today's redaction and leak scan, and queued only if the scan now passes."""
    return UploadRead.of(await service.retry(upload_id, principal=principal))


@router.post(
    "/uploads/{upload_id}/delivered",
    tags=["uploads"],
    summary="Record telling the writer of a letter taken by hand their answer (call-back).",
    responses={
        **READ_ERRORS,
        403: error_doc("only the office clerk or head records a call-back"),
        409: error_doc(
            "not a letter taken by hand, not waiting for its call-back, or delivered already"
            " by a different call-back"
        ),
        422: error_doc("a field is invalid, or `at` is in the future or before the answer"),
    },
)
async def record_delivery(
    upload_id: UploadIdPath, body: CallbackIn, principal: CallbackRecorder, service: ServiceDep
) -> UploadRead:
    """Art. 10, 13, 31: a letter taken by telephone or in person has no platform, so its
    answer, non-acceptance reason or transfer notice reaches the writer only when the office
    tells them. This records it (channel, when, what was said) with the clerk or head as
    actor and marks the upload delivered as of `at`: `letter.published` closes the upload
    clock. The same record again answers as the first time; a different one is a 409."""
    upload = await service.record_callback(
        upload_id,
        channel=body.channel,
        at=body.at,
        note=body.note,
        reference=body.reference,
        principal=principal,
    )
    return UploadRead.of(upload)
