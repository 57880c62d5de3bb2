package http

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/supermock/engine/projections"
)

const (
	defaultPageLimit = 50
	maxPageLimit     = 200
)

// pageOf reads limit (1–200, default 50) and after (a next cursor of the same list).
func pageOf(c *fiber.Ctx) (projections.Page, error) {
	p := projections.Page{Limit: defaultPageLimit, After: c.Query("after")}
	if raw := c.Query("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > maxPageLimit {
			return p, invalidField("limit", "must be a whole number from 1 to 200")
		}
		p.Limit = n
	}
	return p, nil
}
