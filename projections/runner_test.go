package projections

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/eventstore"
	"github.com/supermock/engine/internal/demo"
)

func eventTypeNames() []string {
	var out []string
	for _, t := range domain.EventTypes() {
		out = append(out, t.Name)
	}
	return out
}

// checkApplied checks that every projection applied each event it handles once:
// its counter equals the log's count, and rows equal what the events say.
func checkApplied(t *testing.T, e env) {
	t.Helper()
	ctx := context.Background()
	for _, p := range All() {
		var applied int
		err := e.pool.QueryRow(ctx, `SELECT events_applied FROM projection_checkpoints WHERE name = $1`, p.Name()).Scan(&applied)
		if err != nil {
			t.Fatalf("checkpoint of %s: %v", p.Name(), err)
		}
		if want := countEvents(t, e, handledTypes(p)...); applied != want {
			t.Errorf("%s applied %d events, the log has %d of its types", p.Name(), applied, want)
		}
	}
	counts := []struct {
		query string
		types []string
	}{
		{`SELECT count(*) FROM users`, []string{"UserRegistered"}},
		{`SELECT count(*) FROM interview_queue`, []string{"QueueJoined"}},
		{`SELECT count(*) FROM interview_queue WHERE status = 'expired'`, []string{"QueueEntryExpired"}},
		{`SELECT count(*) FROM interviews`, []string{"InterviewScheduled"}},
		{`SELECT count(*) FROM interviews WHERE status = 'completed'`, []string{"InterviewCompleted"}},
		{`SELECT count(*) FROM interviews WHERE status = 'cancelled'`, []string{"InterviewCancelled"}},
		{`SELECT count(*) FROM interview_sessions WHERE completed_at IS NOT NULL`, []string{"InterviewCompleted"}},
		{`SELECT count(*) FROM feedback`, []string{"FeedbackSubmitted"}},
		{`SELECT count(*) FROM notifications`, []string{"NotificationSent"}},
		{`SELECT count(*) FROM notifications WHERE read_at IS NOT NULL`, []string{"NotificationRead"}},
		{`SELECT coalesce(sum(no_show_count), 0) FROM users`, []string{"AbsenceRecorded"}},
	}
	for _, c := range counts {
		var got int
		if err := e.pool.QueryRow(ctx, c.query).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if want := countEvents(t, e, c.types...); got != want {
			t.Errorf("%s = %d, the log has %d %v events", c.query, got, want, c.types)
		}
	}
}

// Every projection fails once in the middle of a batch, after its rows were written
// and with its transaction aborted by a failing statement; each event still ends up
// applied exactly once.
func TestAFailureInTheMiddleOfABatchAppliesEveryEventOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.generate(t, demo.Config{Users: 60, Seed: 1, Days: 5})
	var mu sync.Mutex
	seen := map[string]int{}
	failedIn, retriedIn := map[string]string{}, map[string]string{}
	e.startRunner(t, All(), func(r *Runner) {
		r.failHook = func(ctx context.Context, tx pgx.Tx, p Projection, env eventstore.Envelope) error {
			mu.Lock()
			defer mu.Unlock()
			seen[p.Name()]++
			if seen[p.Name()] < 7 || seen[p.Name()] > 8 {
				return nil
			}
			var xact string
			if err := tx.QueryRow(ctx, `SELECT pg_current_xact_id()::text`).Scan(&xact); err != nil {
				return err
			}
			if seen[p.Name()] == 8 {
				retriedIn[p.Name()] = xact
				return nil
			}
			failedIn[p.Name()] = xact
			_, err := tx.Exec(ctx, `SELECT 1/0`) // aborts the transaction: only the savepoint saves it
			return err
		}
	})
	e.waitCaughtUp(t, All(), 5*time.Minute)
	mu.Lock()
	for _, p := range All() {
		// The retry ran in the batch's own transaction: the savepoint undid the failure,
		// the batch was not given up.
		if failedIn[p.Name()] == "" || failedIn[p.Name()] != retriedIn[p.Name()] {
			t.Errorf("%s failed in transaction %q and was retried in %q", p.Name(), failedIn[p.Name()], retriedIn[p.Name()])
		}
	}
	mu.Unlock()
	checkApplied(t, e)
}

// An event that always fails stalls its projection, visibly, and never is skipped; the
// other projections go on; once the cause is gone the projection catches up.
func TestAPoisonEventStallsItsProjectionUntilItPasses(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.generate(t, demo.Config{Users: 30, Seed: 2, Days: 3})
	var mu sync.Mutex
	poisoned, broken := "", true
	e.startRunner(t, All(), func(r *Runner) {
		r.failHook = func(_ context.Context, _ pgx.Tx, p Projection, env eventstore.Envelope) error {
			mu.Lock()
			defer mu.Unlock()
			if p.Name() != "interviews" || !broken {
				return nil
			}
			if poisoned == "" {
				poisoned = env.Position.String()
			}
			if env.Position.String() == poisoned {
				return errors.New("injected poison")
			}
			return nil
		}
	})
	others := []Projection{}
	for _, p := range All() {
		if p.Name() != "interviews" {
			others = append(others, p)
		}
	}
	e.waitCaughtUp(t, others, 5*time.Minute)
	ctx := context.Background()
	var lastError, errorPosition string
	deadline := time.Now().Add(2 * time.Minute)
	for {
		err := e.pool.QueryRow(ctx, `SELECT coalesce(last_error, ''), coalesce(error_position, '')
			FROM projection_checkpoints WHERE name = 'interviews'`).Scan(&lastError, &errorPosition)
		if err == nil && lastError != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stalled projection's error never showed in its checkpoint (%v)", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	if errorPosition != poisoned {
		t.Errorf("error recorded at %s, the poison event is at %s", errorPosition, poisoned)
	}
	broken = false
	mu.Unlock()
	head, _ := e.store.Head(ctx)
	if pos, _ := e.store.GroupPosition(ctx, Group("interviews")); !pos.Less(head) {
		t.Errorf("the stalled projection reached the head %s: it skipped the poison event", head)
	}
	e.waitCaughtUp(t, All(), 5*time.Minute)
	checkApplied(t, e)
	if err := e.pool.QueryRow(ctx, `SELECT coalesce(last_error, '') FROM projection_checkpoints
		WHERE name = 'interviews'`).Scan(&lastError); err != nil || lastError != "" {
		t.Errorf("the checkpoint after recovery still shows %q (%v)", lastError, err)
	}
}

// A batch's writes go in one round trip; when one of them fails (here a trigger that
// refuses the queue's rows) the batch rolls back and the next runs event by event, so
// the projection stalls visibly at the event that fails, never skips it, and catches
// up once the cause is gone.
func TestAFailingWriteOfABatchStallsItsProjectionAtTheEvent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.pool.Exec(ctx, `CREATE FUNCTION refuse_queue_rows() RETURNS trigger LANGUAGE plpgsql AS
		$$ BEGIN RAISE EXCEPTION 'queue rows refused'; END $$;
		CREATE TRIGGER refuse_queue_rows BEFORE INSERT ON interview_queue FOR EACH ROW EXECUTE FUNCTION refuse_queue_rows()`); err != nil {
		t.Fatal(err)
	}
	e.generate(t, demo.Config{Users: 30, Seed: 3, Days: 3})
	e.startRunner(t, All(), nil)
	var others []Projection
	for _, p := range All() {
		if p.Name() != "interview_queue" {
			others = append(others, p)
		}
	}
	e.waitCaughtUp(t, others, 5*time.Minute)
	var lastError string
	deadline := time.Now().Add(2 * time.Minute)
	for {
		err := e.pool.QueryRow(ctx, `SELECT coalesce(last_error, '') FROM projection_checkpoints
			WHERE name = 'interview_queue'`).Scan(&lastError)
		if err == nil && lastError != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stalled projection's error never showed in its checkpoint (%v)", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(lastError, "event QueueJoined at") || !strings.Contains(lastError, "queue rows refused") {
		t.Errorf("the checkpoint's error does not name the event that failed: %q", lastError)
	}
	head, _ := e.store.Head(ctx)
	if pos, _ := e.store.GroupPosition(ctx, Group("interview_queue")); !pos.Less(head) {
		t.Errorf("the stalled projection reached the head %s: it skipped the event that failed", head)
	}
	if _, err := e.pool.Exec(ctx, `DROP TRIGGER refuse_queue_rows ON interview_queue`); err != nil {
		t.Fatal(err)
	}
	e.waitCaughtUp(t, All(), 5*time.Minute)
	checkApplied(t, e)
}
