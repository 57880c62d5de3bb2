package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/supermock/engine/internal/config"
)

const (
	// healthTimeout stays under the container health check's 10 s timeout, and above
	// the 2 s the API gives PostgreSQL to answer.
	healthTimeout = 5 * time.Second
)

// healthcheck asks a running engine whether it is healthy and fails unless it answers
// 200 with "status":"ok". It is Docker's HEALTHCHECK: the runtime image has no shell and
// no curl. It reads only PORT, never the whole configuration, so a missing secret
// cannot make a healthy server look sick.
func healthcheck(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	target, err := healthURL(args, getenv)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	// No proxy from the environment and no kept connection: one direct question.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return fmt.Errorf("healthcheck: read the answer of %s: %w", target, err)
	}
	var health struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(body, &health); err != nil || resp.StatusCode != http.StatusOK || health.Status != "ok" {
		return fmt.Errorf("healthcheck: %s answered %d: %s", target, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	fmt.Fprintf(stdout, "healthy: %s\n", strings.TrimSpace(string(body)))
	return nil
}

// healthURL is the URL given as the one optional argument, or the health route of the
// engine on this machine at PORT.
func healthURL(args []string, getenv func(string) string) (string, error) {
	switch len(args) {
	case 0:
	case 1:
		u, err := url.Parse(args[0])
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", fmt.Errorf("healthcheck: %q is not an http(s) URL", args[0])
		}
		return args[0], nil
	default:
		return "", errors.New("healthcheck: usage: supermock healthcheck [url]")
	}
	port := config.DefaultPort
	if raw := strings.TrimSpace(getenv("PORT")); raw != "" {
		n, err := config.ParsePort(raw)
		if err != nil {
			return "", fmt.Errorf("healthcheck: PORT %w", err)
		}
		port = n
	}
	return "http://127.0.0.1:" + strconv.Itoa(port) + "/api/health", nil
}
