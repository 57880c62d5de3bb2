package domain_test

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/supermock/engine/domain"
)

// The tests live on Monday 10 March 2025 (UTC); now is 09:00 unless a case says otherwise.
var (
	day = time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)
	now = clock("09:00")
	hr  = 60 * time.Minute // the interview duration under test

	alice = uuid.MustParse("aaaaaaaa-0000-0000-0000-000000000001") // candidate
	bob   = uuid.MustParse("bbbbbbbb-0000-0000-0000-000000000002") // interviewer
	carol = uuid.MustParse("cccccccc-0000-0000-0000-000000000003") // a stranger
	entA  = uuid.MustParse("aaaaaaaa-0000-0000-0000-0000000000e1")
	entA2 = uuid.MustParse("aaaaaaaa-0000-0000-0000-0000000000e2")
	entA3 = uuid.MustParse("aaaaaaaa-0000-0000-0000-0000000000e3")
	entA4 = uuid.MustParse("aaaaaaaa-0000-0000-0000-0000000000e4")
	entB  = uuid.MustParse("bbbbbbbb-0000-0000-0000-0000000000e1")
	entB2 = uuid.MustParse("bbbbbbbb-0000-0000-0000-0000000000e2")
	ivID  = uuid.MustParse("11111111-0000-0000-0000-000000000001")
)

// clock is a time of the test day, "15:04" or "15:04:05"; "+1d 10:00" is the next day.
func clock(s string) time.Time {
	offset := 0
	if n, _ := fmt.Sscanf(s, "+%dd ", &offset); n == 1 {
		s = s[len(fmt.Sprintf("+%dd ", offset)):]
	}
	layout := "15:04"
	if len(s) > 5 {
		layout = "15:04:05"
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		panic(err)
	}
	return day.AddDate(0, 0, offset).Add(time.Duration(t.Hour())*time.Hour +
		time.Duration(t.Minute())*time.Minute + time.Duration(t.Second())*time.Second)
}

func registered(id uuid.UUID, telegramID int64) domain.UserRegistered {
	return domain.UserRegistered{UserID: id, TelegramID: telegramID, Username: "u", FirstName: "F",
		Role: domain.RoleUser, PreferredRole: domain.Candidate, Timezone: domain.DefaultTimezone,
		RegisteredAt: clock("08:00")}
}

func joined(user, entry uuid.UUID, role domain.InterviewRole, start, end time.Time) domain.QueueJoined {
	return domain.QueueJoined{UserID: user, EntryID: entry, Role: role, Profession: "backend-developer",
		Language: "en", WindowStart: start, WindowEnd: end, JoinedAt: clock("08:30")}
}

func entry(user, id uuid.UUID, role domain.InterviewRole, start, end time.Time) domain.QueueEntry {
	return domain.QueueEntry{ID: id, UserID: user, Role: role, Profession: "backend-developer",
		Language: "en", Window: domain.Window{Start: start, End: end}}
}

// matched is the match of alice's entA (10:00–14:00) and bob's entB (12:00–16:00)
// into an interview at 12:00, decided at 09:00.
func matched() domain.MatchMade {
	return domain.MatchMade{InterviewID: ivID, CandidateID: alice, InterviewerID: bob,
		CandidateEntryID: entA, InterviewerEntryID: entB, Profession: "backend-developer", Language: "en",
		ScheduledAt: clock("12:00"), DurationMinutes: 60, MeetingLink: domain.MeetingLink(ivID), MatchedAt: now}
}

// aliceMatched and bobMatched are the two users' histories up to the match.
func aliceMatched() []domain.Event {
	return []domain.Event{registered(alice, 1), joined(alice, entA, domain.Candidate, clock("10:00"), clock("14:00")), matched()}
}

func bobMatched() []domain.Event {
	return []domain.Event{registered(bob, 2), joined(bob, entB, domain.Interviewer, clock("12:00"), clock("16:00")), matched()}
}

func scheduled() domain.InterviewScheduled { return domain.InterviewScheduled(matched()) }

func givenUser(t *testing.T, history ...domain.Event) *domain.User {
	t.Helper()
	u, err := domain.LoadUser(history, int64(len(history)))
	if err != nil {
		t.Fatalf("given user: %v", err)
	}
	return u
}

func givenInterview(t *testing.T, history ...domain.Event) *domain.Interview {
	t.Helper()
	iv, err := domain.LoadInterview(history, int64(len(history)))
	if err != nil {
		t.Fatalf("given interview: %v", err)
	}
	return iv
}

func with(history []domain.Event, more ...domain.Event) []domain.Event {
	return append(append([]domain.Event(nil), history...), more...)
}

// then checks the outcome of a command: the error it should refuse with, or else the
// exact events it recorded (none for a call that changes nothing).
func then(t *testing.T, err, wantErr error, got, want []domain.Event) {
	t.Helper()
	if wantErr != nil {
		if !errors.Is(err, wantErr) {
			t.Fatalf("error = %v, want %v", err, wantErr)
		}
		if len(got) != 0 {
			t.Fatalf("a refused command recorded %d events: %#v", len(got), got)
		}
		return
	}
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("recorded events differ\n got: %#v\nwant: %#v", got, want)
	}
}

func ptr[T any](v T) *T { return &v }
