package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	nethttp "net/http"
	"testing"
	"time"
)

// client speaks to an engine over one keep-alive connection pool, as a frontend does.
type client struct {
	t    testing.TB
	base string
	http *nethttp.Client
}

func newClient(t testing.TB, port int) *client {
	return &client{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port), http: &nethttp.Client{Timeout: 30 * time.Second}}
}

// do sends a request; an error is a request that got no answer (the engine is down).
func (c *client) do(method, path, token string, body any) (int, []byte, error) {
	status, raw, _, err := c.command(method, path, token, body)
	return status, raw, err
}

// command is do that also returns the X-Event-Position of the answer.
func (c *client) command(method, path, token string, body any) (int, []byte, string, error) {
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	req, err := nethttp.NewRequest(method, c.base+path, r)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, resp.Header.Get("X-Event-Position"), err
}

// must sends a request that has to be answered with status.
func (c *client) must(status int, method, path, token string, body any, out any) {
	c.t.Helper()
	got, raw, err := c.do(method, path, token, body)
	if err != nil || got != status {
		c.t.Fatalf("%s %s: %d %s (%v), want %d", method, path, got, raw, err, status)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			c.t.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	}
}

// login logs in through the development login and returns the session token and user id.
func (c *client) login(telegramID int64) (token, userID string, err error) {
	status, raw, err := c.do("POST", "/api/auth/dev", "", map[string]any{"telegram_id": telegramID, "username": fmt.Sprintf("u%d", telegramID)})
	if err != nil {
		return "", "", err
	}
	if status != 200 && status != 201 {
		return "", "", fmt.Errorf("dev login: %d %s", status, raw)
	}
	var l struct {
		Token string `json:"token"`
		User  struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	if err := json.Unmarshal(raw, &l); err != nil {
		return "", "", err
	}
	return l.Token, l.User.ID, nil
}

// joinBody is a join request for a two-hour window from start.
func joinBody(role string, start time.Time) map[string]any {
	return map[string]any{"role": role, "profession": "backend-developer", "language": "en",
		"window_start": start.UTC().Format(time.RFC3339), "window_end": start.Add(2 * time.Hour).UTC().Format(time.RFC3339)}
}
