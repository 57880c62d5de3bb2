package http

import (
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// maxRequestID bounds a client's X-Request-ID: it lands in the log for good as the
// correlation id of the events the request appends.
const maxRequestID = 64

// requestID keeps the client's X-Request-ID when it is a plain token
// ([A-Za-z0-9-]{1,64}), so a client can follow its request through the logs, and
// replaces anything else with a fresh id.
func requestID(c *fiber.Ctx) error {
	// fiber's strings point into buffers it reuses; a replay's stream outlives them.
	id := strings.Clone(c.Get(fiber.HeaderXRequestID))
	if !validRequestID(id) {
		id = uuid.NewString()
	}
	c.Locals(localRequestID, id)
	c.Set(fiber.HeaderXRequestID, id)
	return c.Next()
}

func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestID {
		return false
	}
	for i := range len(id) {
		switch b := id[i]; {
		case b >= 'A' && b <= 'Z', b >= 'a' && b <= 'z', b >= '0' && b <= '9', b == '-':
		default:
			return false
		}
	}
	return true
}

// requestIDOf is the request's id; errors fasthttp raises before any middleware ran
// (an oversized body) get one here, so no error body lacks it.
func requestIDOf(c *fiber.Ctx) string {
	if id, ok := c.Locals(localRequestID).(string); ok && id != "" {
		return id
	}
	id := uuid.NewString()
	c.Locals(localRequestID, id)
	c.Set(fiber.HeaderXRequestID, id)
	return id
}
