"""Pages of `services.console.casework`: the letter page's casework forms, the slip's and the
transfer letter's print pages, the slip's unit pickers and the audit trail.

Every form is a plain POST (no script needed) with `csrf_token` and the letter's `version`
(hidden); on success it redirects 303 to `/letters/{id}`. An API error (403, 409, 422, 400,
413) shows the letter page again (fresh from routing) with the error beside the form that
failed, `id="error-<form>"`, the status kept, and the typed values in the form.

Forms (POST route → form `id`: fields; button text):
- `/letters/{id}/slip` → `form-slip`: `nature`, `accepted` (radio `true` 受理 / `false`
  不予受理), `not_accepted_reason`, `reply_text`, `route` (radio `direct` 直办 / `forward`
  转阅 / `escalate` 呈办), `lead_unit_id`, `assisting_unit_1`..`assisting_unit_3`,
  `recipient_id`, `notice_text`, `summary`, `opinion`, `notes`, `major` (checkbox);
  保存处理单.
- `/letters/{id}/slip/submit` → `form-slip-submit`: 提交审核.
- `/letters/{id}/slip/approve` → `form-slip-approve`: `comment`; 审核通过.
- `/letters/{id}/slip/send-back` → `form-slip-send-back`: `comment`; 退回.
- `/letters/{id}/handler` → `form-handler`: `user_id` (a select of the lead unit's active
  handlers, from routing's `GET /admin/units/{unit}/handlers`; a text field where this
  person may not list them), `name` (blank: the chosen person's name), `phone`; 指定经办人.
  No handler listed: the form says so (`#handler-none`) and offers no button.
- `/letters/{id}/contact-attempts` → `form-contact`: `at` (datetime-local to the minute,
  Beijing time, sent as an instant with +08:00), `channel`, `outcome`, `note`; 记录联系.
- `/letters/{id}/assist-requests` → `form-assist-request`: `unit_id` (a select of the
  letter's assisting units), `question`; 发送协办请求 (the lead unit's handler or head).
- `/letters/{id}/assist-requests/{request}/answer` → `form-assist-answer-{request}`: `text`;
  答复牵头单位 (the assisting unit, for each open request addressed to it).
- `/letters/{id}/contact-invalid` → `form-contact-invalid`: `reason`; 标记联系方式无效.
- `/letters/{id}/transfer/sent` → `form-transfer-sent`: `channel`, `reference`, `sent_at`,
  `note`; 登记已送出.
- `/letters/{id}/sensitivity` → `form-sensitivity`: `sensitivity_<ground>` (checkboxes:
  state_secret, trade_secret, privacy, sensitive, public_opinion_risk), `reason`; 标记敏感.
- `/letters/{id}/referral` → `form-referral`: `agency`, `reason`; 提出移交.
- `/letters/{id}/referral/decision` → `form-referral-decision`: `comment`; buttons named
  `decision`, value `approve` 同意移交 / `refuse` 不同意移交.

For browser tests: the slip's pickers (`#slip-units`) are swapped in by htmx with the whole
directory after the page loads (wait for `select[name=lead_unit_id] option[value=…]`);
an error block is `#error-<form>` (`role="alert"`), its status in `<strong>`; the forms
are found by their `id` (several carry a `comment` field and the replies panel has its own
退回). Only the forms of routing's `allowed_actions` are on the page.

GET pages: `/letters/{id}/slip/print` (link `#print-slip` 打印处理单, A4, in a new tab),
`/letters/{id}/transfer/print` (link `#print-transfer` 打印转办函 / 打印呈办函, A4, new tab,
the office only), `/letters/{id}/slip/units` (htmx: the
pickers with the whole directory), `/letters/{id}/audit` (htmx: the office's audit trail).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from services.console.casework import service
from services.console.casework.errors import form_error
from services.console.casework.schemas import Slip
from services.console.casework.service import ACTIONS, Action
from services.console.deps import (
    CheckedForm,
    Current,
    Refused,
    SignedIn,
    UpstreamDep,
    render,
    submit_letter_form,
)
from services.console.letters import service as letters
from services.console.letters.schemas import LetterRead
from services.console.upstream.service import Upstream, UpstreamError

router = APIRouter(include_in_schema=False)

UnitId = Annotated[str | None, Query(max_length=64)]
RequestId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")]


def _refused(
    upstream: Upstream, current: Current, action: Action, form: dict[str, str], *, key: str
) -> Callable[[UpstreamError, LetterRead], Awaitable[Refused]]:
    """The casework panel's refusal: the error beside form `key`, the typed values kept."""

    async def shown(error: UpstreamError, letter: LetterRead) -> Refused:
        token = current.session.token
        view = await service.page_view(upstream, token=token, letter=letter)
        if action.form == "slip":
            view.directory = await service.directory(upstream, token=token)
        view.error = form_error(key, error)
        view.typed = service.typed_values(action, form)
        return Refused({"casework": view})

    return shown


def _handler(action: Action) -> Callable[..., Awaitable[Response]]:
    async def submit(
        request: Request,
        letter_id: str,
        current: SignedIn,
        upstream: UpstreamDep,
        form: CheckedForm,
    ) -> Response:
        async def call() -> None:
            await service.act(
                upstream,
                token=current.session.token,
                letter_id=letter_id,
                action=action,
                form=form,
            )

        refused = _refused(upstream, current, action, form, key=action.form)
        return await submit_letter_form(
            request, current, upstream, letter_id=letter_id, call=call, refused=refused
        )

    submit.__name__ = "casework_" + action.form.replace("-", "_")
    submit.__doc__ = f"The {action.form} form: routing's {action.method} {action.tail}."
    return submit


for _action in ACTIONS.values():
    router.add_api_route("/letters/{letter_id}" + _action.tail, _handler(_action), methods=["POST"])


@router.post("/letters/{letter_id}/assist-requests/{request_id}/answer")
async def answer_assist(
    request: Request,
    letter_id: str,
    request_id: RequestId,
    current: SignedIn,
    upstream: UpstreamDep,
    form: CheckedForm,
) -> Response:
    """答复牵头单位: the assisting unit's answer to one request (routing's POST
    /letters/{id}/assist-requests/{request}/answer)."""
    service.letter_path(letter_id)

    async def call() -> None:
        await service.answer_assist(
            upstream,
            token=current.session.token,
            letter_id=letter_id,
            request_id=request_id,
            form=form,
        )

    action = service.ASSIST_ANSWER
    key = f"assist-answer-{request_id}"
    refused = _refused(upstream, current, action, form, key=key)
    return await submit_letter_form(
        request, current, upstream, letter_id=letter_id, call=call, refused=refused
    )


@router.get("/letters/{letter_id}/slip/print")
async def slip_print(
    request: Request, letter_id: str, current: SignedIn, upstream: UpstreamDep
) -> HTMLResponse:
    """The handling slip on an A4 page: 市商务委公开信箱（电话）处理单."""
    letter = await letters.letter(upstream, token=current.session.token, letter_id=letter_id)
    if not letter.slip:
        raise UpstreamError(404, code="not_found", message="no slip for this letter")
    slip = Slip.model_validate(letter.slip)
    context: dict[str, Any] = {"letter": letter, "slip": slip}
    return render(request, "casework/slip_print.html", context, current=current)


@router.get("/letters/{letter_id}/transfer/print")
async def transfer_print(
    request: Request, letter_id: str, current: SignedIn, upstream: UpstreamDep
) -> HTMLResponse:
    """The transfer letter (转办函 / 呈办函) on an A4 page, for the office to send."""
    if current.session.role not in service.OFFICE_ROLES:
        # As routing's transfer.html: the office sends it, nobody else prints it.
        raise UpstreamError(403, code="forbidden", message="the office prints transfers")
    letter = await letters.letter(upstream, token=current.session.token, letter_id=letter_id)
    if letter.transfer is None:
        raise UpstreamError(404, code="not_found", message="not forwarded or escalated")
    slip = Slip.model_validate(letter.slip) if letter.slip else None
    context: dict[str, Any] = {"letter": letter, "slip": slip, "transfer": letter.transfer}
    return render(request, "casework/transfer_print.html", context, current=current)


@router.get("/letters/{letter_id}/slip/units")
async def slip_units(
    request: Request,
    letter_id: str,
    current: SignedIn,
    upstream: UpstreamDep,
    lead_unit_id: UnitId = None,
    assisting_unit_1: UnitId = None,
    assisting_unit_2: UnitId = None,
    assisting_unit_3: UnitId = None,
    recipient_id: UnitId = None,
) -> HTMLResponse:
    """The slip's unit pickers with the whole directory, the chosen units kept (htmx)."""
    service.letter_path(letter_id)
    assisting = [a for a in (assisting_unit_1, assisting_unit_2, assisting_unit_3) if a]
    context: dict[str, Any] = {
        "letter_id": letter_id,
        "directory": await service.directory(upstream, token=current.session.token),
        "chosen": {
            "lead_unit_id": lead_unit_id or "",
            "assisting_unit_ids": assisting,
            "recipient_id": recipient_id or "",
        },
        "loaded": True,
    }
    return render(request, "casework/_units.html", context, current=current)


@router.get("/letters/{letter_id}/audit")
async def audit_trail(
    request: Request, letter_id: str, current: SignedIn, upstream: UpstreamDep
) -> HTMLResponse:
    """The letter's audit trail from routing's dossier (the office's; htmx)."""
    try:
        dossier = await service.dossier(upstream, token=current.session.token, letter_id=letter_id)
    except UpstreamError as exc:
        if exc.status != 403:
            raise
        dossier = None
    return render(request, "casework/_audit.html", {"dossier": dossier}, current=current)
