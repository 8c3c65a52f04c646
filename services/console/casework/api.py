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
- `/letters/{id}/handler` → `form-handler`: `user_id`, `name`, `phone`; 指定经办人.
- `/letters/{id}/contact-attempts` → `form-contact`: `at` (datetime-local, Beijing time),
  `channel`, `outcome`, `note`; 记录联系.
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
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console.casework import service
from services.console.casework.schemas import Slip
from services.console.casework.service import ACTIONS, Action, CaseworkView
from services.console.deps import CheckedForm, SignedIn, UpstreamDep, render
from services.console.letters import service as letters
from services.console.upstream.service import UpstreamError

router = APIRouter(include_in_schema=False)

# Errors the person can act on beside the form; others are the page's (404, 401, 503).
_BESIDE_FORM = frozenset({400, 403, 409, 413, 422})
UnitId = Annotated[str | None, Query(max_length=64)]


def _handler(action: Action) -> Callable[..., Awaitable[Response]]:
    async def submit(
        request: Request,
        letter_id: str,
        current: SignedIn,
        upstream: UpstreamDep,
        form: CheckedForm,
    ) -> Response:
        token = current.session.token
        try:
            await service.act(upstream, token=token, letter_id=letter_id, action=action, form=form)
        except UpstreamError as exc:
            if exc.status not in _BESIDE_FORM:
                raise
            # The fresh letter (its new version in every form), the typed values kept.
            letter = await letters.letter(upstream, token=token, letter_id=letter_id)
            view = CaseworkView(
                directory=(
                    await service.directory(upstream, token=token)
                    if action.form == "slip"
                    else None
                ),
                error=service.form_error(action.form, exc),
                typed=service.typed_values(action, form),
            )
            context = {"letter": letter, "casework": view}
            return render(
                request, "letters/letter.html", context, current=current, status_code=exc.status
            )
        target = "/letters/" + quote(letter_id, safe="")
        return RedirectResponse(target, status_code=303)

    submit.__name__ = "casework_" + action.form.replace("-", "_")
    submit.__doc__ = f"The {action.form} form: routing's {action.method} {action.tail}."
    return submit


for _action in ACTIONS.values():
    router.add_api_route("/letters/{letter_id}" + _action.tail, _handler(_action), methods=["POST"])


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
