package http

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
)

// maxStreamID bounds a stream id an admin asks for; the domain's are under 50 bytes.
const maxStreamID = 200

// queryBool reads an optional true/false query parameter; anything else is 400 naming
// it, not silently false.
func queryBool(c *fiber.Ctx, name string) (bool, error) {
	raw := c.Query(name)
	if raw == "" {
		return false, nil
	}
	v, err := strconv.ParseBool(raw)
	if err != nil {
		return false, invalidField(name, "must be true or false")
	}
	return v, nil
}

// streamParam is the stream id of the path. Any text may name a stream the log does
// not hold (404), but PostgreSQL refuses bytes that are not UTF-8 and NULs in a query
// parameter, which must be the client's 400, not a failed query.
func streamParam(c *fiber.Ctx, name string) (string, error) {
	id := c.Params(name)
	if id == "" || len(id) > maxStreamID || !utf8.ValidString(id) || strings.ContainsRune(id, 0) {
		return "", invalidField(name, "is not a stream id")
	}
	return strings.Clone(id), nil
}
