package http

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/supermock/engine/projections"
	"github.com/supermock/engine/projections/notifier"
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
	method, path, id, summary string
	access                    access
	request, response         any   // zero values of the types; nil for none
	status                    int   // the success status
	also                      []int // other success statuses, with the same body
	query                     []string
	fresh                     bool // honours X-Min-Position
	command                   bool // answers X-Event-Position; POSTs take Idempotency-Key
	refusals                  []int
	optionalBody              bool
	contentType               string // of a success that is not a response type: text or a free JSON object
	development               bool   // served only with APP_ENV=development: not in production's document
	unlimited                 bool   // no rate limit: the probes
	unavailableBody           bool   // its 503 has the success's shape
}

var operations = []operation{
	{method: "GET", path: "/api/health", id: "getHealth", summary: "Health of the API, the log, the projections and Telegram; 503 while PostgreSQL is down",
		response: healthResponse{}, refusals: []int{503}, unlimited: true, unavailableBody: true},
	{method: "GET", path: "/livez", id: "getLiveness", summary: "200 while the process answers", contentType: fiber.MIMEApplicationJSON, unlimited: true},
	{method: "GET", path: "/readyz", id: "getReadiness", summary: "200 while PostgreSQL answers and every consumer runs, none stuck for a minute; 503 naming what is not ready",
		response: readyResponse{}, refusals: []int{503}, unlimited: true, unavailableBody: true},
	{method: "GET", path: "/api/openapi.json", id: "getOpenAPIDocument", summary: "This document", contentType: fiber.MIMEApplicationJSON},
	{method: "GET", path: "/api/docs", id: "getDocs", summary: "This document as a web page", contentType: fiber.MIMETextHTMLCharsetUTF8},
	{method: "GET", path: "/api/docs/:file", id: "getDocsAsset", summary: "The docs page's script (docs.js) and styles (docs.css)",
		contentType: "text/javascript; charset=utf-8, text/css; charset=utf-8", refusals: []int{404}},
	{method: "GET", path: "/api/professions", id: "listProfessions", summary: "Professions: slugs and labels", response: professionsResponse{}},
	{method: "POST", path: "/api/auth/telegram", id: "loginWithWidget", summary: "Log in with the Telegram Login Widget's fields (201 on the first login)",
		request: widgetRequest{}, response: loginResponse{}, also: []int{201}, refusals: []int{400, 401, 403, 415, 503}},
	{method: "POST", path: "/api/auth/webapp", id: "loginWithWebApp", summary: "Log in with a Telegram WebApp's initData (201 on the first login)",
		request: webAppRequest{}, response: loginResponse{}, also: []int{201}, refusals: []int{400, 401, 403, 415, 503}},
	{method: "POST", path: "/api/auth/dev", id: "loginAsDeveloper", summary: "Log in as any Telegram id (201 on the first login); 404 unless APP_ENV=development",
		request: devLoginRequest{}, response: loginResponse{}, also: []int{201}, refusals: []int{400, 403, 404, 415, 503}, development: true},
	{method: "POST", path: "/api/auth/logout", id: "logout", summary: "Log out: the session's token is refused from now on, on every replica, and the cookie is deleted (204, with a session or without)",
		status: 204, refusals: []int{403, 503}},
	{method: "GET", path: "/api/me", id: "getMe", summary: "My profile, professions and form", access: user, response: projections.Profile{}, fresh: true, refusals: []int{404}},
	{method: "PUT", path: "/api/me", id: "updateProfile", summary: "Change my names or timezone (IANA)", access: user, request: profileRequest{}, response: projections.Profile{}, command: true},
	{method: "PUT", path: "/api/me/professions", id: "selectProfessions", summary: "Select my professions", access: user, request: professionsRequest{}, response: projections.Profile{}, command: true},
	{method: "PUT", path: "/api/me/form", id: "submitForm", summary: "Submit my questionnaire", access: user, request: formRequest{}, response: projections.Profile{}, command: true},
	{method: "DELETE", path: "/api/me", id: "eraseMe", summary: `Erase my personal data for good ({"confirm":"erase my data"}, else 400 erasure-not-confirmed): my data key is deleted, my sessions end, my events stay with their personal fields unreadable`,
		access: user, request: eraseRequest{}, response: erasureResponse{}, command: true},
	{method: "GET", path: "/api/me/export", id: "exportMe", summary: "Everything the engine holds about me: my streams' and my interviews' events, decrypted (others' personal fields null), and my rows of the read tables",
		access: user, response: exportResponse{}, fresh: true},
	{method: "POST", path: "/api/queue", id: "joinQueue", summary: "Join the queue (201)", access: user, request: joinRequest{}, response: projections.Entry{},
		status: 201, command: true},
	{method: "GET", path: "/api/queue", id: "listQueueEntries", summary: "My queue entries", access: user, response: entriesResponse{}, query: []string{"status"}, fresh: true},
	{method: "GET", path: "/api/queue/stats", id: "getQueueStats", summary: "Waiting entries that still fit an interview, by profession, language and role",
		access: user, response: statsResponse{}, query: []string{"profession", "language"}, fresh: true},
	{method: "DELETE", path: "/api/queue/:id", id: "leaveQueue", summary: "Leave the queue", access: user, response: projections.Entry{}, command: true, refusals: []int{404}},
	{method: "GET", path: "/api/slots", id: "listSlots", summary: "UTC hours of the next 14 days at which a waiting counterpart can take an interview",
		access: user, response: slotsResponse{}, query: []string{"role", "profession", "language"}, fresh: true},
	{method: "GET", path: "/api/interviews", id: "listInterviews", summary: "My interviews, the latest scheduled first", access: user, response: projections.InterviewPage{}, query: []string{"limit", "after"}, fresh: true},
	{method: "GET", path: "/api/interviews/:id", id: "getInterview", summary: "One of my interviews", access: user, response: projections.Interview{}, fresh: true, refusals: []int{404}},
	{method: "POST", path: "/api/interviews/:id/start", id: "startInterview", summary: "Start (from 10 minutes before)", access: user, response: projections.Interview{}, command: true, refusals: []int{403, 404}},
	{method: "POST", path: "/api/interviews/:id/complete", id: "completeInterview", summary: "Complete a started interview", access: user, response: projections.Interview{}, command: true, refusals: []int{403, 404}},
	{method: "POST", path: "/api/interviews/:id/cancel", id: "cancelInterview", summary: "Cancel before completion; the other side is requeued when it fits",
		access: user, request: cancelRequest{}, optionalBody: true, response: projections.Interview{}, command: true, refusals: []int{403, 404}},
	{method: "POST", path: "/api/interviews/:id/no-show", id: "reportNoShow", summary: "Report the other side absent (from 10 minutes after the start)",
		access: user, response: projections.Interview{}, command: true, refusals: []int{403, 404}},
	{method: "POST", path: "/api/interviews/:id/feedback", id: "submitFeedback", summary: "Give feedback after completion, once", access: user,
		request: feedbackRequest{}, response: projections.Interview{}, command: true, refusals: []int{403, 404}},
	{method: "GET", path: "/api/notifications", id: "listNotifications", summary: "My inbox, newest first", access: user, response: projections.InboxPage{},
		query: []string{"unread", "limit", "after"}, fresh: true},
	{method: "POST", path: "/api/notifications/:id/read", id: "markNotificationRead", summary: "Mark a message read", access: user, response: projections.Notification{}, command: true, fresh: true, refusals: []int{404}},
	{method: "GET", path: "/api/stream", id: "streamEvents", summary: "My news as Server-Sent Events, as they are committed: each event's id is a log cursor, its event a kind (queue.matched, interview.scheduled, notification.received…) and its data the resource in the shape of its GET; Last-Event-ID (or after) resumes exactly; a ready event once live, a heartbeat comment every 15 s; 5 streams per user (429 too-many-streams)",
		access: user, query: []string{"after"}, contentType: "text/event-stream", refusals: []int{400}},
	{method: "GET", path: "/api/admin/projections", id: "listProjections", summary: "Every projection's position, lag, last error and rebuild progress, by name",
		access: admin, response: projectionsResponse{}, query: []string{"limit", "after"}, refusals: []int{400}},
	{method: "GET", path: "/api/admin/consumers", id: "listConsumers", summary: "Every consumer of the process (projections, matchmaker, notifier's consumer, scheduler and sender, expiry): position, lag, last error, running, stuck; by name",
		access: admin, response: consumersResponse{}, query: []string{"limit", "after"}, refusals: []int{400}},
	{method: "GET", path: "/api/admin/events", id: "replayEvents", summary: "Replay the log as NDJSON (or format=csv, or format=parquet: a zip of one Parquet file per event type), filtered, in log order; a stream, not a page: resume with after, the position of the last line",
		access: admin, query: []string{"after", "since", "until", "type", "stream", "format"}, contentType: "application/x-ndjson, text/csv; charset=utf-8, application/zip", refusals: []int{400}},
	{method: "POST", path: "/api/admin/projections/:name/rebuild", id: "rebuildProjection", summary: "Rebuild a projection (name all: every one, reading the log once) from position zero in the background (202; 200 if already done); reads go on",
		access: admin, response: rebuildResponse{}, status: 202, also: []int{200}, refusals: []int{404, 409}},
	{method: "GET", path: "/api/admin/streams/:id", id: "getStream", summary: "A page of one stream's events in version order", access: admin,
		response: streamResponse{}, query: []string{"limit", "after"}, refusals: []int{400, 404}},
	{method: "GET", path: "/api/admin/projections/stream", id: "streamProjectionStatus", summary: "Server-Sent Events: a \"status\" event with the consumers and the projections (as the two list routes give them, with any rebuild's progress) at once and whenever it changes",
		access: admin, contentType: "text/event-stream"},
	{method: "GET", path: "/api/admin/queue", id: "getAdminQueue", summary: "Waiting entries by profession, language and role with the oldest wait, a page of the entries expiring within 2 h (limit, after, next), matches per hour of the last days (1–31, default 7)",
		access: admin, response: adminQueueResponse{}, query: []string{"days", "limit", "after"}, refusals: []int{400}},
	{method: "GET", path: "/api/admin/interviews", id: "getAdminInterviews", summary: "Interviews scheduled from from until until (today UTC and a week by default) by status with a page of them (after, next), and a page of the no-shows of the 30 days before (no_shows_after, no_shows_next)",
		access: admin, response: projections.Schedule{}, query: []string{"from", "until", "limit", "after", "no_shows_after"}, refusals: []int{400}},
	{method: "GET", path: "/api/admin/notifications", id: "listFailedDeliveries", summary: "Outbox messages of the delivery statuses asked (failed and unknown by default) with Telegram's error, latest first, counted by kind",
		access: admin, response: notifier.Deliveries{}, query: []string{"delivery", "limit", "after"}, refusals: []int{400}},
	{method: "GET", path: "/api/admin/users", id: "findUsers", summary: "Users by telegram_id or username, each with their profile and the streams about them, the first registered first",
		access: admin, response: foundUsers{}, query: []string{"telegram_id", "username", "limit", "after"}, refusals: []int{400}},
	{method: "POST", path: "/api/admin/users/:id/erase", id: "eraseUser", summary: "Erase a user's personal data for good, as DELETE /api/me does", access: admin,
		response: erasureResponse{}, refusals: []int{404}},
}

// queryParams describe the query parameters by name; a name means the same on every
// route that takes it.
var queryParams = map[string]map[string]any{
	"limit": {"description": "rows of the page", "schema": map[string]any{"type": "integer",
		"minimum": 1, "maximum": maxPageLimit, "default": defaultPageLimit}},
	"after": {"description": "next of the previous page; a log cursor (X-Event-Position, a line's position) on the replay and the stream",
		"schema": map[string]any{"type": "string"}, "example": "MTc5NjE1MTY5MzAwMDAwMC4wMWEy"},
	"no_shows_after": {"description": "no_shows_next of the previous page: pages the no-shows, as after pages the interviews",
		"schema": map[string]any{"type": "string"}},
	"unread":     {"description": "only the unread messages", "schema": map[string]any{"type": "boolean"}},
	"status":     {"description": "only the entries in this state", "schema": map[string]any{"$ref": "#/components/schemas/EntryStatus"}},
	"profession": {"description": "only this profession (the form's by default on slots)", "schema": map[string]any{"$ref": "#/components/schemas/Profession"}},
	"language":   {"description": "only this ISO 639-1 language (the form's by default on slots)", "schema": map[string]any{"$ref": "#/components/schemas/Language"}},
	"role":       {"description": "the role I would take (my preferred one by default)", "schema": map[string]any{"$ref": "#/components/schemas/InterviewRole"}},
	"since":      {"description": "events that occurred at or after this time (RFC 3339, or a date: its midnight UTC)", "schema": map[string]any{"type": "string"}},
	"until":      {"description": "before this time (events: occurred; interviews: scheduled; RFC 3339, or for events a date: its midnight UTC)", "schema": map[string]any{"type": "string"}},
	"from":       {"description": "interviews scheduled at or after this time", "schema": map[string]any{"type": "string", "format": "date-time"}},
	"days":       {"description": "days of matches to count, back from now", "schema": map[string]any{"type": "integer", "minimum": 1, "maximum": 31, "default": 7}},
	"delivery": {"description": "delivery statuses, repeatable or comma-separated", "schema": map[string]any{"type": "string"},
		"example": "failed,unknown"},
	"telegram_id": {"description": "a Telegram user id", "schema": map[string]any{"type": "integer", "minimum": 1}},
	"username":    {"description": "a Telegram username, with or without @, any case", "schema": map[string]any{"type": "string"}},
	"type":        {"description": "event types, repeatable or comma-separated", "schema": map[string]any{"type": "string"}, "example": "QueueJoined,MatchMade"},
	"stream":      {"description": "stream ids, repeatable or comma-separated", "schema": map[string]any{"type": "string"}},
	"format":      {"description": "ndjson (the default), csv, or parquet (a zip of one file per event type)", "schema": map[string]any{"type": "string", "enum": []string{"ndjson", "csv", "parquet"}}},
}

// requestExamples are what a client sends, shown beside each request body.
var requestExamples = map[string]any{
	"joinRequest": map[string]any{"role": "candidate", "profession": "backend-developer", "language": "en",
		"window_start": "2026-12-02T18:00:00.000Z", "window_end": "2026-12-02T21:00:00.000Z"},
	"formRequest": map[string]any{"profession": "backend-developer", "country": "DE", "experience": "3-5",
		"language": "en", "email": "ada@example.org", "tools": []string{"Go", "PostgreSQL"}},
	"professionsRequest": map[string]any{"professions": []string{"backend-developer", "devops-engineer"}},
	"profileRequest":     map[string]any{"first_name": "Ada", "timezone": "Europe/Berlin"},
	"feedbackRequest":    map[string]any{"rating": 5, "skills": map[string]int{"algorithms": 4, "communication": 5}, "comment": "Clear and kind."},
	"cancelRequest":      map[string]any{"reason": "ill today"},
	"eraseRequest":       map[string]any{"confirm": "erase my data"},
	"devLoginRequest":    map[string]any{"telegram_id": 4242, "username": "ada"},
	"widgetRequest": map[string]any{"id": 4242, "first_name": "Ada", "username": "ada", "auth_date": 1796151693,
		"hash": "5f0c2a…"},
	"webAppRequest": map[string]any{"init_data": "query_id=…&user=…&auth_date=…&hash=…"},
}

// tags group the operations in the document and on the docs page, by the path's
// first part after /api/.
var tags = []struct{ name, path, description string }{
	{"auth", "/api/auth/", "Logging in and out: a token in the answer and the sm_sess cookie"},
	{"profile", "/api/me", "My profile, professions and questionnaire"},
	{"profile", "/api/professions", ""},
	{"queue", "/api/queue", "Joining and leaving the queue; what is waiting"},
	{"queue", "/api/slots", ""},
	{"interviews", "/api/interviews", "My interviews and their lifecycle"},
	{"notifications", "/api/notifications", "My inbox"},
	{"stream", "/api/stream", "My news as it happens (Server-Sent Events)"},
	{"admin", "/api/admin/", "Consumers, projections, rebuilds and the log; admins only"},
	{"system", "", "Health, readiness and this document"}, // every other path
}

func tagOf(path string) string {
	for _, t := range tags {
		if t.path != "" && strings.HasPrefix(path, t.path) {
			return t.name
		}
	}
	return "system"
}

// widgetRequest documents the Login Widget's fields; the handler keeps any other
// field too, since the hash covers every field Telegram sends.
type widgetRequest struct {
	ID        widgetNumber `json:"id" required:"true"`
	FirstName string       `json:"first_name"`
	LastName  string       `json:"last_name"`
	Username  string       `json:"username"`
	PhotoURL  string       `json:"photo_url"`
	AuthDate  widgetNumber `json:"auth_date" required:"true"`
	Hash      string       `json:"hash" required:"true"`
}

// widgetNumber is a number of the widget's fields, which a page may pass on as a
// string of digits as well.
type widgetNumber int64

var errorDescriptions = map[int]string{
	400: "bad input: malformed-json, invalid-request, bad-cursor, unknown-event-type (the known ones are listed), or a domain rule on the input; fields names every wrong field",
	401: "unauthorized, token-expired, token-invalid, session-ended (logged out), telegram-hash-invalid, telegram-auth-expired",
	403: "forbidden (admins only), user-erased (a login or a command of an erased account), interview-not-participant, or cross-site-refused (a state change on the cookie without JSON or the web app's Origin)",
	404: "not found, or not yours",
	409: "conflict with the current state, concurrent-modification, idempotency-key-in-use",
	413: "body-too-large (64 KiB)",
	415: "unsupported-media-type: send application/json",
	422: "idempotency-key-reused",
	429: "rate-limited (RATE_LIMIT_MAX_REQUESTS per RATE_LIMIT_WINDOW_MS, per user or IP, per process), or too-many-waits, or too-many-streams",
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
	var tagList []any
	for _, t := range tags {
		if t.description != "" {
			tagList = append(tagList, map[string]any{"name": t.name, "description": t.description})
		}
	}
	doc := map[string]any{
		"openapi": "3.0.3",
		"info":    map[string]any{"title": "SuperMock engine API", "version": "1", "description": apiDescription},
		"servers": []any{map[string]any{"url": "/", "description": "the server that serves this document"}},
		"tags":    tagList,
		"paths":   paths,
		"components": map[string]any{
			"schemas": s,
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
					"description": "the token of a login's answer"},
				"cookie": map[string]any{"type": "apiKey", "in": "cookie", "name": sessionCookie,
					"description": "the HttpOnly cookie a login sets; state changes on it need Content-Type: application/json or the web app's Origin"},
			},
		},
	}
	out, err := json.Marshal(doc)
	if err != nil {
		panic(err) // maps of plain values always marshal
	}
	return out
}

const apiDescription = "The engine's JSON API. Every read of a session shows that session's own writes, on any replica " +
	"(it waits up to 3 s, then answers X-Projection-Lag: true). Commands answer the resource they changed and " +
	"X-Event-Position; X-Min-Position on a read waits for that cursor. Errors are " +
	"{\"error\":{\"code\",\"message\",\"fields\",\"request_id\"}}, fields naming every wrong field of a body. " +
	"Lists take limit (1–200, 50) and after, and answer next (null on the last page). Times are RFC 3339 in UTC " +
	"with milliseconds, such as 2026-12-01T18:00:00.000Z."

const jsonContent = fiber.MIMEApplicationJSON

func (op operation) document(s schemas, errorRef map[string]any) map[string]any {
	o := map[string]any{"summary": op.summary, "operationId": op.id, "tags": []string{tagOf(op.path)}}
	var params []any
	for _, m := range pathParam.FindAllStringSubmatch(op.path, -1) {
		schema := map[string]any{"type": "string"}
		if m[1] == "id" && !strings.HasPrefix(op.path, "/api/admin/") {
			schema = s.ref(uuid.UUID{})
		}
		params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": schema})
	}
	for _, q := range op.query {
		p, ok := queryParams[q]
		if !ok {
			panic("openapi: no description of the query parameter " + q)
		}
		param := map[string]any{"name": q, "in": "query"}
		for k, v := range p {
			param[k] = v
		}
		params = append(params, param)
	}
	if op.fresh {
		params = append(params, map[string]any{"name": headerMinPosition, "in": "header", "schema": map[string]any{"type": "string"},
			"description": "a cursor from X-Event-Position: wait until the read tables have passed it"})
	}
	if op.contentType == "text/event-stream" {
		params = append(params, map[string]any{"name": "Last-Event-ID", "in": "header", "schema": map[string]any{"type": "string"},
			"description": "the id of the last event received: the stream resumes after it, nothing missed, nothing twice"})
	}
	if op.command && op.method == fiber.MethodPost {
		params = append(params, map[string]any{"name": headerIdempotencyKey, "in": "header",
			"schema":      map[string]any{"type": "string", "minLength": 1, "maxLength": maxIdempotencyKey, "pattern": `^[\x20-\x7E]+$`},
			"description": "printable ASCII; a retry with the same key within 24 h gets the first answer, which names the resource's id only"})
	}
	if len(params) > 0 {
		o["parameters"] = params
	}
	if op.request != nil {
		media := map[string]any{"schema": s.ref(op.request)}
		if ex, ok := requestExamples[reflect.TypeOf(op.request).Name()]; ok {
			media["example"] = ex
		}
		o["requestBody"] = map[string]any{"required": !op.optionalBody, "content": map[string]any{jsonContent: media}}
	}
	ok := map[string]any{"description": "success"}
	switch {
	case op.contentType != "" && op.contentType != jsonContent:
		content := map[string]any{}
		for _, t := range strings.Split(op.contentType, ", ") {
			content[t] = map[string]any{"schema": map[string]any{"type": "string"}}
		}
		ok["content"] = content
	case op.contentType != "":
		ok["content"] = map[string]any{op.contentType: map[string]any{"schema": map[string]any{"type": "object"}}}
	case op.response != nil && op.command && op.method == fiber.MethodPost:
		ok["content"] = map[string]any{jsonContent: map[string]any{"schema": map[string]any{
			"oneOf": []any{s.ref(op.response), s.ref(acceptedResponse{})}}}}
		ok["description"] = "success: the resource, or with an Idempotency-Key only its id"
	case op.response != nil:
		ok["content"] = map[string]any{jsonContent: map[string]any{"schema": s.ref(op.response)}}
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
	for _, also := range op.also {
		responses[strconv.Itoa(also)] = ok
	}
	if op.command {
		responses["202"] = map[string]any{"description": "done, but the read tables did not show it within 3 s (X-Projection-Lag: true): the body names the resource",
			"content": map[string]any{jsonContent: map[string]any{"schema": s.ref(acceptedResponse{})}}}
	}
	o["x-access"] = op.access.String()
	refusals := append([]int{500}, op.refusals...)
	if op.access == public {
		o["security"] = []any{}
	} else {
		// Every route behind a login reads the database.
		refusals = append(refusals, 401, 503)
		o["security"] = []any{map[string]any{"bearer": []any{}}, map[string]any{"cookie": []any{}}}
	}
	if !op.unlimited {
		refusals = append(refusals, 429)
	}
	if op.access == admin {
		refusals = append(refusals, 403)
	}
	if op.command {
		// An erased account's commands, and cookie commands from another site, are 403.
		refusals = append(refusals, 400, 403, 409, 413)
		if op.request != nil {
			refusals = append(refusals, 415)
		}
		if op.method == fiber.MethodPost {
			refusals = append(refusals, 422)
		}
	}
	if op.fresh || len(op.query) > 0 {
		refusals = append(refusals, 400)
	}
	for _, code := range refusals {
		body := errorRef
		if code == fiber.StatusServiceUnavailable && op.unavailableBody {
			body = s.ref(op.response)
		}
		refusal := map[string]any{"description": errorDescriptions[code],
			"content": map[string]any{jsonContent: map[string]any{"schema": body}}}
		if code == fiber.StatusTooManyRequests || code == fiber.StatusServiceUnavailable {
			refusal["headers"] = map[string]any{fiber.HeaderRetryAfter: map[string]any{"schema": map[string]any{"type": "integer"},
				"description": "seconds to wait before trying again"}}
		}
		responses[strconv.Itoa(code)] = refusal
	}
	o["responses"] = responses
	return o
}

func (s *server) openAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(openAPIDocuments[s.Config.IsProduction()]())
}
