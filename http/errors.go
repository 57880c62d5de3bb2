package http

import (
	"errors"
	"log/slog"

	"github.com/gofiber/fiber/v2"
)

// errorBody is the one shape of every error answer.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id,omitempty"`
}

// statusCodes names fiber's own errors with stable codes.
var statusCodes = map[int]string{
	fiber.StatusBadRequest:            "bad-request",
	fiber.StatusUnauthorized:          "unauthorized",
	fiber.StatusForbidden:             "forbidden",
	fiber.StatusNotFound:              "not-found",
	fiber.StatusMethodNotAllowed:      "method-not-allowed",
	fiber.StatusConflict:              "conflict",
	fiber.StatusRequestEntityTooLarge: "body-too-large",
	fiber.StatusTooManyRequests:       "rate-limited",
}

// errorHandler answers every error in the documented shape; anything unexpected is a
// 500 whose details go to the log under the request id, never to the client.
func errorHandler(logger *slog.Logger) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		requestID, _ := c.Locals("requestid").(string)
		status, detail := fiber.StatusInternalServerError, errorDetail{Code: "internal", Message: "internal error"}
		var fe *fiber.Error
		if errors.As(err, &fe) {
			if code, ok := statusCodes[fe.Code]; ok {
				status, detail = fe.Code, errorDetail{Code: code, Message: fe.Message}
			}
		}
		if status == fiber.StatusInternalServerError {
			logger.Error("request failed", "request_id", requestID, "method", c.Method(), "path", c.Path(), "err", err)
		}
		detail.RequestID = requestID
		return c.Status(status).JSON(errorBody{Error: detail})
	}
}
