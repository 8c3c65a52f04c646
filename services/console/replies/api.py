"""The reply's forms on a letter's page: the five-part editor with its live check, the unit's
and the office's reviews, extensions, answers to reminders, and the masked preview.

Each form shows only where routing's `allowed_actions` has its action (a reminder's form:
where deadlines lists an unanswered reminder of the person's unit). A form posts to the
console, which calls the service with the person's token and the letter's `version` the
page showed; success answers 303 back to `/letters/{id}`. A refusal renders the letter's
page again with the service's status (403, 404, 409, 422) and, beside the form it came
from, the reason in Chinese and what was typed (on a 409 with the letter as it now is).

Routes, their fields and buttons (every form also carries `csrf_token` and, for routing's
actions, `version`; stable for the browser tests):

- POST `/letters/{id}/reply` — unit, handler, investigation, policy_basis, result,
  proposed_mode (online | email | not_public), not_public_reason — 保存答复
  (routing `PUT /letters/{id}/reply`).
- POST `/letters/{id}/reply/check` — htmx, on input in the editor: its fields; answers
  `#reply-missing` with a `li[data-part]` per missing part (五要素齐全 when none).
- POST `/letters/{id}/reply/send-for-review` — 送审.
- POST `/letters/{id}/reply/unit-approve` — comment (optional) — 审核通过 (unit head, then
  the unit's leader).
- POST `/letters/{id}/reply/unit-send-back` — comment — 退回.
- POST `/letters/{id}/reply/submit` — informed_channel (phone | sms | email | visit | other;
  blank when the contact details are invalid), informed_at (datetime-local),
  informed_note — 报送办公室.
- POST `/letters/{id}/reply/review/approve` — publication_mode, not_public_reason, comment,
  major (checkbox, "on"), major_reason — 审核通过; in the preview the same route with
  form=publish and publication_mode=online — 同意公开.
- POST `/letters/{id}/reply/review/return` — reason (off_topic | perfunctory |
  buck_passing), comment, new_due (datetime-local) — 退回.
- POST `/letters/{id}/extensions` — reason, extra_working_days, new_due (date) — 申请延期.
- POST `/letters/{id}/extensions/{ext}/approve` — extra_working_days, new_due (date),
  comment — 同意延期; `/letters/{id}/extensions/{ext}/refuse` — reason — 不同意延期.
- POST `/letters/{id}/reminders/{rid}/answer` — text — 反馈催办 (deadlines
  `POST /reminders/{rid}/answer`: deadlines owns reminders and their answers).
- GET `/letters/{id}/reply/preview` — 预览公开文本 (a GET form; htmx puts the fragment
  into `#reply-preview`, without htmx a page): publishing's `POST /letters/{id}/preview`
  (read only) with the reply as it stands; `td.original` and `td.masked` side by side,
  each mask a `mark.mask[data-kind]`.

Each form's element has `data-form` set to its key (reply, send_review, unit_approve,
unit_send_back, submit, review_approve, review_return, extension, extension_approve:{ext},
extension_refuse:{ext}, reminder:{rid}, publish); a refusal is a `.form-error` inside it
(`role="alert"`), and the editor's missing parts are `#reply-missing li[data-part]`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from services.console.casework import service as casework
from services.console.deps import (
    CSRF_FIELD,
    CheckedForm,
    Refused,
    SignedIn,
    UpstreamDep,
    render,
    submit_letter_form,
)
from services.console.letters import service as letters
from services.console.letters.schemas import LetterRead
from services.console.replies import service
from services.console.replies.schemas import FormState
from services.console.upstream.service import UpstreamError, explain

router = APIRouter(include_in_schema=False)

ItemId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")]
STALE = (
    "信件刚被他人更新，您提交时看到的已不是最新状态。下面显示的是最新状态，"
    "您填写的内容已保留，请核对后重新提交。"
)
_FORBIDDEN_HANDLER = "只有被指定的经办人员（或处室负责人）才能办理这封信。"


def _message(error: UpstreamError) -> str:
    """The refusal in plain Chinese, for the form it came from."""
    if error.status == 409:
        if error.code == "stale_version":
            return STALE
        if isinstance(error.details.get("state"), str):
            return "当前环节不允许这样做，请按信件现在的状态办理。"
        return "当前状态不允许这样做（可能已经办理过）。请刷新后再试。"
    if error.status == 403 and "handler" in error.details:
        return _FORBIDDEN_HANDLER
    return explain(error)


def _refused(
    current: SignedIn, upstream: UpstreamDep, *, form_key: str, form: dict[str, str]
) -> Callable[[UpstreamError, LetterRead], Awaitable[Refused]]:
    """The replies panel's refusal: the reason beside its form, what was typed kept; the
    letter's page as it now is (or, when it shows no forms any more, the refusal alone)."""

    async def shown(error: UpstreamError, letter: LetterRead) -> Refused:
        values = {k: v for k, v in form.items() if k not in (CSRF_FIELD, "version")}
        message = _message(error)
        state = FormState(form=form_key, status=error.status, message=message, values=values)
        if isinstance(error.details.get("state"), str):
            state.state = str(error.details["state"])
        if form_key == "reply" and error.status == 422:
            state.missing = service.missing_parts(values) or service.missing_of(error)
        state.orphan = not service.form_shown(form_key, letter, role=current.session.role)
        if state.orphan and error.code == "stale_version":
            state.message = "信件刚被他人更新，这一项现在已不能办理。下面显示的是最新状态。"
        if state.orphan and not letter.allowed_actions:
            # The letter's page shows no forms now: the refusal is the page.
            page = {"title": "未能办理", "message": state.message, "status": error.status}
            return Refused(page, template="error.html")
        token = current.session.token
        view = await casework.page_view(upstream, token=token, letter=letter)
        return Refused({"replies": state, "casework": view})

    return shown


async def _act(
    request: Request,
    current: SignedIn,
    upstream: UpstreamDep,
    *,
    letter_id: str,
    form_key: str,
    form: dict[str, str],
    call: Callable[[], Awaitable[None]],
) -> Response:
    refused = _refused(current, upstream, form_key=form_key, form=form)
    return await submit_letter_form(
        request, current, upstream, letter_id=letter_id, call=call, refused=refused
    )


async def _routing(
    request: Request,
    current: SignedIn,
    upstream: UpstreamDep,
    form: dict[str, str],
    *,
    letter_id: str,
    form_key: str,
    tail: str,
    body: Mapping[str, Any],
    method: str = "POST",
) -> Response:
    async def call() -> None:
        await service.routing_action(
            upstream,
            token=current.session.token,
            letter_id=letter_id,
            tail=tail,
            version=service.version_of(form),
            body=body,
            method=method,
        )

    return await _act(
        request, current, upstream, letter_id=letter_id, form_key=form_key, form=form, call=call
    )


@dataclass(frozen=True)
class Step:
    """A reply form that posts to the routing endpoint of the same path."""

    tail: str
    form_key: Callable[[dict[str, str]], str]
    body: Callable[[dict[str, str]], Mapping[str, Any]]
    doc: str
    method: str = "POST"


def _key(name: str) -> Callable[[dict[str, str]], str]:
    return lambda _form: name


def _comment(form: dict[str, str]) -> Mapping[str, Any]:
    return {"comment": form.get("comment", "")}


def _optional_comment(form: dict[str, str]) -> Mapping[str, Any]:
    return {"comment": form.get("comment", "").strip() or None}


STEPS = (
    Step("/reply", _key("reply"), service.draft_body, method="PUT",
         doc="保存答复: the five parts and the proposed mode (routing refuses a missing part)."),
    Step("/reply/send-for-review", _key("send_review"), lambda _form: {},
         doc="送审: the handler hands the reply to the unit head."),
    Step("/reply/unit-approve", _key("unit_approve"), _optional_comment,
         doc="审核通过 by the unit head, then the unit's leader."),
    Step("/reply/unit-send-back", _key("unit_send_back"), _comment,
         doc="退回 to the handler, with what to change."),
    Step("/reply/submit", _key("submit"), service.submit_body,
         doc="报送办公室, with how the writer was told (Art. 14)."),
    Step("/reply/review/approve",
         lambda form: "publish" if form.get("form") == "publish" else "review_approve",
         service.approve_body,
         doc="审核通过 (or 同意公开) at the office's step, keeping or changing the mode."),
    Step("/reply/review/return", _key("review_return"), service.return_body,
         doc="退回 to the unit with the Art. 26 reason."),
    Step("/extensions", _key("extension"), service.extension_body,
         doc="申请延期 (Art. 19 ③): the reason and the working days or the new date."),
)  # fmt: skip


def _step_route(step: Step) -> Callable[..., Awaitable[Response]]:
    async def post(
        request: Request,
        letter_id: str,
        current: SignedIn,
        upstream: UpstreamDep,
        form: CheckedForm,
    ) -> Response:
        return await _routing(
            request, current, upstream, form, letter_id=letter_id, form_key=step.form_key(form),
            tail=step.tail, body=step.body(form), method=step.method,
        )  # fmt: skip

    post.__name__ = "reply_" + step.tail.strip("/").replace("/", "_").replace("-", "_")
    post.__doc__ = step.doc
    return post


for _step in STEPS:
    router.add_api_route("/letters/{letter_id}" + _step.tail, _step_route(_step), methods=["POST"])


@router.post("/letters/{letter_id}/reply/check")
async def check_reply(request: Request, current: SignedIn, form: CheckedForm) -> HTMLResponse:
    """The live check: which of the five parts (and the not-public reason) are missing."""
    missing = service.missing_parts(form)
    return render(request, "replies/_missing.html", {"missing": missing}, current=current)


@router.post("/letters/{letter_id}/extensions/{extension_id}/{decision}")
async def decide_extension(
    request: Request,
    letter_id: str,
    extension_id: ItemId,
    decision: Annotated[str, Path(pattern="^(approve|refuse)$")],
    current: SignedIn,
    upstream: UpstreamDep,
    form: CheckedForm,
) -> Response:
    """同意延期 or 不同意延期, by the office head."""
    approve = decision == "approve"
    return await _routing(
        request, current, upstream, form, letter_id=letter_id,
        form_key=f"extension_{decision}:{extension_id}",
        tail=f"/extensions/{quote(extension_id, safe='')}/{decision}",
        body=service.decide_extension_body(form, approve=approve),
    )  # fmt: skip


@router.post("/letters/{letter_id}/reminders/{reminder_id}/answer")
async def answer_reminder(
    request: Request,
    letter_id: str,
    reminder_id: ItemId,
    current: SignedIn,
    upstream: UpstreamDep,
    form: CheckedForm,
) -> Response:
    """反馈催办: the unit answers a reminder (deadlines keeps reminders and answers)."""

    async def call() -> None:
        await service.answer_reminder(
            upstream, token=current.session.token, reminder_id=reminder_id,
            text=form.get("text", "").strip(),
        )  # fmt: skip

    return await _act(
        request, current, upstream, letter_id=letter_id, form_key=f"reminder:{reminder_id}",
        form=form, call=call,
    )  # fmt: skip


@router.get("/letters/{letter_id}/reply/preview")
async def preview_page(
    request: Request, letter_id: str, current: SignedIn, upstream: UpstreamDep
) -> HTMLResponse:
    """预览公开文本: original and masked text side by side, each mask highlighted."""
    letter = await letters.letter(upstream, token=current.session.token, letter_id=letter_id)
    fragment = request.headers.get("hx-request") == "true"
    template = "replies/_preview.html" if fragment else "replies/preview.html"
    context: dict[str, object] = {"letter": letter, "preview": None, "rows": [], "error": None}
    try:
        found = await service.preview(
            upstream,
            token=current.session.token,
            letter_id=letter_id,
            reply=letter.reply,
        )
    except UpstreamError as error:
        if error.status == 401 or not fragment:
            raise
        context["error"] = _message(error)
        status = error.status if 400 <= error.status < 500 else 503
        return render(request, template, context, current=current, status_code=status)
    context["preview"] = found
    context["rows"] = [
        (title, service.segments(found.fields[name]))
        for name, title in service.PREVIEW_FIELDS.items()
        if name in found.fields
    ]
    context["kinds"] = service.SPAN_KINDS
    return render(request, template, context, current=current)
