package matchmaker_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/internal/testdb"
	"github.com/supermock/engine/projections/matchmaker"
)

// A write of the matchmaker that fails once (here the database refuses the first insert
// and the first delete of its waiting list) is rolled back and tried again: with its
// batch when it was put off until the batch's end, the batch then redone event by
// event, or to the event's savepoint within the batch. Nothing of the failed attempt
// stays behind, the pair is matched once, and the entry that left is never matched.
func TestAFailedAttemptLeavesNothingAndIsTriedAgain(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	w := newWorld(t)
	pool := w.store.Pool()
	if _, err := pool.Exec(ctx, `
		CREATE SEQUENCE failed_inserts; CREATE SEQUENCE failed_deletes;
		CREATE FUNCTION fail_first_write() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF nextval(CASE TG_OP WHEN 'INSERT' THEN 'failed_inserts' ELSE 'failed_deletes' END) = 1 THEN
				RAISE EXCEPTION 'injected failure of the first %', TG_OP;
			END IF;
			RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
		END $$;
		CREATE TRIGGER fail_first_write BEFORE INSERT OR DELETE ON matchmaker_waiting
			FOR EACH ROW EXECUTE FUNCTION fail_first_write()`); err != nil {
		t.Fatal(err)
	}
	users := w.register(t, 3)
	from := time.Now().Add(5 * time.Hour).Truncate(time.Hour)
	join := func(u uuid.UUID, role string) uuid.UUID {
		t.Helper()
		id, _, err := w.svc.JoinQueue(ctx, domain.Meta{}, u, domain.QueueInput{
			Role: role, Profession: "devops-engineer", Language: "en", WindowStart: from, WindowEnd: from.Add(3 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	left := join(users[0], "candidate")
	if _, err := w.svc.LeaveQueue(ctx, domain.Meta{}, users[0], left); err != nil {
		t.Fatal(err)
	}
	candidate, interviewer := join(users[1], "candidate"), join(users[2], "interviewer")
	defer w.runMatchmaker(t)()
	testdb.WaitConsumed(t, w.store.Log(), matchmaker.Group)

	status := func(u, entry uuid.UUID) domain.UserEntry {
		t.Helper()
		usr, err := w.svc.LoadUser(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		e, _ := usr.Entry(entry)
		return e
	}
	c, i := status(users[1], candidate), status(users[2], interviewer)
	if c.Status != domain.EntryMatched || i.Status != domain.EntryMatched || c.InterviewID != i.InterviewID {
		t.Fatalf("after the failures: candidate %+v, interviewer %+v, want both matched to one interview", c, i)
	}
	if e := status(users[0], left); e.Status != domain.EntryCancelled {
		t.Fatalf("the entry that left: %+v", e)
	}
	var waiting, inserts, deletes int64
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM matchmaker_waiting),
		(SELECT last_value FROM failed_inserts), (SELECT last_value FROM failed_deletes)`).Scan(&waiting, &inserts, &deletes); err != nil {
		t.Fatal(err)
	}
	if waiting != 0 || inserts < 2 || deletes < 2 {
		t.Fatalf("%d entries still waiting, %d inserts and %d deletes tried: want none waiting and each write failed once, then done",
			waiting, inserts, deletes)
	}
	if st := w.store.Log().GroupState(matchmaker.Group); !strings.Contains(st.LastError, "injected failure") || strings.Contains(st.LastError, "paused") {
		t.Fatalf("the matchmaker last heard %q: want the injected failure, retried at once, and no pause", st.LastError)
	}
	var interviews int64
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM watermill_events WHERE event_type = 'InterviewScheduled'`).Scan(&interviews); err != nil {
		t.Fatal(err)
	}
	if interviews != 1 {
		t.Fatalf("%d interviews scheduled, want one", interviews)
	}
}
