package http

import (
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/supermock/engine/internal/keyset"
)

const (
	defaultPageLimit = 50
	maxPageLimit     = 200
)

// pageOf reads limit (1–200, default 50) and after (a next cursor of the same list).
func pageOf(c *fiber.Ctx) (keyset.Page, error) {
	p := keyset.Page{Limit: defaultPageLimit, After: c.Query("after")}
	if raw := c.Query("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > maxPageLimit {
			return p, invalidField("limit", "must be a whole number from 1 to 200")
		}
		p.Limit = n
	}
	return p, nil
}

// pageByName is a page of a short list held in memory (the consumers, the
// projections), in the order of their names; a name is the cursor.
func pageByName[T any](list []T, name func(T) string, p keyset.Page) ([]T, *string) {
	slices.SortFunc(list, func(a, b T) int { return strings.Compare(name(a), name(b)) })
	from := 0
	if p.After != "" {
		from = len(list)
		for i, v := range list {
			if name(v) > p.After {
				from = i
				break
			}
		}
	}
	list = list[from:]
	if len(list) <= p.Limit {
		return list, nil
	}
	list = list[:p.Limit]
	next := name(list[len(list)-1])
	return list, &next
}
