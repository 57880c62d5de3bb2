package domain_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/supermock/engine/domain"
)

// An input with several wrong fields is refused naming each of them, with its own
// error, and records nothing.
func TestEveryWrongFieldIsReported(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		call func(u *domain.User) error
		want map[string]error
	}{
		{"join with a bad role and a window too short", func(u *domain.User) error {
			return u.JoinQueue(uuid.New(), domain.QueueInput{Role: "observer", Profession: "backend-developer", Language: "en",
				WindowStart: now, WindowEnd: now.Add(10 * time.Minute)}, now, time.Hour)
		}, map[string]error{"role": domain.ErrInterviewRoleInvalid, "window_end": domain.ErrQueueWindowTooShort}},
		{"join with everything wrong", func(u *domain.User) error {
			return u.JoinQueue(uuid.New(), domain.QueueInput{Role: "x", Profession: "chef", Language: "xx1",
				WindowStart: now.Add(30 * 24 * time.Hour), WindowEnd: now.Add(31 * 24 * time.Hour)}, now, time.Hour)
		}, map[string]error{"role": domain.ErrInterviewRoleInvalid, "profession": domain.ErrProfessionUnknown,
			"language": domain.ErrLanguageInvalid, "window_start": domain.ErrQueueWindowTooFar}},
		{"a form with three wrong fields", func(u *domain.User) error {
			return u.SubmitForm(domain.FormInput{Profession: "qa-engineer", Country: "Mars", Experience: "forever",
				Language: "en", Email: "not an address"}, now)
		}, map[string]error{"country": domain.ErrCountryInvalid, "experience": domain.ErrExperienceInvalid, "email": domain.ErrEmailInvalid}},
		{"a profile with a bad name and timezone", func(u *domain.User) error {
			empty, tz := "", "Mars/Olympus"
			return u.UpdateProfile(domain.ProfileInput{FirstName: &empty, Timezone: &tz}, now)
		}, map[string]error{"first_name": domain.ErrProfileNameInvalid, "timezone": domain.ErrTimezoneInvalid}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := givenUser(t, registered(alice, 1))
			wantFields(t, tc.call(u), tc.want)
			if len(u.Changes()) != 0 {
				t.Fatalf("recorded %v", u.Changes())
			}
		})
	}
}

func TestFeedbackReportsEveryWrongField(t *testing.T) {
	t.Parallel()
	iv := givenInterview(t, scheduled(), started, completed)
	a, b := givenUser(t, aliceMatched()...), givenUser(t, bobMatched()...)
	err := domain.SubmitFeedback(iv, a, b, alice, domain.FeedbackInput{Rating: 9, Skills: map[string]int{"go": 7},
		Comment: strings.Repeat("é", domain.MaxCommentLength+1)}, clock("13:05"))
	wantFields(t, err, map[string]error{"rating": domain.ErrFeedbackRatingInvalid,
		"skills": domain.ErrFeedbackSkillInvalid, "comment": domain.ErrFeedbackCommentTooLong})
	if len(iv.Changes()) != 0 {
		t.Fatalf("recorded %v", iv.Changes())
	}
}

func wantFields(t *testing.T, err error, want map[string]error) {
	t.Helper()
	var invalid *domain.InvalidInput
	if !errors.As(err, &invalid) || len(invalid.Fields) != len(want) {
		t.Fatalf("error %v, want %d fields", err, len(want))
	}
	for _, f := range invalid.Fields {
		if w, ok := want[f.Field]; !ok || !errors.Is(f.Err, w) {
			t.Errorf("field %s: %v, want %v", f.Field, f.Err, w)
		}
	}
}
