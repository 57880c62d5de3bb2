package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	nethttp "net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/supermock/engine/internal/pglocal"
	"github.com/supermock/engine/internal/testdb"
	"github.com/supermock/engine/migrations"
)

// privateServer is a migrated PostgreSQL of the test's own, which it may stop and start
// again without disturbing the server every other test shares.
type privateServer struct {
	t   *testing.T
	dir string
	pg  *pglocal.Server
}

func startPrivate(t *testing.T) *privateServer {
	t.Helper()
	dir, err := os.MkdirTemp("", "supermock-restart-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	p := &privateServer{t: t, dir: dir}
	if p.pg, err = pglocal.Start(context.Background(), dir, pglocal.Options{Ephemeral: true}); err != nil {
		t.Fatalf("PostgreSQL is needed for this test: %v", err)
	}
	t.Cleanup(func() { _ = p.pg.Stop() })
	migrate, err := pgxpool.New(context.Background(), p.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer migrate.Close()
	if _, err := migrations.Up(context.Background(), migrate); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *privateServer) URL() string { return p.pg.URL("postgres") }

// Stop shuts the server down as pg_ctl stop -m fast does: sessions end at once.
func (p *privateServer) Stop() {
	p.t.Helper()
	if err := p.pg.Stop(); err != nil {
		p.t.Fatal(err)
	}
}

// Start starts it again on the same port and returns once it accepts connections.
func (p *privateServer) Start() {
	p.t.Helper()
	pg, err := pglocal.Start(context.Background(), p.dir, pglocal.Options{Ephemeral: true, Port: p.pg.Port()})
	if err != nil {
		p.t.Fatal(err)
	}
	p.pg = pg
}

// outcome is a keyed join's answer as a client keeps it.
type outcome struct {
	status int
	body   []byte
}

// keyedJoin posts a join with an Idempotency-Key on the client's own connection.
func keyedJoin(client *nethttp.Client, base, token, key string, body any) (response, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return response{}, err
	}
	req, err := nethttp.NewRequest("POST", base+"/api/queue", bytes.NewReader(raw))
	if err != nil {
		return response{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Idempotency-Key", key)
	resp, err := client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: out}, err
}

// PostgreSQL stops and starts under a load of keyed joins. No answer is ever a 500;
// while it is away the answer is 503 with Retry-After; every request sent after it is
// back is answered with the command's real outcome at once (never 503, never 409
// idempotency-key-in-use); every key answers its first answer ever after; and the log
// holds each join at most once, and exactly the joins acknowledged.
func TestKeyedJoinsThroughARestart(t *testing.T) {
	t.Parallel()
	pg := startPrivate(t)
	e := start(t, options{poolFromURL: pg.URL() + "&pool_max_conns=20"})
	const (
		workers        = 12
		usersPerWorker = 4
		windows        = 100 // 3 h apart: well within the 14 days ahead a join may ask for
		stopAfter      = 40  // acknowledged joins before PostgreSQL stops
		keysAfterBack  = 2   // each worker's keys sent only after it is back
		phaseUp        = 0   // before the stop
		phaseAway      = 1   // stopping, stopped or starting
		phaseBack      = 2   // started again
	)
	tokens := make([][]string, workers)
	for w := range tokens {
		for u := range usersPerWorker {
			tokens[w] = append(tokens[w], e.loginDev(int64(46000+w*usersPerWorker+u)).Token)
		}
	}
	var (
		phase, acked, unavailable atomic.Int32
		answers                   = make([]map[string]outcome, workers)
		wg                        sync.WaitGroup
		failures                  = make(chan error, workers)
	)
	base := time.Now().UTC().Add(24 * time.Hour).Truncate(time.Hour)
	joinOf := func(k int) map[string]any {
		return window("candidate", "qa-engineer", base.Add(time.Duration(3*(k%windows))*time.Hour), 2*time.Hour)
	}
	work := func(w int) error {
		client := &nethttp.Client{Transport: &nethttp.Transport{MaxIdleConnsPerHost: 1}}
		defer client.CloseIdleConnections()
		answers[w] = map[string]outcome{}
		sentBack := 0
		for k := 0; ; k++ {
			for u, token := range tokens[w] {
				key := fmt.Sprintf("w%d-u%d-k%d", w, u, k)
				for {
					sentIn := phase.Load()
					r, err := keyedJoin(client, e.base, token, key, joinOf(k))
					if err != nil {
						return fmt.Errorf("%s: %w", key, err)
					}
					var answer errorAnswer
					_ = json.Unmarshal(r.body, &answer)
					switch code := answer.Error.Code; {
					case r.status == 503 && code == "database-unavailable" && r.header.Get("Retry-After") != "" && sentIn != phaseBack:
						unavailable.Add(1)
						time.Sleep(20 * time.Millisecond) // a client's pause before its retry
						continue
					case r.status == 201:
						acked.Add(1)
					case r.status == 409 && code == "queue-too-many-entries":
						// Every entry of the user is waiting: later joins are refused,
						// and go through the same claim and answer as the first three.
						time.Sleep(20 * time.Millisecond)
					default:
						return fmt.Errorf("%s sent in phase %d: %s", key, sentIn, r)
					}
					answers[w][key] = outcome{status: r.status, body: r.body}
					if sentIn == phaseBack {
						sentBack++
					}
					break
				}
				if sentBack >= keysAfterBack {
					return nil
				}
			}
		}
	}
	for w := range workers {
		wg.Go(func() {
			if err := work(w); err != nil {
				failures <- err
			}
		})
	}
	// A worker stops at its first failure; the restart goes on regardless.
	testdb.Eventually(t, time.Minute, func() bool { return acked.Load() >= stopAfter || len(failures) > 0 })
	phase.Store(phaseAway)
	pg.Stop()
	testdb.Eventually(t, time.Minute, func() bool { return unavailable.Load() > 0 || len(failures) > 0 })
	pg.Start()
	phase.Store(phaseBack)
	wg.Wait()
	close(failures)
	for err := range failures {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	if unavailable.Load() == 0 {
		t.Fatal("no request met the outage")
	}

	// Every key answers its first answer, replayed; each worker's on its own connection.
	acknowledged := make([]map[string]bool, workers)
	replays := make(chan error, workers)
	for w := range workers {
		wg.Go(func() { replays <- replay(e.base, tokens[w], answers[w], joinOf, acknowledged, w) })
	}
	wg.Wait()
	close(replays)
	for err := range replays {
		if err != nil {
			t.Fatal(err)
		}
	}
	// The log holds each join once at most, and exactly the acknowledged ones.
	rows, err := e.pool.Query(context.Background(), `SELECT payload->>'entry_id', count(*) OVER
		(PARTITION BY stream_id, payload->>'window_start') FROM watermill_events WHERE event_type = 'QueueJoined'`)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]bool{}
	for rows.Next() {
		var id string
		var copies int
		if err := rows.Scan(&id, &copies); err != nil {
			t.Fatal(err)
		}
		if copies > 1 {
			t.Errorf("the join %s is in the log %d times", id, copies)
		}
		stored[id] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	acks := 0
	for _, ids := range acknowledged {
		for id := range ids {
			acks++
			if !stored[id] {
				t.Fatalf("the acknowledged join %s is not in the log", id)
			}
		}
	}
	if len(stored) != acks || acks < stopAfter {
		t.Fatalf("%d joins acknowledged, %d stored", acks, len(stored))
	}
	t.Logf("%d joins acknowledged, %d answers 503 while PostgreSQL was away", acks, unavailable.Load())
}

// replay sends every key of one worker again and checks it answers its first answer;
// it notes the entries the answers acknowledge in acknowledged[w].
func replay(base string, tokens []string, answers map[string]outcome, joinOf func(int) map[string]any,
	acknowledged []map[string]bool, w int) error {
	client := &nethttp.Client{Transport: &nethttp.Transport{MaxIdleConnsPerHost: 1}}
	defer client.CloseIdleConnections()
	acknowledged[w] = map[string]bool{}
	for key, first := range answers {
		var u, k int
		if _, err := fmt.Sscanf(key, fmt.Sprintf("w%d-u%%d-k%%d", w), &u, &k); err != nil {
			return fmt.Errorf("key %s: %w", key, err)
		}
		again, err := keyedJoin(client, base, tokens[u], key, joinOf(k))
		if err != nil {
			return err
		}
		if again.status != first.status || !bytes.Equal(again.body, first.body) || again.header.Get("Idempotent-Replayed") != "true" {
			return fmt.Errorf("%s answered %d %s first, now %s", key, first.status, first.body, again)
		}
		if first.status == fiber.StatusCreated {
			var j struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(again.body, &j); err != nil {
				return err
			}
			acknowledged[w][j.ID] = true
		}
	}
	return nil
}
