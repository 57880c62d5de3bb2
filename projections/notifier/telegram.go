package notifier

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// The outcome of a call that got no answer from Telegram, in two kinds, because
// sendMessage is not idempotent: a request that never left may be sent again freely,
// one that left may have been delivered already.
var (
	// ErrNotSent: the request never reached the wire (DNS, refused connection, TLS).
	ErrNotSent = errors.New("telegram: request not sent")
	// ErrNoAnswer: the request was written but no usable answer came back.
	ErrNoAnswer = errors.New("telegram: request sent, no answer")
)

// APIError is Telegram refusing a call: {"ok":false,"error_code":…}.
type APIError struct {
	Code        int
	Description string
	RetryAfter  time.Duration // set with 429: how long the bot must wait
}

func (e *APIError) Error() string {
	return fmt.Sprintf("telegram: %d %s", e.Code, e.Description)
}

// Telegram calls the Bot API at base (https://api.telegram.org, or a fake in tests).
type Telegram struct {
	base  string
	token string
	http  *http.Client
}

// NewTelegram returns a client; client carries the per-call timeout.
func NewTelegram(base, token string, client *http.Client) *Telegram {
	return &Telegram{base: strings.TrimRight(base, "/"), token: token, http: client}
}

// SendMessage sends text to chatID and returns Telegram's message id.
func (t *Telegram) SendMessage(ctx context.Context, chatID int64, text string) (int64, error) {
	var msg struct {
		MessageID int64 `json:"message_id"`
	}
	err := t.call(ctx, "sendMessage", map[string]any{
		"chat_id": chatID, "text": text, "disable_web_page_preview": true,
	}, &msg)
	if err == nil && msg.MessageID == 0 {
		err = fmt.Errorf("%w: no message_id in the answer", ErrNoAnswer)
	}
	return msg.MessageID, err
}

// GetMe is a harmless call that tells whether Telegram answers at all.
func (t *Telegram) GetMe(ctx context.Context) error {
	return t.call(ctx, "getMe", map[string]any{}, nil)
}

type answer struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

func (t *Telegram) call(ctx context.Context, method string, body, result any) error {
	payload, err := json.Marshal(body)
	if err != nil {
		return err
	}
	var written atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) { written.Store(info.Err == nil) },
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.base+"/bot"+t.token+"/"+method, bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("telegram %s: %w", method, err)
	}
	req.Header.Set("Content-Type", "application/json")
	lost := func(err error) error {
		// url.Error repeats the URL, which holds the token: keep only the cause.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		if written.Load() {
			return fmt.Errorf("%w: %s: %w", ErrNoAnswer, method, err)
		}
		return fmt.Errorf("%w: %s: %w", ErrNotSent, method, err)
	}
	resp, err := t.http.Do(req)
	if err != nil {
		return lost(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var a answer
	if err == nil {
		err = json.Unmarshal(raw, &a)
	}
	switch {
	case err != nil && resp.StatusCode/100 != 2:
		// A proxy's error page: a refusal, not a message taken.
		return &APIError{Code: resp.StatusCode, Description: http.StatusText(resp.StatusCode)}
	case err != nil:
		return lost(err) // a success whose body broke off: it may have been delivered
	case !a.OK:
		code := a.ErrorCode
		if code == 0 {
			code = resp.StatusCode
		}
		return &APIError{Code: code, Description: a.Description,
			RetryAfter: time.Duration(a.Parameters.RetryAfter) * time.Second}
	case result != nil:
		if err := json.Unmarshal(a.Result, result); err != nil {
			return lost(err)
		}
	}
	return nil
}
