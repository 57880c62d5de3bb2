package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
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
func healthcheck(ctx context.Context, arg string, getenv func(string) string, stdout io.Writer) error {
	target, err := healthURL(arg, getenv)
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

// healthcheckCommand takes one optional argument, an http(s) URL to ask instead.
func healthcheckCommand(*flag.FlagSet) func([]string) (body, error) {
	return func(args []string) (body, error) {
		var arg string
		switch len(args) {
		case 0:
		case 1:
			u, err := url.Parse(args[0])
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return nil, fmt.Errorf("%q is not an http(s) URL", args[0])
			}
			arg = args[0]
		default:
			return nil, errors.New("one URL at most")
		}
		return func(ctx context.Context, e *runEnv) error { return healthcheck(ctx, arg, e.getenv, e.stdout) }, nil
	}
}

// healthURL is the URL given as the argument, or the health route of the engine on
// this machine at PORT.
func healthURL(arg string, getenv func(string) string) (string, error) {
	if arg != "" {
		return arg, nil
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
