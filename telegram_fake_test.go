package main

import (
	"encoding/json"
	"fmt"
	nethttp "net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

const fakeToken = "777:FAKE-token"

// fakeTelegram is a Bot API on loopback that takes every sendMessage and counts each
// (chat, text) it received.
type fakeTelegram struct {
	srv *httptest.Server

	mu   sync.Mutex
	got  map[string]int
	next int
}

func newFakeTelegram(t testing.TB) *fakeTelegram {
	f := &fakeTelegram{got: map[string]int{}}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeTelegram) ServeHTTP(w nethttp.ResponseWriter, r *nethttp.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.URL.Path == "/bot"+fakeToken+"/getMe":
		fmt.Fprint(w, `{"ok":true,"result":{"id":1,"is_bot":true,"first_name":"SuperMock"}}`)
	case r.URL.Path == "/bot"+fakeToken+"/sendMessage":
		var msg struct {
			ChatID int64  `json:"chat_id"`
			Text   string `json:"text"`
		}
		if err := json.NewDecoder(r.Body).Decode(&msg); err != nil {
			w.WriteHeader(400)
			fmt.Fprint(w, `{"ok":false,"error_code":400,"description":"Bad Request"}`)
			return
		}
		f.mu.Lock()
		f.got[fmt.Sprintf("%d\x00%s", msg.ChatID, msg.Text)]++
		f.next++
		id := f.next
		f.mu.Unlock()
		fmt.Fprintf(w, `{"ok":true,"result":{"message_id":%d,"date":0,"chat":{"id":%d,"type":"private"}}}`, id, msg.ChatID)
	default:
		w.WriteHeader(404)
		fmt.Fprint(w, `{"ok":false,"error_code":404,"description":"Not Found"}`)
	}
}

// received counts what each chat received, per text.
func (f *fakeTelegram) received() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.got))
	for k, v := range f.got {
		out[k] = v
	}
	return out
}
