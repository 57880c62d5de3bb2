package http

import (
	"strings"

	"github.com/gofiber/fiber/v2"
)

var errUnsupportedEncoding = newError(fiber.StatusUnsupportedMediaType, "unsupported-content-encoding",
	"send the body uncompressed: no Content-Encoding is accepted")

// refuseEncodedBodies answers 415 to a request body with any Content-Encoding but
// identity, before a handler reads it. fiber's Ctx.Body inflates gzip, deflate and
// brotli, layer after layer, with no limit, so 590 bytes could become gigabytes after
// the 64 KiB body limit was checked; browsers never compress what they send, and a
// JSON command is small, so no encoding is decoded at all. Handlers read BodyRaw.
func refuseEncodedBodies(c *fiber.Ctx) error {
	var refused bool
	c.Request().Header.VisitAll(func(key, value []byte) {
		if strings.EqualFold(string(key), fiber.HeaderContentEncoding) &&
			!strings.EqualFold(strings.TrimSpace(string(value)), "identity") {
			refused = true
		}
	})
	if refused {
		return errUnsupportedEncoding
	}
	return c.Next()
}
