package http

import (
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"
)

var errMethodNotAllowed = newError(fiber.StatusMethodNotAllowed, "method-not-allowed", "this path does not take that method: see Allow")

// pathRule is what the operation table allows on one path: its methods, each with the
// query parameters it takes.
type pathRule struct {
	pattern *regexp.Regexp
	query   map[string][]string
	allow   string
}

// pathRules derive from the operation table, so the document, the 405s and the 400s
// for unknown parameters cannot disagree.
var pathRules = sync.OnceValue(func() []pathRule {
	byPath := map[string]*pathRule{}
	var order []string
	for _, op := range operations {
		r, ok := byPath[op.path]
		if !ok {
			r = &pathRule{pattern: regexp.MustCompile("^" + pathParam.ReplaceAllString(op.path, "[^/]+") + "/?$"),
				query: map[string][]string{}}
			byPath[op.path] = r
			order = append(order, op.path)
		}
		r.query[op.method] = op.query
		if op.method == fiber.MethodGet {
			r.query[fiber.MethodHead] = op.query
		}
	}
	out := make([]pathRule, 0, len(order))
	for _, p := range order {
		r := byPath[p]
		methods := make([]string, 0, len(r.query))
		for m := range r.query {
			methods = append(methods, m)
		}
		sort.Strings(methods)
		r.allow = strings.Join(append(methods, fiber.MethodOptions), ", ")
		out = append(out, *r)
	}
	return out
})

// checkRoute answers a known path asked with a method it does not take with 405 and
// Allow, and a query parameter the route does not take with 400: a misspelt filter
// would otherwise be ignored and the answer look right.
func checkRoute(c *fiber.Ctx) error {
	path := c.Path()
	for _, r := range pathRules() {
		if !r.pattern.MatchString(path) {
			continue
		}
		if c.Method() == fiber.MethodOptions {
			return c.Next()
		}
		params, ok := r.query[c.Method()]
		if !ok {
			c.Set(fiber.HeaderAllow, r.allow)
			return errMethodNotAllowed
		}
		var unknown string
		c.Request().URI().QueryArgs().VisitAll(func(k, _ []byte) {
			if unknown == "" && !slices.Contains(params, string(k)) {
				unknown = string(k)
			}
		})
		if unknown != "" {
			return invalidField(unknown, "is not a query parameter of this route")
		}
		return c.Next()
	}
	return c.Next()
}
