package http

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"

	"github.com/supermock/engine/projections"
)

// access says who may call an operation.
type access int

const (
	public access = iota
	user
	admin
)

// String names the access in the document's x-access extension.
func (a access) String() string { return [...]string{"public", "user", "admin"}[a] }

// operation documents one route. The route table in routes.go registers handlers, this
// one describes them; a test holds the two equal.
type operation struct {
	method, path, summary string
	access                access
	request, response     any // zero values of the types; nil for none
	status                int // the success status
	query                 []string
	fresh                 bool // honours X-Min-Position
	command               bool // answers X-Event-Position; POSTs take Idempotency-Key
	refusals              []int
	optionalBody          bool
	contentType           string // of a success that is not a response type: text or a free JSON object
	development           bool   // served only with APP_ENV=development: not in production's document
}

var operations = []operation{
	{method: "GET", path: "/api/health", summary: "Health of the API, the log, the projections and Telegram; 503 while PostgreSQL is down",
		response: healthResponse{}, refusals: []int{503}},
	{method: "GET", path: "/livez", summary: "200 while the process answers", contentType: fiber.MIMEApplicationJSON},
	{method: "GET", path: "/readyz", summary: "200 while PostgreSQL answers and every consumer runs, none stuck for a minute; 503 naming what is not ready",
		response: readyResponse{}, refusals: []int{503}},
	{method: "GET", path: "/api/openapi.json", summary: "This document", contentType: fiber.MIMEApplicationJSON},
	{method: "GET", path: "/api/professions", summary: "Professions: slugs and labels", response: professionsResponse{}},
	{method: "POST", path: "/api/auth/telegram", summary: "Log in with the Telegram Login Widget's fields (201 on the first login)",
		request: widgetRequest{}, response: loginResponse{}, refusals: []int{400, 401, 415, 429, 503}},
	{method: "POST", path: "/api/auth/webapp", summary: "Log in with a Telegram WebApp's initData (201 on the first login)",
		request: webAppRequest{}, response: loginResponse{}, refusals: []int{400, 401, 415, 429, 503}},
	{method: "POST", path: "/api/auth/dev", summary: "Log in as any Telegram id; 404 unless APP_ENV=development",
		request: devLoginRequest{}, response: loginResponse{}, refusals: []int{400, 404, 415, 429, 503}, development: true},
	{method: "POST", path: "/api/auth/logout", summary: "Log out: the session's token is refused from now on, on every replica, and the cookie is deleted (204, with a session or without)",
		status: 204, refusals: []int{403, 429, 503}},
	{method: "GET", path: "/api/me", summary: "My profile, professions and form", access: user, response: projections.Profile{}, fresh: true, refusals: []int{404}},
	{method: "PUT", path: "/api/me", summary: "Change my names or timezone (IANA)", access: user, request: profileRequest{}, response: projections.Profile{}, command: true},
	{method: "PUT", path: "/api/me/professions", summary: "Select my professions", access: user, request: professionsRequest{}, response: projections.Profile{}, command: true},
	{method: "PUT", path: "/api/me/form", summary: "Submit my questionnaire", access: user, request: formRequest{}, response: projections.Profile{}, command: true},
	{method: "DELETE", path: "/api/me", summary: `Erase my personal data for good ({"confirm":"erase my data"}, else 400 erasure-not-confirmed): my data key is deleted, my sessions end, my events stay with their personal fields unreadable`,
		access: user, request: eraseRequest{}, response: erasureResponse{}, command: true},
	{method: "GET", path: "/api/me/export", summary: "Everything the engine holds about me: my streams' and my interviews' events, decrypted (others' personal fields null), and my rows of the read tables",
		access: user, response: exportResponse{}, fresh: true},
	{method: "POST", path: "/api/queue", summary: "Join the queue (201)", access: user, request: joinRequest{}, response: projections.Entry{},
		status: 201, command: true},
	{method: "GET", path: "/api/queue", summary: "My queue entries", access: user, response: entriesResponse{}, query: []string{"status"}, fresh: true},
	{method: "GET", path: "/api/queue/stats", summary: "Waiting entries that still fit an interview, by profession, language and role",
		access: user, response: statsResponse{}, query: []string{"profession", "language"}, fresh: true},
	{method: "DELETE", path: "/api/queue/:id", summary: "Leave the queue", access: user, response: projections.Entry{}, command: true, refusals: []int{404}},
	{method: "GET", path: "/api/slots", summary: "UTC hours of the next 14 days at which a waiting counterpart can take an interview",
		access: user, response: slotsResponse{}, query: []string{"role", "profession", "language"}, fresh: true},
	{method: "GET", path: "/api/interviews", summary: "My interviews", access: user, response: projections.InterviewPage{}, query: []string{"limit", "after"}, fresh: true},
	{method: "GET", path: "/api/interviews/:id", summary: "One of my interviews", access: user, response: projections.Interview{}, fresh: true, refusals: []int{404}},
	{method: "POST", path: "/api/interviews/:id/start", summary: "Start (from 10 minutes before)", access: user, response: projections.Interview{}, command: true, refusals: []int{403, 404}},
	{method: "POST", path: "/api/interviews/:id/complete", summary: "Complete a started interview", access: user, response: projections.Interview{}, command: true, refusals: []int{403, 404}},
	{method: "POST", path: "/api/interviews/:id/cancel", summary: "Cancel before completion; the other side is requeued when it fits",
		access: user, request: cancelRequest{}, optionalBody: true, response: projections.Interview{}, command: true, refusals: []int{403, 404}},
	{method: "POST", path: "/api/interviews/:id/no-show", summary: "Report the other side absent (from 10 minutes after the start)",
		access: user, response: projections.Interview{}, command: true, refusals: []int{403, 404}},
	{method: "POST", path: "/api/interviews/:id/feedback", summary: "Give feedback after completion, once", access: user,
		request: feedbackRequest{}, response: projections.Interview{}, command: true, refusals: []int{403, 404}},
	{method: "GET", path: "/api/notifications", summary: "My inbox, newest first", access: user, response: projections.InboxPage{},
		query: []string{"unread", "limit", "after"}, fresh: true},
	{method: "POST", path: "/api/notifications/:id/read", summary: "Mark a message read", access: user, response: projections.Notification{}, command: true, fresh: true, refusals: []int{404}},
	{method: "GET", path: "/api/admin/projections", summary: "Every projection's position, lag, last error and rebuild progress",
		access: admin, response: projectionsResponse{}},
	{method: "GET", path: "/api/admin/consumers", summary: "Every consumer of the process (projections, matchmaker, notifier's consumer, scheduler and sender, expiry): position, lag, last error, running, stuck",
		access: admin, response: consumersResponse{}},
	{method: "GET", path: "/api/admin/events", summary: "Replay the log as NDJSON (or format=csv), filtered; repeatable and resumable with after",
		access: admin, query: []string{"after", "since", "until", "type", "stream", "format"}, contentType: "application/x-ndjson", refusals: []int{400}},
	{method: "POST", path: "/api/admin/projections/:name/rebuild", summary: "Rebuild a projection from position zero in the background (202; 200 if already done); reads go on",
		access: admin, response: rebuildResponse{}, status: 202, refusals: []int{404, 409}},
	{method: "GET", path: "/api/admin/streams/:id", summary: "One stream's events in version order", access: admin,
		response: streamResponse{}, refusals: []int{404}},
	{method: "POST", path: "/api/admin/users/:id/erase", summary: "Erase a user's personal data for good, as DELETE /api/me does", access: admin,
		response: erasureResponse{}, refusals: []int{404}},
}

// widgetRequest documents the Login Widget's fields; the handler keeps any other
// field too, since the hash covers every field Telegram sends.
type widgetRequest struct {
	ID        int64  `json:"id" required:"true"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Username  string `json:"username"`
	PhotoURL  string `json:"photo_url"`
	AuthDate  int64  `json:"auth_date" required:"true"`
	Hash      string `json:"hash" required:"true"`
}

var errorDescriptions = map[int]string{
	400: "bad input: malformed-json, invalid-request (the field is named), bad-cursor, or a domain rule on the input",
	401: "unauthorized, token-expired, token-invalid, session-ended (logged out), telegram-hash-invalid, telegram-auth-expired",
	403: "forbidden (admins only), interview-not-participant, or cross-site-refused (a state change on the cookie without JSON or the web app's Origin)",
	404: "not found, or not yours",
	409: "conflict with the current state, concurrent-modification, idempotency-key-in-use",
	413: "body-too-large (64 KiB)",
	415: "unsupported-media-type: send application/json",
	422: "idempotency-key-reused",
	429: "rate-limited (RATE_LIMIT_MAX_REQUESTS per RATE_LIMIT_WINDOW_MS, per user or IP, per process)",
	500: "internal: logged with the request id",
	503: "database-unavailable (with Retry-After), or telegram-disabled",
}

var pathParam = regexp.MustCompile(`:([a-z]+)`)

// openAPIDocuments are built once each, by production: production's leaves out what
// only development serves.
var openAPIDocuments = map[bool]func() []byte{
	false: sync.OnceValue(func() []byte { return openAPIDocument(false) }),
	true:  sync.OnceValue(func() []byte { return openAPIDocument(true) }),
}

func openAPIDocument(production bool) []byte {
	s := schemas{}
	errorRef := s.ref(errorBody{})
	paths := map[string]map[string]any{}
	for _, op := range operations {
		if production && op.development {
			continue
		}
		path := pathParam.ReplaceAllString(op.path, "{$1}")
		if paths[path] == nil {
			paths[path] = map[string]any{}
		}
		paths[path][strings.ToLower(op.method)] = op.document(s, errorRef)
	}
	doc := map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": "SuperMock engine API", "version": "1",
			"description": "Commands answer X-Event-Position; queries sent with X-Min-Position wait (3 s at most) for the read tables to pass it, and are marked X-Projection-Lag: true if they did not. Every error is {\"error\":{\"code\",\"message\",\"request_id\"}}."},
		"paths": paths,
		"components": map[string]any{
			"schemas": s,
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
				"cookie": map[string]any{"type": "apiKey", "in": "cookie", "name": sessionCookie},
			},
		},
	}
	out, err := json.Marshal(doc)
	if err != nil {
		panic(err) // maps of plain values always marshal
	}
	return out
}

func (op operation) document(s schemas, errorRef map[string]any) map[string]any {
	o := map[string]any{"summary": op.summary, "operationId": strings.ToLower(op.method) + strings.NewReplacer("/", "_", ":", "", "-", "_", ".", "_").Replace(op.path)}
	var params []any
	for _, m := range pathParam.FindAllStringSubmatch(op.path, -1) {
		params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
	}
	for _, q := range op.query {
		params = append(params, map[string]any{"name": q, "in": "query", "schema": map[string]any{"type": "string"}})
	}
	if op.fresh {
		params = append(params, map[string]any{"name": headerMinPosition, "in": "header", "schema": map[string]any{"type": "string"},
			"description": "a cursor from X-Event-Position: wait until the read tables have passed it"})
	}
	if op.command && op.method == fiber.MethodPost {
		params = append(params, map[string]any{"name": headerIdempotencyKey, "in": "header",
			"schema":      map[string]any{"type": "string", "minLength": 1, "maxLength": maxIdempotencyKey, "pattern": `^[\x20-\x7E]+$`},
			"description": "printable ASCII; a retry with the same key within 24 h gets the first answer"})
	}
	if len(params) > 0 {
		o["parameters"] = params
	}
	if op.request != nil {
		o["requestBody"] = map[string]any{"required": !op.optionalBody,
			"content": map[string]any{fiber.MIMEApplicationJSON: map[string]any{"schema": s.ref(op.request)}}}
	}
	response := op.response
	ok := map[string]any{"description": "success"}
	switch {
	case op.contentType == fiber.MIMETextPlain || op.contentType == "application/x-ndjson":
		ok["content"] = map[string]any{op.contentType: map[string]any{"schema": map[string]any{"type": "string"}}}
	case op.contentType != "":
		ok["content"] = map[string]any{op.contentType: map[string]any{"schema": map[string]any{"type": "object"}}}
	case response != nil:
		ok["content"] = map[string]any{fiber.MIMEApplicationJSON: map[string]any{"schema": s.ref(response)}}
	}
	if op.command {
		ok["headers"] = map[string]any{headerEventPosition: map[string]any{"schema": map[string]any{"type": "string"},
			"description": "cursor of the last event the command appended; absent when it changed nothing"}}
	}
	status := op.status
	if status == 0 {
		status = fiber.StatusOK
	}
	responses := map[string]any{strconv.Itoa(status): ok}
	if op.command {
		responses["202"] = map[string]any{"description": "done, but the read tables did not show it within 3 s (X-Projection-Lag: true): the body names the resource",
			"content": map[string]any{fiber.MIMEApplicationJSON: map[string]any{"schema": s.ref(acceptedResponse{})}}}
	}
	o["x-access"] = op.access.String()
	refusals := append([]int{500}, op.refusals...)
	if op.access != public {
		// Every route behind a login reads the database.
		refusals = append(refusals, 401, 503)
		o["security"] = []any{map[string]any{"bearer": []any{}}, map[string]any{"cookie": []any{}}}
	}
	if op.access == admin {
		refusals = append(refusals, 403)
	}
	if op.command {
		refusals = append(refusals, 400, 409, 413, 429)
		if op.request != nil {
			refusals = append(refusals, 415)
		}
		if op.method == fiber.MethodPost {
			refusals = append(refusals, 422)
		}
	}
	if op.fresh {
		refusals = append(refusals, 400)
	}
	for _, code := range refusals {
		responses[strconv.Itoa(code)] = map[string]any{"description": errorDescriptions[code],
			"content": map[string]any{fiber.MIMEApplicationJSON: map[string]any{"schema": errorRef}}}
	}
	o["responses"] = responses
	return o
}

func (s *server) openAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(openAPIDocuments[s.Config.IsProduction()]())
}
