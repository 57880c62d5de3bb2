package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	nethttp "net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/projections/matchmaker"
)

// waitVisible waits until readers of the log may see every committed event: none is
// newer than the oldest transaction still running anywhere on the server.
func (e *env) waitVisible(ctx context.Context) {
	e.t.Helper()
	for {
		var pending int
		if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM watermill_events
			WHERE transaction_id >= pg_snapshot_xmin(pg_current_snapshot())`).Scan(&pending); err != nil {
			e.t.Fatal(err)
		}
		if pending == 0 {
			return
		}
		if ctx.Err() != nil {
			e.t.Fatal("events stayed invisible")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// settle waits until the matchmaker has consumed every event, its own appends included.
func (e *env) settle(ctx context.Context) {
	e.t.Helper()
	for {
		e.waitVisible(ctx)
		head, err := e.store.Log().Head(ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		done, err := e.store.Log().GroupPosition(ctx, matchmaker.Group)
		if err != nil {
			e.t.Fatal(err)
		}
		if !done.Less(head) {
			return
		}
		if ctx.Err() != nil {
			e.t.Fatal("the matchmaker did not catch up")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// 200 joins at once over HTTP: every 2xx is in the log, every failure says why, and the
// matching invariants hold once the matchmaker is done.
func TestConcurrentJoins(t *testing.T) {
	t.Parallel()
	e := start(t, options{consumers: true})
	const users, joinsEach = 100, 2
	tokens := make([]string, users)
	ids := make([]uuid.UUID, users)
	for i := range users {
		l := e.loginDev(int64(10000 + i))
		tokens[i], ids[i] = l.Token, l.userID()
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	base := time.Now().UTC().Truncate(time.Hour).Add(24 * time.Hour)
	type join struct {
		user int
		body map[string]any
	}
	var joins []join
	for i := range users {
		role := "candidate"
		if i%2 == 1 {
			role = "interviewer"
		}
		for range joinsEach {
			start := base.Add(time.Duration(rnd.IntN(48)) * 30 * time.Minute)
			joins = append(joins, join{i, window(role, []string{"qa-engineer", "data-engineer"}[rnd.IntN(2)], start,
				time.Duration(1+rnd.IntN(4))*time.Hour)})
		}
	}

	client := &nethttp.Client{Transport: &nethttp.Transport{MaxIdleConnsPerHost: len(joins),
		DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext}, Timeout: 30 * time.Second}
	type outcome struct {
		status int
		code   string
		id     string
	}
	outcomes := make([]outcome, len(joins))
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i, j := range joins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			raw, _ := json.Marshal(j.body)
			req, _ := nethttp.NewRequest("POST", e.base+"/api/queue", bytes.NewReader(raw))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+tokens[j.user])
			<-gate
			resp, err := client.Do(req)
			if err != nil {
				t.Errorf("join %d: %v", i, err)
				return
			}
			defer resp.Body.Close()
			var body struct {
				ID    string                `json:"id"`
				Error struct{ Code string } `json:"error"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&body)
			outcomes[i] = outcome{resp.StatusCode, body.Error.Code, body.ID}
		}()
	}
	close(gate)
	wg.Wait()

	acknowledged, refused := map[string]bool{}, map[string]int{}
	explicit := map[string]bool{"queue-window-overlaps": true, "queue-window-overlaps-interview": true,
		"queue-too-many-entries": true, "concurrent-modification": true}
	for i, o := range outcomes {
		switch {
		case (o.status == 201 || o.status == 202) && o.id != "": // 202: done, not yet in the table
			acknowledged[o.id] = true
		case o.status == 409 && explicit[o.code]:
			refused[o.code]++
		default:
			t.Errorf("join %d: %d %q", i, o.status, o.code)
		}
	}
	t.Logf("%d joins accepted, refused: %v", len(acknowledged), refused)
	if len(acknowledged) < len(joins)/2 {
		t.Fatalf("only %d of %d joins were accepted", len(acknowledged), len(joins))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rows, err := e.pool.Query(ctx, `SELECT payload->>'entry_id' FROM watermill_events WHERE event_type = 'QueueJoined'`)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		stored[id] = true
	}
	if rows.Err() != nil || fmt.Sprint(stored) != fmt.Sprint(acknowledged) {
		t.Fatalf("%d joins acknowledged, %d stored: they must be the same (%v)", len(acknowledged), len(stored), rows.Err())
	}

	e.settle(ctx)
	checkMatchingInvariants(t, e, ids)
}

// checkMatchingInvariants reads every user's stream: an entry is matched at most once,
// with a compatible entry of another user, in a slot both windows hold; nobody has two
// interviews at once nor more than 3 waiting entries; and no two waiting entries are
// left that the matchmaker could still pair.
func checkMatchingInvariants(t *testing.T, e *env, ids []uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	duration := e.cfg.InterviewDuration
	entries := map[uuid.UUID]domain.UserEntry{}
	var waiting []domain.QueueEntry
	busy := map[uuid.UUID][]domain.Slot{}
	for _, id := range ids {
		u, err := e.svc.LoadUser(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, en := range u.Entries() {
			entries[en.ID] = en
		}
		w := u.WaitingEntries()
		if len(w) > domain.MaxWaitingEntries {
			t.Errorf("user %s has %d waiting entries", id, len(w))
		}
		waiting = append(waiting, w...)
		slots := u.ScheduledInterviews()
		for i := 1; i < len(slots); i++ {
			if domain.Window(slots[i-1].Slot).Overlaps(domain.Window(slots[i].Slot)) {
				t.Errorf("user %s has overlapping interviews %v", id, slots)
			}
		}
		for _, s := range slots {
			busy[id] = append(busy[id], s.Slot)
		}
	}
	interviews := map[uuid.UUID]int{}
	for _, en := range entries {
		if en.Status == domain.EntryMatched {
			interviews[en.InterviewID]++
		}
	}
	for id, n := range interviews {
		iv, err := e.svc.LoadInterview(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var c, i domain.UserEntry
		for _, en := range entries {
			if en.InterviewID == id && en.Role == domain.Candidate {
				c = en
			} else if en.InterviewID == id {
				i = en
			}
		}
		s := domain.Window(iv.Slot())
		if n != 2 || c.UserID == i.UserID || c.UserID != iv.Candidate() || i.UserID != iv.Interviewer() ||
			c.Profession != i.Profession || c.Language != i.Language || iv.Duration() != duration ||
			s.Start.Before(c.Window.Start) || s.End.After(c.Window.End) || s.Start.Before(i.Window.Start) || s.End.After(i.Window.End) {
			t.Errorf("interview %s: %d entries, candidate %+v, interviewer %+v, slot %v", id, n, c, i, s)
		}
	}
	t.Logf("%d interviews, %d entries still waiting", len(interviews), len(waiting))
	if len(interviews) == 0 {
		t.Error("nothing was matched")
	}
	now := time.Now()
	for x, a := range waiting {
		for _, b := range waiting[x+1:] {
			slot, err := domain.Compatible(a, b, now, duration)
			if err != nil {
				continue
			}
			free := true
			for _, s := range append(busy[a.UserID], busy[b.UserID]...) {
				free = free && !domain.Window(s).Overlaps(domain.Window(slot))
			}
			if free {
				t.Errorf("entries %s and %s are still waiting though they fit at %v", a.ID, b.ID, slot)
			}
		}
	}
}
