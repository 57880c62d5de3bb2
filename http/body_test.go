package http_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// rawRequest writes head (request line and headers, without the blank line) and then
// whatever body writes, on a connection of its own, and reads the answer; a server
// that answers before the body is sent may close the connection under the writer.
func (e *env) rawRequest(head string, body func(io.Writer)) response {
	e.t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.base, "http://"))
	if err != nil {
		e.t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	go func() {
		w := bufio.NewWriter(conn)
		_, _ = io.WriteString(w, head+"\r\n\r\n")
		if body != nil {
			body(w)
		}
		_ = w.Flush()
	}()
	resp, err := nethttp.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		e.t.Fatalf("%s: %v", strings.SplitN(head, "\r\n", 2)[0], err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: out}
}

// A compressed body is refused before anything inflates it, an oversized one before it
// is read past the limit: a compression bomb does not grow the server. Not parallel, so
// that the memory the test process allocates meanwhile is the server's.
func TestBodiesAreBoundedAfterDecoding(t *testing.T) {
	e := start(t, options{})
	l := e.loginDev(1001)
	bomb, err := os.ReadFile("testdata/bomb-256MiB.gz.gz") // 256 MiB of zeros, gzipped twice
	if err != nil {
		t.Fatal(err)
	}
	if len(bomb) != 590 {
		t.Fatalf("the bomb is %d bytes", len(bomb))
	}
	oneLayer, err := os.ReadFile("testdata/zeros-16MiB.gz") // 16 MiB of zeros, gzipped once
	if err != nil {
		t.Fatal(err)
	}
	host := "Host: " + strings.TrimPrefix(e.base, "http://")

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	for _, route := range []struct{ method, path, token string }{
		{"POST", "/api/auth/telegram", ""}, {"POST", "/api/auth/webapp", ""}, {"POST", "/api/auth/dev", ""},
		{"PUT", "/api/me", l.Token}, {"POST", "/api/queue", l.Token},
	} {
		for _, c := range []struct {
			body     []byte
			encoding string
		}{{bomb, "gzip, gzip"}, {bomb, "gzip"}, {oneLayer, "gzip"}, {oneLayer, "deflate"}, {oneLayer, "br"}, {oneLayer, "identity, gzip"}} {
			r := e.call(route.method, route.path, route.token, c.body, "Content-Encoding", c.encoding)
			wantError(t, r, 415, "unsupported-content-encoding")
		}
	}
	huge := fmt.Sprintf("POST /api/auth/telegram HTTP/1.1\r\n%s\r\nContent-Type: application/json\r\nContent-Length: %d", host, 16<<20)
	wantError(t, e.rawRequest(huge, nil), 413, "body-too-large")
	chunked := "POST /api/queue HTTP/1.1\r\n" + host + "\r\nAuthorization: Bearer " + l.Token +
		"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked"
	wantError(t, e.rawRequest(chunked, func(w io.Writer) {
		chunk := bytes.Repeat([]byte(" "), 8<<10)
		for range 2048 { // 16 MiB, if the server read it all
			if _, err := fmt.Fprintf(w, "%x\r\n%s\r\n", len(chunk), chunk); err != nil {
				return
			}
		}
		_, _ = io.WriteString(w, "0\r\n\r\n")
	}), 413, "body-too-large")
	for _, length := range []string{"abc", "-1", "99999999999999999999999"} {
		r := e.rawRequest("POST /api/auth/dev HTTP/1.1\r\n"+host+"\r\nContent-Type: application/json\r\nContent-Length: "+length, nil)
		wantError(t, r, 413, "bad-content-length")
	}

	runtime.ReadMemStats(&after)
	t.Logf("while refusing: %d KiB allocated, heap in use %+d KiB", (after.TotalAlloc-before.TotalAlloc)>>10,
		(int64(after.HeapInuse)-int64(before.HeapInuse))>>10)
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 16<<20 {
		t.Errorf("the test process allocated %d MiB while the server refused the bodies", grown>>20)
	}
	if grown := int64(after.HeapInuse) - int64(before.HeapInuse); grown > 16<<20 {
		t.Errorf("the heap grew by %d MiB", grown>>20)
	}
	// A plain body within the limit still works, on every route that takes one.
	wantDone(t, e.call("PUT", "/api/me", l.Token, map[string]any{"timezone": "UTC"}, "Content-Encoding", "identity"))
}
