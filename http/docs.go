package http

import (
	"embed"
	"path"

	"github.com/gofiber/fiber/v2"
)

// docsFiles are the docs page: a page, a script that renders /api/openapi.json and
// its styles, all in the binary, nothing from elsewhere at run time.
//
//go:embed docs
var docsFiles embed.FS

// docsAssets are the files the page loads, with their types.
var docsAssets = map[string]string{
	"docs.js":  "text/javascript; charset=utf-8",
	"docs.css": "text/css; charset=utf-8",
}

// docsPolicy lets the page run its own script and styles and read the document; the
// API's answers keep their policy of nothing at all.
const docsPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; frame-ancestors 'none'"

func (s *server) docs(c *fiber.Ctx) error {
	return serveDocsFile(c, "index.html", fiber.MIMETextHTMLCharsetUTF8)
}

func (s *server) docsAsset(c *fiber.Ctx) error {
	name := c.Params("file")
	contentType, ok := docsAssets[name]
	if !ok {
		return errNotFound
	}
	return serveDocsFile(c, name, contentType)
}

func serveDocsFile(c *fiber.Ctx, name, contentType string) error {
	body, err := docsFiles.ReadFile(path.Join("docs", name))
	if err != nil {
		return err // every name served is embedded
	}
	c.Set(fiber.HeaderContentSecurityPolicy, docsPolicy)
	c.Set(fiber.HeaderContentType, contentType)
	return c.Send(body)
}
