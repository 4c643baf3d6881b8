"""Error responses in the app's own style: a full page normally, a visible message for HTMX.

htmx swaps nothing on an error by default; here every error answer to an HTMX request is a
short message retargeted into the page's message area (``#thong-bao``), so the person always
sees what went wrong.
"""

from __future__ import annotations

import logging
from html import escape

from litestar import Response
from litestar.enums import MediaType
from litestar.exceptions import HTTPException, NotAuthorizedException, PermissionDeniedException
from litestar.plugins.htmx import HTMXRequest

from khaibao.core import db_errors, i18n
from khaibao.core.db_errors import DatabaseUnavailable, StorageFull
from khaibao.core.i18n import gettext as _
from khaibao.core.web import refused_parameters, render
from khaibao.officers.lookups import LookupRefused

log = logging.getLogger("khaibao.errors")


def _message_for(status: int) -> tuple[str, str]:
    """(title, explanation) for a status code, in the request's language."""
    if status == 400:
        return _("Yêu cầu không hợp lệ"), _("Dữ liệu gửi lên không đúng. Hãy thử lại.")
    if status == 401:
        return _("Cần đăng nhập"), _("Hãy đăng nhập để tiếp tục.")
    if status == 403:
        return _("Không có quyền truy cập"), _(
            "Bạn không có quyền xem trang này, hoặc phiên làm việc đã hết hạn. "
            "Hãy tải lại trang và thử lại."
        )
    if status == 404:
        return _("Không tìm thấy trang"), _("Đường dẫn không đúng hoặc trang đã được chuyển đi.")
    if status == 405:
        return _("Thao tác không được hỗ trợ"), _("Trang này không nhận thao tác đó.")
    if status == 413:
        return _("Dữ liệu quá lớn"), _("Nội dung gửi lên vượt quá giới hạn cho phép.")
    if status == 429:
        return _("Quá nhiều yêu cầu"), _("Bạn đã thử quá nhiều lần. Hãy đợi một lúc rồi thử lại.")
    if status == 507:
        return _("Hết chỗ lưu trữ"), _("Máy chủ đã hết chỗ lưu trữ. Hãy thử lại sau ít phút.")
    if status == 503:
        return _("Hệ thống tạm thời gián đoạn"), _(
            "Không kết nối được cơ sở dữ liệu. Dữ liệu đã lưu không bị mất; "
            "hãy thử lại sau ít phút."
        )
    return _("Đã có lỗi xảy ra"), _("Hệ thống gặp sự cố. Hãy thử lại sau ít phút.")


def error_response(request: HTMXRequest, status: int, detail: str | None = None) -> Response:
    # Errors raised before routing (404, 405) never passed the language middleware.
    i18n.current_language.set(i18n.language_for(request))
    title, explanation = _message_for(status)
    context = {"status": status, "title": title, "explanation": detail or explanation}
    try:
        if request.htmx:
            return render(
                request, "error.html", context, block="message", status_code=status,
                headers={"HX-Retarget": "#thong-bao", "HX-Reswap": "innerHTML"},
            )
        return render(request, "error.html", context, status_code=status)
    except Exception:  # the error page itself failed: still answer, plainly
        log.exception("error page failed to render")
        body = f"<!doctype html><title>{status}</title><h1>{status}</h1><p>{escape(title)}</p>"
        return Response(body, status_code=status, media_type=MediaType.HTML)


def http_exception_handler(request: HTMXRequest, exc: HTTPException) -> Response:
    i18n.current_language.set(i18n.language_for(request))
    status = exc.status_code
    detail = None
    if isinstance(exc, PermissionDeniedException) and "CSRF" in str(exc.detail):
        detail = _("Phiên biểu mẫu đã hết hạn. Hãy tải lại trang rồi gửi lại.")
    elif isinstance(exc, NotAuthorizedException | PermissionDeniedException):
        detail = None
    elif names := refused_parameters(exc):
        detail = _("Giá trị không hợp lệ hoặc quá lớn: %(names)s. Hãy kiểm tra lại đường dẫn.",
                   names=", ".join(names))
    return error_response(request, status, detail)


def database_unavailable_handler(request: HTMXRequest, exc: DatabaseUnavailable) -> Response:
    """507 for a full disk, 503 for an outage; both say that saved data is safe. Logged once
    per incident (db_errors.report), not once per request."""
    db_errors.report(exc)
    i18n.current_language.set(i18n.language_for(request))
    if isinstance(exc, StorageFull):
        return error_response(request, 507, _(
            "Máy chủ đã hết chỗ lưu trữ nên chưa lưu được nội dung vừa gửi. Dữ liệu đã lưu "
            "trước đó không bị mất. Hãy thử lại sau ít phút."))
    return error_response(request, 503)


def lookup_refused_handler(request: HTMXRequest, exc: LookupRefused) -> Response:
    """The officer's lookup budget is spent: 429 with how long to wait, nobody shown."""
    i18n.current_language.set(i18n.language_for(request))
    response = error_response(request, 429, exc.error.message(i18n.current_language.get()))
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


def internal_error_handler(request: HTMXRequest, exc: Exception) -> Response:
    outage = db_errors.recognise(exc)
    if outage is not None:  # a driver's error (asyncpg, sqlite3, redis) for a known outage
        return database_unavailable_handler(request, outage)
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(request, 500)
