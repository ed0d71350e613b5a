"""JSON errors with a message: 400 bad parameter, 401 no valid auth, 403 failed CSRF (session
only), 404 not visible, 429 token over its rate. Every error body is ``ErrorOut``."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from dashboard.okrs.api.params import ALLOWED_VALUES, PARAMETER_HINTS


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        parameter: str | None = None,
        allowed: list[str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.parameter = parameter
        self.allowed = allowed
        self.headers = headers or {}


class NotAuthenticated(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(401, message, headers={"WWW-Authenticate": 'Bearer realm="okrhub"'})


class TooManyRequests(ApiError):
    def __init__(self, limit: int, retry_after: int) -> None:
        super().__init__(
            429,
            f"Rate limit exceeded: at most {limit} requests per minute per token. Retry in {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )


def bad_parameter(parameter: str, value: Any, reason: str = "") -> ApiError:
    allowed = ALLOWED_VALUES.get(parameter)
    if allowed:
        message = f"Invalid value {value!r} for '{parameter}'. Allowed values: {', '.join(allowed)}."
    else:
        hint = PARAMETER_HINTS.get(parameter)
        message = (
            f"Invalid value {value!r} for '{parameter}'" + (f": {reason}" if reason else "") + (f" (expected {hint})." if hint else ".")
        )
    return ApiError(400, message, parameter=parameter, allowed=allowed)


def not_found(what: str, item_id: Any) -> ApiError:
    # The same answer whether the item does not exist or the caller may not see it.
    return ApiError(404, f"{what} {item_id} not found.")


def error_response(api: NinjaAPI, request: HttpRequest, error: ApiError) -> HttpResponse:
    body: dict[str, Any] = {"message": error.message, "status": error.status}
    if error.parameter:
        body["parameter"] = error.parameter
    if error.allowed is not None:
        body["allowed"] = error.allowed
    response = api.create_response(request, body, status=error.status)
    for name, value in error.headers.items():
        response[name] = value
    return response


def install_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(ApiError)
    def on_api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
        return error_response(api, request, exc)

    @api.exception_handler(ValidationError)
    def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        first = exc.errors[0] if exc.errors else {}
        loc = [str(part) for part in first.get("loc", ())]
        if loc and loc[0] == "path":
            # /goals/abc or an id beyond any row: nothing there, same as an id you cannot see.
            return error_response(api, request, ApiError(404, "Not found."))
        # loc is ("query", "filters", "health") for Query[Schema] parameters: the last part names it.
        parameter = loc[-1] if loc else "request"
        value = first.get("input", request.GET.get(parameter))
        reason = str(first.get("msg", "")).removeprefix("Value error, ")
        return error_response(api, request, bad_parameter(parameter, value, reason))

    @api.exception_handler(AuthenticationError)
    def on_authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return error_response(
            api,
            request,
            NotAuthenticated(
                "Authentication required: send 'Authorization: Bearer <token>' (create one on the API tokens page) or sign in."
            ),
        )

    @api.exception_handler(Http404)
    def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return error_response(api, request, ApiError(404, "Not found."))

    @api.exception_handler(HttpError)
    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return error_response(api, request, ApiError(exc.status_code, str(exc)))
