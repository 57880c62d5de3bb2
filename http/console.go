package http

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"

	"github.com/supermock/engine/internal/config"
)

// consoleFiles are the admin console: one page, its style, its scripts and its labels,
// served from the binary with no build step and nothing from elsewhere.
//
//go:embed console
var consoleFiles embed.FS

// consolePages are the console's pages in the order of its menu; each has a script
// console/<page>.js.
var consolePages = []string{"consumers", "queue", "interviews", "notifications", "find", "replay"}

// consoleLanguages are the languages of the labels; the first is the default.
var consoleLanguages = []string{"en", "ru"}

var consoleTemplate = template.Must(template.ParseFS(consoleFiles, "console/page.html"))

// consoleLabels are the labels by language, then key.
var consoleLabels = sync.OnceValue(func() map[string]map[string]string {
	raw, err := consoleFiles.ReadFile("console/labels.json")
	if err != nil {
		panic(err) // embedded
	}
	var out map[string]map[string]string
	if err := json.Unmarshal(raw, &out); err != nil {
		panic("console/labels.json: " + err.Error())
	}
	return out
})

// consolePage is what the page template shows: the console for an admin, the login
// page for whoever has no session, a refusal for a user who is not an admin.
type consolePage struct {
	State       string // console, login or forbidden
	Lang        string
	Labels      map[string]string
	Pages       []string
	Who         string
	DevLogin    bool
	BotUsername string
	AuthURL     string
}

// T is the label of key in the page's language.
func (p consolePage) T(key string) string {
	if l, ok := p.Labels[key]; ok {
		return l
	}
	return key
}

// console serves the admin console under /admin: the page, whose content depends on
// the caller's session, and its assets, which are the same for everyone. It is mounted
// with Use, as a file server is, so it is not an operation of the API's document.
func (s *server) console(c *fiber.Ctx) error {
	if c.Method() != fiber.MethodGet && c.Method() != fiber.MethodHead {
		return c.Next()
	}
	switch p := c.Path(); {
	case p == "/admin" || p == "/admin/":
		return s.consoleHTML(c)
	case strings.HasPrefix(p, "/admin/assets/"):
		return consoleAsset(c, strings.TrimPrefix(p, "/admin/assets/"))
	}
	return c.Next()
}

func (s *server) consoleHTML(c *fiber.Ctx) error {
	lang := pickLanguage(c.Get(fiber.HeaderAcceptLanguage), consoleLanguages)
	page := consolePage{State: "console", Lang: lang, Labels: consoleLabels()[lang], Pages: consolePages}
	status := fiber.StatusOK
	sess, _, err := s.sessionFrom(c)
	switch {
	case err != nil && classify(err).status >= fiber.StatusInternalServerError:
		return err
	case err != nil:
		page.State, status = "login", fiber.StatusUnauthorized
		page.DevLogin = s.Config.AppEnv == config.Development
		if s.Config.BotUsername != "" && s.Config.TelegramToken != "" {
			base := strings.TrimSuffix(s.Config.BackendURL, "/")
			if base == "" {
				base = c.BaseURL()
			}
			page.BotUsername, page.AuthURL = s.Config.BotUsername, base+"/admin"
		}
	default:
		u, err := s.Service.LoadUser(c.UserContext(), sess.UserID)
		if err != nil {
			return err
		}
		page.Who = u.Username()
		if page.Who == "" {
			page.Who = strconv.FormatInt(sess.TelegramID, 10)
		}
		if !s.admins[sess.TelegramID] {
			page.State, status = "forbidden", fiber.StatusForbidden
		}
	}
	var out bytes.Buffer
	if err := consoleTemplate.Execute(&out, page); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentSecurityPolicy, consolePolicy(page.BotUsername != ""))
	c.Set(fiber.HeaderContentLanguage, lang)
	c.Set(fiber.HeaderVary, fiber.HeaderAcceptLanguage+", "+fiber.HeaderCookie)
	c.Type("html", "utf-8")
	return c.Status(status).Send(out.Bytes())
}

// consolePolicy lets the page load only the engine's own files and talk only to the
// engine; the login page with the Telegram Login Widget also loads Telegram's script,
// and its frame, from telegram.org.
func consolePolicy(widget bool) string {
	script, frame := "'self'", "'none'"
	if widget {
		script, frame = "'self' https://telegram.org", "https://oauth.telegram.org"
	}
	return "default-src 'none'; script-src " + script + "; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
		"frame-src " + frame + "; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
}

var errAssetNotFound = newError(fiber.StatusNotFound, "not-found", "no such file of the console")

func consoleAsset(c *fiber.Ctx, name string) error {
	if name == "page.html" || name == "labels.json" || strings.Contains(name, "/") {
		return errAssetNotFound
	}
	body, err := consoleFiles.ReadFile("console/" + name)
	if errors.Is(err, fs.ErrNotExist) {
		return errAssetNotFound
	}
	if err != nil {
		return err
	}
	c.Type(strings.TrimPrefix(path.Ext(name), "."), "utf-8")
	return c.Send(body)
}

// pickLanguage chooses among offered the language the Accept-Language header weighs
// most (its primary subtag: ru-RU is ru), the first offered when it names none.
func pickLanguage(header string, offered []string) string {
	type weighed struct {
		lang string
		q    float64
	}
	var langs []weighed
	for i, part := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		primary, _, _ := strings.Cut(strings.ToLower(tag), "-")
		// Order breaks ties: the earlier of two equal weights wins.
		langs = append(langs, weighed{lang: primary, q: q - float64(i)*1e-6})
	}
	sort.SliceStable(langs, func(i, j int) bool { return langs[i].q > langs[j].q })
	for _, l := range langs {
		for _, o := range offered {
			if l.q > 0 && l.lang == o {
				return o
			}
		}
	}
	return offered[0]
}
