package domain

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// onInterview is the shape of every command that touches the interview stream only.
func (s *Service) onInterview(ctx context.Context, meta Meta, id uuid.UUID, decide func(*Interview, time.Time) error) (string, error) {
	return s.retry(ctx, func(now time.Time) (string, error) {
		iv, err := s.LoadInterview(ctx, id)
		if err != nil {
			return "", err
		}
		if err := decide(iv, now); err != nil {
			return "", err
		}
		return s.commit(ctx, meta, now, iv)
	})
}

// onParticipants is the shape of commands that also write to the users' streams.
func (s *Service) onParticipants(ctx context.Context, meta Meta, id uuid.UUID,
	decide func(iv *Interview, candidate, interviewer *User, now time.Time) error) (string, error) {
	return s.retry(ctx, func(now time.Time) (string, error) {
		iv, err := s.LoadInterview(ctx, id)
		if err != nil {
			return "", err
		}
		candidate, interviewer, err := s.participants(ctx, iv)
		if err != nil {
			return "", err
		}
		if err := decide(iv, candidate, interviewer, now); err != nil {
			return "", err
		}
		return s.commit(ctx, meta, now, iv, candidate, interviewer)
	})
}

func (s *Service) StartInterview(ctx context.Context, meta Meta, interviewID, userID uuid.UUID) (string, error) {
	return s.onInterview(ctx, meta, interviewID, func(iv *Interview, now time.Time) error { return iv.Start(userID, now) })
}

func (s *Service) CompleteInterview(ctx context.Context, meta Meta, interviewID, userID uuid.UUID) (string, error) {
	return s.onInterview(ctx, meta, interviewID, func(iv *Interview, now time.Time) error { return iv.Complete(userID, now) })
}

// FinishInterview starts the interview if nobody has yet and completes it, in one
// append: for clients that know no separate start.
func (s *Service) FinishInterview(ctx context.Context, meta Meta, interviewID, userID uuid.UUID) (string, error) {
	return s.onInterview(ctx, meta, interviewID, func(iv *Interview, now time.Time) error {
		if err := iv.Start(userID, now); err != nil {
			return err
		}
		return iv.Complete(userID, now)
	})
}

func (s *Service) CancelInterview(ctx context.Context, meta Meta, interviewID, userID uuid.UUID, reason string) (string, error) {
	return s.onParticipants(ctx, meta, interviewID, func(iv *Interview, c, i *User, now time.Time) error {
		return CancelInterview(iv, c, i, userID, reason, now, s.duration)
	})
}

func (s *Service) ReportNoShow(ctx context.Context, meta Meta, interviewID, reporterID uuid.UUID) (string, error) {
	return s.onParticipants(ctx, meta, interviewID, func(iv *Interview, c, i *User, now time.Time) error {
		absent := c
		if reporterID == iv.Candidate() {
			absent = i
		}
		return ReportNoShow(iv, absent, reporterID, now)
	})
}

func (s *Service) SubmitFeedback(ctx context.Context, meta Meta, interviewID, userID uuid.UUID, in FeedbackInput) (string, error) {
	return s.onParticipants(ctx, meta, interviewID, func(iv *Interview, c, i *User, now time.Time) error {
		return SubmitFeedback(iv, c, i, userID, in, now)
	})
}

// RecordNotificationSent is the notifier's command after delivering n.
func (s *Service) RecordNotificationSent(ctx context.Context, meta Meta, n Notification, text string) (string, error) {
	return s.onInterview(ctx, meta, n.InterviewID, func(iv *Interview, now time.Time) error {
		return iv.RecordNotificationSent(n.ID, text, now)
	})
}

func (s *Service) MarkNotificationRead(ctx context.Context, meta Meta, interviewID, notificationID, userID uuid.UUID) (string, error) {
	return s.onInterview(ctx, meta, interviewID, func(iv *Interview, now time.Time) error {
		return iv.MarkNotificationRead(notificationID, userID, now)
	})
}
