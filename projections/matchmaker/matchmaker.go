// Package matchmaker pairs waiting queue entries: a process manager that consumes the
// log as one consumer group. Its state (the waiting entries), its offset and the
// events it appends commit in one transaction, so a crash neither loses nor repeats a
// match; replicas wait on the group's lock, one active at a time.
package matchmaker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/eventstore"
	"github.com/supermock/engine/internal/eventlog"
)

// Group is the matchmaker's consumer group.
const Group = "matchmaker"

// candidatesPage is how many waiting entries one query offers; a refusal moves on to
// the next page, so no compatible entry is ever out of reach.
const candidatesPage = 20

// Matchmaker turns waiting entries into interviews, first come first served.
type Matchmaker struct {
	store    *eventlog.Store
	clock    domain.Clock
	duration time.Duration
	logger   *slog.Logger
}

// New returns a matchmaker over store; duration is the interview length.
func New(store *eventlog.Store, clock domain.Clock, duration time.Duration, logger *slog.Logger) *Matchmaker {
	return &Matchmaker{store: store, clock: clock, duration: duration, logger: logger}
}

// Run consumes the log until ctx ends.
func (m *Matchmaker) Run(ctx context.Context) error {
	later := &later{m: m}
	return m.store.Log().ConsumeAtomic(ctx, eventstore.SubscriberConfig{
		ConsumerGroup: Group, PollInterval: 10 * time.Millisecond, BatchSize: 20, Types: slices.Sorted(maps.Keys(handled)),
	}, func(ctx context.Context, tx pgx.Tx, env eventstore.Envelope) error {
		return m.handle(ctx, tx, env, later)
	}, func(env eventstore.Envelope, err error) {
		m.logger.Error("matchmaker: event not handled, it will be retried", "event_id", env.EventID, "type", env.EventType, "err", err)
	})
}

// handled are the events the matchmaker acts on; it decodes no other, so an event type
// it does not know (written by a newer replica) cannot hold it up.
var handled = map[string]bool{
	domain.QueueJoined{}.EventType(): true, domain.QueueEntryRequeued{}.EventType(): true,
	domain.QueueLeft{}.EventType(): true, domain.QueueEntryExpired{}.EventType(): true,
	domain.MatchMade{}.EventType(): true,
}

// savepoint holds one event's writes: a failed attempt is rolled back to it and tried
// again in the same batch. It is set in the round trip of the event's first
// statements and never released: each event's nests in the one before (a batch holds
// a bounded number), a rollback goes to the newest, the event's own, and the commit
// ends them all, so no event pays a round trip for its release.
const savepoint = "matchmaker_event"

// handle applies one event in its savepoint; the others pass without a round trip, and
// so do the joins and removals of a batch, done together once it is handled.
func (m *Matchmaker) handle(ctx context.Context, tx pgx.Tx, env eventstore.Envelope, later *later) error {
	if !handled[env.EventType] {
		return nil
	}
	decoded, err := m.store.Log().Decode(env)
	if err != nil {
		return err
	}
	switch e := decoded.(type) {
	case domain.QueueJoined:
		err = m.join(ctx, tx, env, domain.EntryFromJoined(e), later)
	case domain.QueueEntryRequeued:
		err = m.join(ctx, tx, env, domain.EntryFromRequeued(e), later)
	case domain.QueueLeft:
		err = later.remove(ctx, tx, e.EntryID)
	case domain.QueueEntryExpired:
		err = later.remove(ctx, tx, e.EntryID)
	case domain.MatchMade:
		err = later.remove(ctx, tx, e.CandidateEntryID, e.InterviewerEntryID)
	}
	if err != nil {
		return eventstore.RollbackEvent(ctx, tx, savepoint, err)
	}
	return nil
}

// join takes an entry that waits (again): off the batch's removals, and into its
// joins, enqueued together once the batch is handled; while the group applies events
// one by one, at once.
func (m *Matchmaker) join(ctx context.Context, tx pgx.Tx, env eventstore.Envelope, entry domain.QueueEntry, later *later) error {
	d, deferred := eventstore.Deferred(ctx)
	if !deferred {
		return m.enqueue(ctx, tx, []waiting{{env, entry}}, true)
	}
	later.batch(d)
	delete(later.removed, entry.ID)
	later.joins = slices.DeleteFunc(later.joins, func(w waiting) bool { return w.entry.ID == entry.ID })
	later.joins = append(later.joins, waiting{env, entry})
	return nil
}

// waiting is an entry to enqueue and the event that made it wait.
type waiting struct {
	env   eventstore.Envelope
	entry domain.QueueEntry
}

const enqueueSQL = `INSERT INTO matchmaker_waiting
	(entry_id, user_id, role, profession, language, window_start, window_end, position_tx, position_offset)
	SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[], $8::bigint[], $9::bigint[])
	ON CONFLICT (entry_id) DO UPDATE SET window_start = EXCLUDED.window_start, window_end = EXCLUDED.window_end,
		position_tx = EXCLUDED.position_tx, position_offset = EXCLUDED.position_offset`

// enqueue records the entries, in log order and each once, as waiting at their events'
// positions, then looks for each one's partner among the entries that waited before
// it; the record and the first page of candidates of every entry take one round trip
// (with the event's savepoint for one applied alone). A page read before an earlier
// entry of the batch was matched may offer an entry that stopped waiting since, which
// the domain refuses on fresh state, as it refuses any stale candidate.
func (m *Matchmaker) enqueue(ctx context.Context, tx pgx.Tx, joins []waiting, alone bool) error {
	now := m.clock.Now()
	b := &pgx.Batch{}
	if alone {
		b.Queue(`SAVEPOINT ` + savepoint)
	}
	var (
		ids, users                  []uuid.UUID
		roles, professions, langs   []string
		starts, ends                []time.Time
		positionTxs, positionOffset []int64
	)
	for _, j := range joins {
		e := j.entry
		ids, users = append(ids, e.ID), append(users, e.UserID)
		roles, professions, langs = append(roles, string(e.Role)), append(professions, string(e.Profession)), append(langs, string(e.Language))
		starts, ends = append(starts, e.Window.Start), append(ends, e.Window.End)
		positionTxs, positionOffset = append(positionTxs, int64(j.env.Position.TxID)), append(positionOffset, j.env.Position.Offset)
	}
	b.Queue(enqueueSQL, ids, users, roles, professions, langs, starts, ends, positionTxs, positionOffset)
	first := make([][]candidate, len(joins))
	for i, j := range joins {
		m.queueCandidates(b, j.entry, now, eventstore.Position{}, j.env.Position, &first[i])
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("enqueue %d entries: %w", len(joins), err)
	}
	for i, j := range joins {
		if err := m.match(ctx, tx, j.env, j.entry, now, first[i]); err != nil {
			return err
		}
	}
	return nil
}

// match pairs entry with the earliest waiting entry it is compatible with, trying the
// next one whenever fresh state refuses a pairing (that entry left, its user got
// busy), until entry itself stops waiting or no candidate is left. candidates is the
// first page, read at now.
func (m *Matchmaker) match(ctx context.Context, tx pgx.Tx, env eventstore.Envelope, entry domain.QueueEntry, now time.Time, candidates []candidate) error {
	if len(candidates) == 0 {
		return nil
	}
	svc, err := domain.NewService(m.store.In(tx), domain.Config{Clock: m.clock, InterviewDuration: m.duration})
	if err != nil {
		return err
	}
	meta := domain.Meta{Actor: domain.SystemActor, CorrelationID: env.CorrelationID, CausationID: env.EventID}
	for len(candidates) > 0 {
		after := eventstore.Position{}
		for _, c := range candidates {
			after = c.position
			if _, err := domain.Compatible(entry, c.entry, now, m.duration); err != nil {
				continue
			}
			_, _, err := svc.MakeMatch(ctx, meta, domain.EntryRef{UserID: entry.UserID, EntryID: entry.ID},
				domain.EntryRef{UserID: c.entry.UserID, EntryID: c.entry.ID})
			if err == nil {
				// Counted before the batch commits: a batch given up after a match
				// counts it again when it is redone, which is rare and only a count.
				matchesMade.Inc()
				joinToMatch.Observe(time.Since(env.OccurredAt).Seconds())
				return remove(ctx, tx, entry.ID, c.entry.ID)
			}
			var refusal *domain.Error
			if !errors.As(err, &refusal) {
				return err
			}
			if waiting, err := stillWaiting(ctx, svc, entry); err != nil || !waiting {
				return err
			}
		}
		now = m.clock.Now()
		b := &pgx.Batch{}
		m.queueCandidates(b, entry, now, after, env.Position, &candidates)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
	}
	return nil
}

type candidate struct {
	entry    domain.QueueEntry
	position eventstore.Position
}

// queueCandidates queues the query of the waiting entries between two positions (after
// a page's last, before the entry's own) that could pair with entry by their data, read
// into out; the domain decides on fresh state.
func (m *Matchmaker) queueCandidates(b *pgx.Batch, entry domain.QueueEntry, now time.Time, after, before eventstore.Position, out *[]candidate) {
	b.Queue(`SELECT entry_id, user_id, window_start, window_end, position_tx, position_offset
		FROM matchmaker_waiting
		WHERE profession = $1 AND language = $2 AND role = $3 AND user_id <> $4
			AND least(window_end, $5) - greatest(window_start, $6, $7) >= $8
			AND (position_tx, position_offset) > ($9, $10) AND (position_tx, position_offset) < ($11, $12)
		ORDER BY position_tx, position_offset
		LIMIT `+fmt.Sprint(candidatesPage),
		string(entry.Profession), string(entry.Language), string(entry.Role.Opposite()), entry.UserID,
		entry.Window.End, entry.Window.Start, now, m.duration, int64(after.TxID), after.Offset, int64(before.TxID), before.Offset).
		Query(func(rows pgx.Rows) error {
			*out = (*out)[:0]
			for rows.Next() {
				c := candidate{entry: domain.QueueEntry{Role: entry.Role.Opposite(), Profession: entry.Profession, Language: entry.Language}}
				var tx int64
				if err := rows.Scan(&c.entry.ID, &c.entry.UserID, &c.entry.Window.Start, &c.entry.Window.End, &tx, &c.position.Offset); err != nil {
					return fmt.Errorf("candidates for %s: %w", entry.ID, err)
				}
				c.position.TxID = uint64(tx)
				*out = append(*out, c)
			}
			return rows.Err()
		})
}

func stillWaiting(ctx context.Context, svc *domain.Service, entry domain.QueueEntry) (bool, error) {
	u, err := svc.LoadUser(ctx, entry.UserID)
	if err != nil {
		return false, err
	}
	for _, e := range u.WaitingEntries() {
		if e.ID == entry.ID {
			return true, nil
		}
	}
	return false, nil
}

const removeSQL = `DELETE FROM matchmaker_waiting WHERE entry_id = ANY($1)`

// remove drops entries that stopped waiting, inside the event's savepoint.
func remove(ctx context.Context, tx pgx.Tx, entries ...uuid.UUID) error {
	if _, err := tx.Exec(ctx, removeSQL, entries); err != nil {
		return fmt.Errorf("remove entries %v: %w", entries, err)
	}
	return nil
}

// later is what the events of a batch put off until it is handled
// (eventstore.Deferred): the entries they made wait, enqueued together, and those they
// stopped, deleted in one statement sent with the batch's offset move. Until then a
// join later in the batch may still be offered one of the stopped entries as a
// candidate, which the domain refuses on fresh state; an entry waiting again later in
// the batch (requeued) is taken off the removals, so its removal never undoes its
// return.
type later struct {
	m       *Matchmaker
	at      *eventstore.Deferral
	joins   []waiting
	removed map[uuid.UUID]bool
}

// batch starts over for the transaction d when it is a new one, and has d enqueue the
// joins and send the removals.
func (l *later) batch(d *eventstore.Deferral) {
	if l.at == d {
		return
	}
	l.at, l.joins, l.removed = d, nil, map[uuid.UUID]bool{}
	d.OnFlush(func(ctx context.Context, tx pgx.Tx) error {
		if l.at != d || len(l.joins) == 0 {
			return nil
		}
		return l.m.enqueue(ctx, tx, l.joins, false)
	})
	d.OnSend(func(b *pgx.Batch) error {
		if l.at == d && len(l.removed) > 0 {
			b.Queue(removeSQL, slices.Collect(maps.Keys(l.removed)))
		}
		return nil
	})
}

// remove deletes the entries with the batch's offset move or, while the group applies
// events one by one, at once in the event's savepoint.
func (l *later) remove(ctx context.Context, tx pgx.Tx, entries ...uuid.UUID) error {
	d, ok := eventstore.Deferred(ctx)
	if !ok {
		return removeAlone(ctx, tx, entries...)
	}
	l.batch(d)
	for _, id := range entries {
		l.removed[id] = true
	}
	return nil
}

// removeAlone is an event's only write: its savepoint and the removal in one round
// trip.
func removeAlone(ctx context.Context, tx pgx.Tx, entries ...uuid.UUID) error {
	b := &pgx.Batch{}
	b.Queue(`SAVEPOINT ` + savepoint)
	b.Queue(removeSQL, entries)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("remove entries %v: %w", entries, err)
	}
	return nil
}
