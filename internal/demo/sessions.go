package demo

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/supermock/engine/domain"
)

// meetings moves every scheduled interview along the outcome drawn at its match.
func (g *generator) meetings(ctx context.Context) error {
	for _, id := range g.active {
		rec := g.interviews[id]
		if rec.done {
			continue
		}
		var err error
		switch rec.outcome {
		case outcomeCancel:
			err = g.cancel(ctx, rec)
		case outcomeNoShow:
			err = g.noShow(ctx, rec)
		default:
			err = g.session(ctx, rec)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (g *generator) either(rec *interview) uuid.UUID {
	if g.chance(0.5) {
		return rec.candidate
	}
	return rec.interviewer
}

func (g *generator) cancel(ctx context.Context, rec *interview) error {
	if g.now.Before(rec.cancelAt) {
		return nil
	}
	by := g.either(rec)
	ok, err := g.do(g.svc.CancelInterview(ctx, meta(by), rec.id, by, reasons[g.pick(len(reasons))]))
	if err != nil || !ok {
		rec.done = err == nil
		return err
	}
	rec.done = true
	g.stats.Cancelled++
	// Rule 7 may have put the other side's entry back: it waits for a match again.
	other := rec.candidate
	if by == rec.candidate {
		other = rec.interviewer
	}
	u, err := g.svc.LoadUser(ctx, other)
	if err != nil {
		return err
	}
	for _, e := range u.Entries() {
		if e.Status == domain.EntryWaiting && !slices.ContainsFunc(g.waiting, func(q domain.QueueEntry) bool { return q.ID == e.ID }) {
			return g.match(ctx, e.QueueEntry)
		}
	}
	return nil
}

func (g *generator) noShow(ctx context.Context, rec *interview) error {
	if g.now.Before(rec.at.Add(domain.NoShowGrace + 5*time.Minute)) {
		return nil
	}
	by := g.either(rec)
	ok, err := g.do(g.svc.ReportNoShow(ctx, meta(by), rec.id, by))
	if ok {
		g.stats.NoShows++
	}
	rec.done = err == nil
	return err
}

// session starts, completes and collects feedback on a meeting that takes place.
func (g *generator) session(ctx context.Context, rec *interview) error {
	iv, err := g.svc.LoadInterview(ctx, rec.id)
	if err != nil {
		return err
	}
	switch iv.Status() {
	case domain.StatusScheduled:
		if g.now.Before(rec.at.Add(-5 * time.Minute)) {
			return nil
		}
		by := g.either(rec)
		_, err = g.do(g.svc.StartInterview(ctx, meta(by), rec.id, by))
	case domain.StatusInProgress:
		if g.now.Before(rec.at.Add(45 * time.Minute)) {
			return nil
		}
		by := g.either(rec)
		var ok bool
		if ok, err = g.do(g.svc.CompleteInterview(ctx, meta(by), rec.id, by)); ok {
			g.stats.Completed++
			rec.feedbackAt = g.now.Add(time.Duration(1+g.pick(8)) * tick)
			for _, u := range []uuid.UUID{rec.candidate, rec.interviewer} {
				if g.chance(0.9) {
					rec.feedbackNeeded = append(rec.feedbackNeeded, u)
				}
			}
		}
	case domain.StatusCompleted:
		if g.now.Before(rec.feedbackAt) {
			return nil
		}
		for _, from := range rec.feedbackNeeded {
			in := domain.FeedbackInput{Rating: 1 + g.pick(5), Skills: map[string]int{}, Comment: comments[g.pick(len(comments))]}
			for _, k := range g.rng.Perm(len(skillNames))[:g.pick(4)] {
				in.Skills[skillNames[k]] = 1 + g.pick(5)
			}
			ok, err := g.do(g.svc.SubmitFeedback(ctx, meta(from), rec.id, from, in))
			if err != nil {
				return err
			}
			if ok {
				g.stats.Feedback++
			}
		}
		rec.done = true
	default:
		rec.done = true
	}
	return err
}

// notifications plays the notifier: what is due is sent and recorded; people read
// some of their messages a little later.
func (g *generator) notifications(ctx context.Context) error {
	for _, n := range slices.Clone(g.unread) {
		if !g.chance(0.3) {
			continue
		}
		if _, err := g.do(g.svc.MarkNotificationRead(ctx, meta(n.UserID), n.InterviewID, n.ID, n.UserID)); err != nil {
			return err
		}
		g.unread = slices.DeleteFunc(g.unread, func(u domain.Notification) bool { return u.ID == n.ID })
	}
	var still []uuid.UUID
	for _, id := range g.active {
		iv, err := g.svc.LoadInterview(ctx, id)
		if err != nil {
			return err
		}
		for _, n := range iv.DueNotifications(g.now) {
			text := fmt.Sprintf("%s: %s interview in %s, %s UTC. %s", n.Kind, iv.Profession().Label(),
				iv.Language(), iv.ScheduledAt().Format("Mon 2 Jan 15:04"), iv.MeetingLink())
			ok, err := g.do(g.svc.RecordNotificationSent(ctx, meta(uuid.Nil), n, text))
			if err != nil {
				return err
			}
			if ok {
				g.stats.Notifications++
				if g.chance(0.6) {
					g.unread = append(g.unread, n)
				}
			}
		}
		if _, more := iv.NextNotificationAt(g.now); more || !g.interviews[id].done {
			still = append(still, id)
		}
	}
	g.active = still
	return nil
}
