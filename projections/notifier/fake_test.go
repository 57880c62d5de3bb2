package notifier

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// fakeTelegram speaks the Bot API's JSON on loopback: sendMessage and getMe under
// /bot<token>/, 404 for anything else, like Telegram. A test scripts its answers.
type fakeTelegram struct {
	srv *httptest.Server

	mu     sync.Mutex
	got    []received
	probes int
	lastID int64
	// script answers the n-th sendMessage (from 1) of r's chat; nil or a zero reply
	// is a success.
	script func(r received, n int) reply
}

// received is one sendMessage as the fake saw it and answered it.
type received struct {
	ChatID    int64  `json:"chat_id"`
	Text      string `json:"text"`
	NoPreview bool   `json:"disable_web_page_preview"`
	At        time.Time
	Status    int   // the HTTP status answered; 0 for a hang-up
	MessageID int64 // handed out with a success
}

// reply is a scripted answer.
type reply struct {
	status int
	body   string
	hold   <-chan struct{} // answer only once this is closed
	hangUp bool            // drop the connection instead of answering
}

func tooManyRequests(seconds int) reply {
	return reply{status: 429, body: fmt.Sprintf(`{"ok":false,"error_code":429,`+
		`"description":"Too Many Requests: retry after %d","parameters":{"retry_after":%d}}`, seconds, seconds)}
}

func badGateway() reply {
	return reply{status: 502, body: `{"ok":false,"error_code":502,"description":"Bad Gateway"}`}
}

func blockedByUser() reply {
	return reply{status: 403, body: `{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}`}
}

func newFakeTelegram(t *testing.T) *fakeTelegram {
	f := &fakeTelegram{}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeTelegram) setScript(script func(r received, n int) reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script = script
}

func (f *fakeTelegram) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/bot" + testToken + "/getMe":
		f.mu.Lock()
		f.probes++
		f.mu.Unlock()
		fmt.Fprint(w, `{"ok":true,"result":{"id":42,"is_bot":true,"first_name":"SuperMock"}}`)
		return
	case "/bot" + testToken + "/sendMessage":
	default:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"ok":false,"error_code":404,"description":"Not Found"}`)
		return
	}
	var msg received
	if r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&msg) != nil || msg.ChatID == 0 || msg.Text == "" {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"ok":false,"error_code":400,"description":"Bad Request: message text is empty"}`)
		return
	}
	msg.At = time.Now()

	f.mu.Lock()
	n := 1
	for _, g := range f.got {
		if g.ChatID == msg.ChatID {
			n++
		}
	}
	var rep reply
	if f.script != nil {
		rep = f.script(msg, n)
	}
	if rep.status == 0 && !rep.hangUp {
		f.lastID++
		msg.MessageID = f.lastID
		rep.status = http.StatusOK
		rep.body = fmt.Sprintf(`{"ok":true,"result":{"message_id":%d,"date":%d,"chat":{"id":%d,"type":"private"},"text":%q}}`,
			msg.MessageID, msg.At.Unix(), msg.ChatID, msg.Text)
	}
	msg.Status = rep.status
	f.got = append(f.got, msg)
	f.mu.Unlock()

	if rep.hold != nil {
		select {
		case <-rep.hold:
		case <-r.Context().Done():
		}
	}
	if rep.hangUp {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	w.WriteHeader(rep.status)
	fmt.Fprint(w, rep.body)
}

// received lists every sendMessage so far, in arrival order.
func (f *fakeTelegram) received() []received {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]received(nil), f.got...)
}

// delivered lists the messages answered with success, to chat or (chat 0) to anyone.
func (f *fakeTelegram) delivered(chat int64) []received {
	var out []received
	for _, r := range f.received() {
		if r.MessageID != 0 && (chat == 0 || r.ChatID == chat) {
			out = append(out, r)
		}
	}
	return out
}

func (f *fakeTelegram) probeCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.probes
}
