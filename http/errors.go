package http

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/eventstore"
	"github.com/supermock/engine/http/auth"
	"github.com/supermock/engine/internal/keyset"
)

// errorBody is the one shape of every error answer.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code      string         `json:"code"`
	Message   string         `json:"message"`
	Fields    []fieldProblem `json:"fields,omitempty" doc:"every wrong field of the body (or the query parameter or header), when the refusal is about fields"`
	RequestID string         `json:"request_id"`
}

// fieldProblem is one field of a request that is wrong: a body's field, a query
// parameter or a header. An answer names every wrong field of its body at once.
type fieldProblem struct {
	Field   string `json:"field"`
	Code    string `json:"code" doc:"required, wrong-type, unknown-field, invalid, or the domain's code such as queue-window-too-short"`
	Message string `json:"message"`
}

// apiError is a refusal decided in this package, with its status and stable code.
type apiError struct {
	status  int
	code    string
	message string
	fields  []fieldProblem
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func newError(status int, code, message string) *apiError {
	return &apiError{status: status, code: code, message: message}
}

// invalidField names the request field that is missing or of the wrong type.
func invalidField(field, reason string) *apiError {
	return invalidFields([]fieldProblem{{Field: field, Code: "invalid", Message: reason}})
}

// invalidFields is one 400 invalid-request naming every wrong field.
func invalidFields(fields []fieldProblem) *apiError {
	msgs := make([]string, len(fields))
	for i, f := range fields {
		msgs[i] = f.Field + ": " + f.Message
	}
	e := newError(fiber.StatusBadRequest, "invalid-request", strings.Join(msgs, "; "))
	e.fields = fields
	return e
}

// invalidInput is a domain refusal of several fields: the first one's code, every
// field's own code and message.
func invalidInput(in *domain.InvalidInput) *apiError {
	fields := make([]fieldProblem, len(in.Fields))
	for i, f := range in.Fields {
		fields[i] = fieldProblem{Field: f.Field, Code: "invalid", Message: f.Err.Error()}
		var de *domain.Error
		if errors.As(f.Err, &de) {
			fields[i].Code = de.Code()
		}
	}
	e := newError(fiber.StatusBadRequest, fields[0].Code, in.Error())
	e.fields = fields
	return e
}

var (
	errMalformedJSON     = newError(fiber.StatusBadRequest, "malformed-json", "the body is not a JSON object")
	errUnsupportedMedia  = newError(fiber.StatusUnsupportedMediaType, "unsupported-media-type", "send the body as application/json")
	errUnauthorized      = newError(fiber.StatusUnauthorized, "unauthorized", "log in first: a Bearer token or the sm_sess cookie is required")
	errTokenExpired      = newError(fiber.StatusUnauthorized, "token-expired", "the session has expired: log in again")
	errTokenInvalid      = newError(fiber.StatusUnauthorized, "token-invalid", "the session token is invalid")
	errTelegramHash      = newError(fiber.StatusUnauthorized, "telegram-hash-invalid", "the Telegram data is not signed by our bot")
	errTelegramStale     = newError(fiber.StatusUnauthorized, "telegram-auth-expired", "the Telegram login is too old or dated in the future: log in again")
	errTelegramDisabled  = newError(fiber.StatusServiceUnavailable, "telegram-disabled", "Telegram login is not configured on this server (no TELEGRAM_TOKEN)")
	errForbidden         = newError(fiber.StatusForbidden, "forbidden", "admins only")
	errNotFound          = newError(fiber.StatusNotFound, "not-found", "no such route")
	errRateLimited       = newError(fiber.StatusTooManyRequests, "rate-limited", "too many requests: try again later")
	errBadCursor         = newError(fiber.StatusBadRequest, "bad-cursor", "the position is not a cursor this API handed out")
	errConcurrent        = newError(fiber.StatusConflict, "concurrent-modification", "the data changed under the request too often: retry")
	errIdempotencyInUse  = newError(fiber.StatusConflict, "idempotency-key-in-use", "a request with this Idempotency-Key is still in flight")
	errIdempotencyReused = newError(fiber.StatusUnprocessableEntity, "idempotency-key-reused", "this Idempotency-Key was used for another request")
	errUnavailable       = newError(fiber.StatusServiceUnavailable, "database-unavailable", "the database cannot be reached: retry later")
	errBadContentLength  = newError(fiber.StatusRequestEntityTooLarge, "bad-content-length", "Content-Length must be a number of bytes within the 64 KiB limit")
	errInternal          = newError(fiber.StatusInternalServerError, "internal", "internal error")
)

// kindStatus is the one table from domain refusals to statuses; the code is the
// domain's own.
var kindStatus = map[domain.Kind]int{
	domain.KindInvalid:   fiber.StatusBadRequest,
	domain.KindConflict:  fiber.StatusConflict,
	domain.KindNotFound:  fiber.StatusNotFound,
	domain.KindForbidden: fiber.StatusForbidden,
}

// fiberCodes names fiber's and fasthttp's own errors.
var fiberCodes = map[int]*apiError{
	fiber.StatusBadRequest:                  newError(fiber.StatusBadRequest, "bad-request", "bad request"),
	fiber.StatusNotFound:                    errNotFound,
	fiber.StatusMethodNotAllowed:            newError(fiber.StatusMethodNotAllowed, "method-not-allowed", "method not allowed"),
	fiber.StatusRequestEntityTooLarge:       newError(fiber.StatusRequestEntityTooLarge, "body-too-large", "the body is larger than the limit"),
	fiber.StatusRequestHeaderFieldsTooLarge: newError(fiber.StatusRequestHeaderFieldsTooLarge, "headers-too-large", "the headers are too large"),
	fiber.StatusRequestTimeout:              newError(fiber.StatusRequestTimeout, "request-timeout", "the request was not read in time"),
	fiber.StatusTooManyRequests:             errRateLimited,
}

// classify turns any error into the answer the client gets.
func classify(err error) *apiError {
	var (
		ae    *apiError
		in    *domain.InvalidInput
		de    *domain.Error
		fe    *fiber.Error
		field *auth.FieldError
	)
	switch {
	case errors.As(err, &ae):
		return ae
	case databaseOutage(err) != noOutage:
		return errUnavailable
	case errors.As(err, &in) && len(in.Fields) > 0:
		return invalidInput(in)
	case errors.As(err, &de):
		if status, ok := kindStatus[de.Kind()]; ok {
			return newError(status, de.Code(), err.Error())
		}
	case errors.Is(err, domain.ErrConcurrency):
		return errConcurrent
	case errors.Is(err, eventstore.ErrBadCursor), errors.Is(err, keyset.ErrBadCursor):
		return errBadCursor
	case errors.Is(err, auth.ErrTokenExpired):
		return errTokenExpired
	case errors.Is(err, auth.ErrTokenInvalid):
		return errTokenInvalid
	case errors.Is(err, auth.ErrHashInvalid):
		return errTelegramHash
	case errors.Is(err, auth.ErrAuthDateStale):
		return errTelegramStale
	case errors.As(err, &field):
		return invalidField(field.Field, field.Reason)
	case errors.As(err, &fe):
		// fasthttp refuses a Content-Length it cannot parse (negative, not a number,
		// past the integers) before reading the body: as much a body it will not take
		// as one above the limit.
		if fe.Code == fiber.StatusBadRequest && strings.Contains(fe.Message, "Content-Length") {
			return errBadContentLength
		}
		if e, ok := fiberCodes[fe.Code]; ok {
			return e
		}
	}
	return errInternal
}

// errorHandler answers every error in the documented shape; every 5xx goes to the log
// under the request id, and its details never go to the client.
func (s *server) errorHandler(c *fiber.Ctx, err error) error {
	e := s.refusal(c, err)
	return c.Status(e.status).JSON(errorBody{Error: errorDetail{Code: e.code, Message: e.message, Fields: e.fields, RequestID: requestIDOf(c)}})
}

// refusal classifies err for the answer; a 5xx goes to the log under the request id.
// An outage says when to retry; a lost database also drops every pooled connection,
// since each one opened before it went away would fail once more after it is back.
func (s *server) refusal(c *fiber.Ctx, err error) *apiError {
	e := classify(err)
	if e.status >= fiber.StatusInternalServerError {
		s.Logger.Error("request failed", "request_id", requestIDOf(c), "method", c.Method(),
			"path", c.Path(), "status", e.status, "err", err)
	}
	if e == errUnavailable {
		c.Set(fiber.HeaderRetryAfter, retryAfterSeconds)
		if databaseOutage(err) == databaseLost {
			s.Pool.Reset()
		}
	}
	return e
}
