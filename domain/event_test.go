package domain_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/supermock/engine/domain"
)

func TestEventTypesAreUniqueAndDecodable(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, et := range domain.EventTypes() {
		if seen[et.Name] || et.SchemaVersion < 1 {
			t.Fatalf("%s: duplicate or unversioned", et.Name)
		}
		seen[et.Name] = true
		if got := et.New().EventType(); got != et.Name {
			t.Fatalf("New() of %s is a %s", et.Name, got)
		}
	}
	for _, name := range []string{"UserRegistered", "ProfileUpdated", "ProfessionsSelected", "FormSubmitted", "QueueJoined",
		"QueueLeft", "QueueEntryExpired", "MatchMade", "InterviewScheduled", "InterviewStarted", "InterviewCompleted",
		"InterviewCancelled", "NoShowReported", "FeedbackSubmitted", "PreferredRoleSwitched", "NotificationSent", "NotificationRead"} {
		if !seen[name] {
			t.Errorf("event %s is not registered", name)
		}
	}
}

// decode is what the event store codec does with a registered type.
func decode(t *testing.T, e domain.Event) domain.Event {
	t.Helper()
	payload, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	for _, et := range domain.EventTypes() {
		if et.Name == e.EventType() {
			out := et.New()
			if err := json.Unmarshal(payload, out); err != nil {
				t.Fatal(err)
			}
			return out
		}
	}
	t.Fatalf("%s not registered", e.EventType())
	return nil
}

func TestHistoryDecodedByTheCodecReplaysTheSame(t *testing.T) {
	t.Parallel()
	history := with(bobMatched(), domain.MatchCancelled{InterviewID: ivID, CandidateID: alice, InterviewerID: bob,
		CandidateEntryID: entA, InterviewerEntryID: entB, CancelledBy: alice, ScheduledAt: clock("12:00"), CancelledAt: clock("10:00")},
		domain.QueueEntryRequeued{UserID: bob, EntryID: entB, Role: domain.Interviewer, Profession: "backend-developer", Language: "en",
			WindowStart: clock("12:00"), WindowEnd: clock("16:00"), InterviewID: ivID, RequeuedAt: clock("10:00")})
	var decoded []domain.Event
	for _, e := range history {
		d := decode(t, e)
		if reflect.DeepEqual(d, e) {
			t.Fatalf("%s decoded to a value, the codec hands pointers", e.EventType())
		}
		decoded = append(decoded, d)
	}
	want := givenUser(t, history...)
	got, err := domain.LoadUser(decoded, int64(len(decoded)))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Entries(), want.Entries()) || got.ID() != bob || len(got.ScheduledInterviews()) != 0 {
		t.Fatalf("decoded history replays to %+v, want %+v", got.Entries(), want.Entries())
	}
	if e, _ := got.Entry(entB); e.Status != domain.EntryWaiting {
		t.Fatalf("requeued entry is %s", e.Status)
	}

	iv, err := domain.LoadInterview([]domain.Event{decode(t, scheduled()), decode(t, cancelled)}, 2)
	if err != nil || iv.Status() != domain.StatusCancelled || !iv.ScheduledAt().Equal(clock("12:00")) || iv.Duration() != hr {
		t.Fatalf("decoded interview: %v %s", err, iv.Status())
	}
}

func TestStreamNames(t *testing.T) {
	t.Parallel()
	if domain.UserStream(alice) != "user-"+alice.String() || domain.InterviewStream(ivID) != "interview-"+ivID.String() ||
		domain.TelegramStream(123456789) != "telegram-123456789" {
		t.Fatal("stream names changed; they are stored data")
	}
	if _, err := domain.LoadUser(nil, 0); !errors.Is(err, domain.ErrUserNotFound) {
		t.Fatalf("empty user stream: %v", err)
	}
	if _, err := domain.LoadInterview(nil, 0); !errors.Is(err, domain.ErrInterviewNotFound) {
		t.Fatalf("empty interview stream: %v", err)
	}
}
