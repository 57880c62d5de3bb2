package matchmaker_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/eventstore"
	"github.com/supermock/engine/internal/testdb"
	"github.com/supermock/engine/projections/matchmaker"
)

// BenchmarkMatchBacklog: 100 000 waiting entries are in the log before the matchmaker
// starts (one per user, random role over 3 professions × 2 languages, overlapping
// windows); it reports how fast the matchmaker works through them. The raw baseline
// is the page reader over the same backlog: the rate of reading alone.
func BenchmarkMatchBacklog(b *testing.B) {
	const entries = 100_000
	w := newWorld(b)
	ctx := context.Background()
	seedBacklog(ctx, b, w, entries)
	testdb.WaitVisible(b, w.store.Log())

	start := time.Now()
	read := 0
	for after := (eventstore.Position{}); ; {
		page, err := w.store.Log().ReadAll(ctx, after, 5000)
		if err != nil {
			b.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		read += len(page)
		after = page[len(page)-1].Position
	}
	rawRate := float64(read) / time.Since(start).Seconds()

	for b.Loop() {
		start = time.Now()
		stop := w.runMatchmaker(b)
		testdb.WaitConsumed(b, w.store.Log(), matchmaker.Group)
		elapsed := time.Since(start)
		stop()
		matches, err := w.store.Log().CountEvents(ctx, "InterviewScheduled")
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(matches)/elapsed.Seconds(), "matches/s")
		b.ReportMetric(float64(2*entries)/elapsed.Seconds(), "events/s")
		b.ReportMetric(rawRate, "raw-read-events/s")
		b.ReportMetric(float64(matches), "matches")
	}
}

// seedBacklog writes users and their queue entries straight to the log, 500 users per
// transaction, as the domain would have recorded them.
func seedBacklog(ctx context.Context, b *testing.B, w world, users int) {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Now().Add(3 * time.Hour).Truncate(time.Hour).UTC()
	professions := []domain.Profession{"backend-developer", "frontend-developer", "qa-engineer"}
	languages := []domain.Language{"en", "ru"}
	for first := 0; first < users; first += 500 {
		var appends []eventstore.StreamAppend
		for i := first; i < min(first+500, users); i++ {
			id := uuid.New()
			from := base.Add(time.Duration(rng.IntN(48)) * 30 * time.Minute)
			role := []domain.InterviewRole{domain.Candidate, domain.Interviewer}[rng.IntN(2)]
			appends = append(appends, eventstore.StreamAppend{StreamID: domain.UserStream(id), Expected: eventstore.NoStream, Events: []any{
				domain.UserRegistered{UserID: id, TelegramID: int64(i + 1), FirstName: "U", Role: domain.RoleUser,
					PreferredRole: role, Timezone: "Europe/Moscow", RegisteredAt: base.Add(-24 * time.Hour)},
				domain.QueueJoined{UserID: id, EntryID: uuid.New(), Role: role, Profession: professions[rng.IntN(3)],
					Language: languages[rng.IntN(2)], WindowStart: from, WindowEnd: from.Add(3 * time.Hour), JoinedAt: base.Add(-time.Hour)},
			}})
		}
		err := pgx.BeginFunc(ctx, w.store.Pool(), func(tx pgx.Tx) error {
			_, err := w.store.Log().Append(ctx, tx, eventstore.Meta{}, appends...)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJoinToMatchLatency: joins arrive at a steady 500/s, in pairs that fit each
// other; it reports the time from a join's commit to the MatchMade it leads to.
func BenchmarkJoinToMatchLatency(b *testing.B) {
	const rate, seconds = 500, 8
	w := newWorld(b)
	ctx := context.Background()
	users := w.register(b, 2*rate)
	stop := w.runMatchmaker(b)
	defer stop()
	base := time.Now().Add(3 * time.Hour).Truncate(time.Hour)

	for b.Loop() {
		var mu sync.Mutex
		joinedAt := map[uuid.UUID]time.Time{} // by entry
		var wg sync.WaitGroup
		tick := time.NewTicker(time.Second / rate)
		for i := 0; i < rate*seconds; i++ {
			<-tick.C
			wg.Add(1)
			go func() {
				defer wg.Done()
				// A user joins every len(users) joins, two days later each time, so
				// their own windows never overlap; a pair shares one window.
				from := base.Add(time.Duration(i/len(users))*48*time.Hour + time.Duration(i/2%200)*24*time.Hour/200)
				entry, _, err := w.svc.JoinQueue(ctx, domain.Meta{}, users[i%len(users)], domain.QueueInput{
					Role: []string{"candidate", "interviewer"}[i%2], Profession: "devops-engineer", Language: "en",
					WindowStart: from, WindowEnd: from.Add(2 * time.Hour)})
				if err != nil {
					b.Error(err)
					return
				}
				mu.Lock()
				joinedAt[entry] = time.Now()
				mu.Unlock()
			}()
		}
		tick.Stop()
		wg.Wait()
		testdb.WaitConsumed(b, w.store.Log(), matchmaker.Group)

		rows, err := w.store.Pool().Query(ctx, `SELECT metadata->>'occurred_at', payload->>'candidate_entry_id', payload->>'interviewer_entry_id'
			FROM watermill_events WHERE event_type = 'InterviewScheduled'`)
		if err != nil {
			b.Fatal(err)
		}
		var latencies []time.Duration
		for rows.Next() {
			var at string
			var candidate, interviewer uuid.UUID
			if err := rows.Scan(&at, &candidate, &interviewer); err != nil {
				b.Fatal(err)
			}
			matched, _ := time.Parse(time.RFC3339Nano, at)
			joined := joinedAt[candidate]
			if joinedAt[interviewer].After(joined) {
				joined = joinedAt[interviewer]
			}
			latencies = append(latencies, matched.Sub(joined))
		}
		rows.Close()
		if len(latencies) < rate*seconds/2*9/10 {
			b.Fatalf("%d matches from %d joins", len(latencies), rate*seconds)
		}
		slices.Sort(latencies)
		b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(len(latencies)), "matches")
	}
}
