package http

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/eventstore"
	"github.com/supermock/engine/projections"
)

// resourceKind is what a stream event shows: the resource in the shape of its GET.
type resourceKind uint8

const (
	resEntry        resourceKind = iota // an element of GET /api/queue
	resInterview                        // GET /api/interviews/:id
	resNotification                     // an element of GET /api/notifications
)

// groups are the projections a resource's read reads: it waits for them.
func (k resourceKind) groups() []string {
	switch k {
	case resEntry:
		return projections.EntryOf.Groups()
	case resInterview:
		return projections.InterviewOf.Groups()
	default:
		return projections.NotificationOf.Groups()
	}
}

// news is what one event tells one user: its stream event's name and the resource.
type news struct {
	user uuid.UUID
	kind string
	res  resourceKind
	id   uuid.UUID
}

// newsOf says whom an event concerns and how; events nobody is told of give none. A
// match and its cancellation are appended to both users' streams: each copy tells its
// stream's user of their own entry, and InterviewScheduled tells both of the interview.
func newsOf(env eventstore.Envelope, event any) []news {
	both := func(kind string, interview, a, b uuid.UUID) []news {
		return []news{{a, kind, resInterview, interview}, {b, kind, resInterview, interview}}
	}
	entry := func(kind string, user, id uuid.UUID) []news { return []news{{user, kind, resEntry, id}} }
	switch e := event.(type) {
	case domain.QueueJoined:
		return entry("queue.joined", e.UserID, e.EntryID)
	case domain.QueueLeft:
		return entry("queue.left", e.UserID, e.EntryID)
	case domain.QueueEntryExpired:
		return entry("queue.expired", e.UserID, e.EntryID)
	case domain.QueueEntryRequeued:
		return entry("queue.requeued", e.UserID, e.EntryID)
	case domain.MatchMade:
		return matchedEntry(env, "queue.matched", e.CandidateID, e.InterviewerID, e.CandidateEntryID, e.InterviewerEntryID)
	case domain.MatchCancelled:
		return matchedEntry(env, "queue.cancelled", e.CandidateID, e.InterviewerID, e.CandidateEntryID, e.InterviewerEntryID)
	case domain.InterviewScheduled:
		return both("interview.scheduled", e.InterviewID, e.CandidateID, e.InterviewerID)
	case domain.InterviewStarted:
		return both("interview.started", e.InterviewID, e.CandidateID, e.InterviewerID)
	case domain.InterviewCompleted:
		return both("interview.completed", e.InterviewID, e.CandidateID, e.InterviewerID)
	case domain.InterviewCancelled:
		return both("interview.cancelled", e.InterviewID, e.CandidateID, e.InterviewerID)
	case domain.NoShowReported:
		return both("interview.no-show", e.InterviewID, e.ReportedBy, e.AbsentUserID)
	case domain.FeedbackSubmitted:
		return []news{{e.ToUserID, "feedback.received", resInterview, e.InterviewID},
			{e.FromUserID, "feedback.given", resInterview, e.InterviewID}}
	case domain.NotificationSent:
		return []news{{e.UserID, "notification.received", resNotification, e.NotificationID}}
	case domain.NotificationRead:
		return []news{{e.UserID, "notification.read", resNotification, e.NotificationID}}
	}
	return nil
}

// newsTypes are the event types newsOf speaks of: the others are not even decoded.
var newsTypes = map[string]bool{
	domain.QueueJoined{}.EventType(): true, domain.QueueLeft{}.EventType(): true,
	domain.QueueEntryExpired{}.EventType(): true, domain.QueueEntryRequeued{}.EventType(): true,
	domain.MatchMade{}.EventType(): true, domain.MatchCancelled{}.EventType(): true,
	domain.InterviewScheduled{}.EventType(): true, domain.InterviewStarted{}.EventType(): true,
	domain.InterviewCompleted{}.EventType(): true, domain.InterviewCancelled{}.EventType(): true,
	domain.NoShowReported{}.EventType(): true, domain.FeedbackSubmitted{}.EventType(): true,
	domain.NotificationSent{}.EventType(): true, domain.NotificationRead{}.EventType(): true,
}

func matchedEntry(env eventstore.Envelope, kind string, candidate, interviewer, candidateEntry, interviewerEntry uuid.UUID) []news {
	switch env.StreamID {
	case domain.UserStream(candidate):
		return []news{{candidate, kind, resEntry, candidateEntry}}
	case domain.UserStream(interviewer):
		return []news{{interviewer, kind, resEntry, interviewerEntry}}
	}
	return nil
}

// item is one event's news for one user, at the event's place in the log.
type item struct {
	at eventstore.Position
	news
}

// itemsOf decodes the events that are news and says whom they concern.
func itemsOf(log *eventstore.Store, envs []eventstore.Envelope) ([]item, error) {
	var out []item
	for _, env := range envs {
		if !newsTypes[env.EventType] {
			continue
		}
		event, err := log.Decode(env)
		if err != nil {
			return nil, err
		}
		for _, n := range newsOf(env, event) {
			if n.user != uuid.Nil {
				out = append(out, item{at: env.Position, news: n})
			}
		}
	}
	return out, nil
}

// frame is one SSE event, written as is to every connection of its user.
type frame struct {
	at   eventstore.Position
	text []byte
}

// renderer reads what stream events show from the read tables.
type renderer struct {
	db      projections.DB
	watcher *eventstore.Watcher
}

// maxReadsAtOnce bounds the reads one batch of events runs at once.
const maxReadsAtOnce = 4

type shown struct {
	user uuid.UUID
	res  resourceKind
	id   uuid.UUID
}

// render turns items into frames (nil for an item whose resource is gone: it has
// nothing to show). It waits until the read tables have passed the last item, then
// reads each resource once per user however many items show it: each shows the
// resource as it is at or after its event. A user whose read failed is in failed,
// without frames.
func (r renderer) render(ctx context.Context, items []item) (frames []*frame, failed map[uuid.UUID]bool, err error) {
	if len(items) == 0 {
		return nil, nil, nil
	}
	var groups []string
	seen := map[string]bool{}
	index := map[shown]int{}
	var keys []shown
	for _, it := range items {
		for _, g := range it.res.groups() {
			if !seen[g] {
				seen[g] = true
				groups = append(groups, g)
			}
		}
		k := shown{it.user, it.res, it.id}
		if _, ok := index[k]; !ok {
			index[k] = len(keys)
			keys = append(keys, k)
		}
	}
	if err := r.watcher.Wait(ctx, groups, items[len(items)-1].at); err != nil {
		return nil, nil, err
	}
	data := make([]json.RawMessage, len(keys))
	errs := make([]error, len(keys))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(maxReadsAtOnce)
	for i, k := range keys {
		g.Go(func() error {
			data[i], errs[i] = r.read(gctx, k)
			return nil
		})
	}
	_ = g.Wait()
	if ctx.Err() != nil {
		return nil, nil, ctx.Err()
	}
	failed = map[uuid.UUID]bool{}
	for i, err := range errs {
		if err != nil && !errors.Is(err, domain.ErrQueueEntryNotFound) && !errors.Is(err, domain.ErrInterviewNotFound) &&
			!errors.Is(err, domain.ErrNotificationNotFound) {
			failed[keys[i].user] = true
		}
	}
	frames = make([]*frame, len(items))
	for i, it := range items {
		if d := data[index[shown{it.user, it.res, it.id}]]; d != nil && !failed[it.user] {
			frames[i] = &frame{at: it.at, text: sseEvent(it.at.String(), it.kind, d)}
		}
	}
	return frames, failed, nil
}

func (r renderer) read(ctx context.Context, k shown) (json.RawMessage, error) {
	var v any
	var err error
	switch k.res {
	case resEntry:
		v, err = projections.EntryOf.Run(ctx, r.db, projections.EntryQuery{UserID: k.user, EntryID: k.id})
	case resInterview:
		v, err = projections.InterviewOf.Run(ctx, r.db, projections.InterviewQuery{UserID: k.user, InterviewID: k.id})
	default:
		v, err = projections.NotificationOf.Run(ctx, r.db, projections.NotificationQuery{UserID: k.user, NotificationID: k.id})
	}
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// sseEvent is an SSE event; data is one line of JSON (encoding/json escapes newlines).
func sseEvent(id, event string, data []byte) []byte {
	out := make([]byte, 0, len(id)+len(event)+len(data)+24)
	out = append(out, "id: "...)
	out = append(out, id...)
	out = append(out, "\nevent: "...)
	out = append(out, event...)
	out = append(out, "\ndata: "...)
	out = append(out, data...)
	return append(out, "\n\n"...)
}
