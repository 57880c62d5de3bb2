package domain_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/supermock/engine/domain"
)

func TestRegisterUser(t *testing.T) {
	t.Parallel()
	who, err := domain.NewTelegramIdentity(42, "@alice", " Alice ", "Liddell", "https://t.me/i/a.jpg")
	if err != nil {
		t.Fatal(err)
	}
	u, err := domain.RegisterUser(alice, who, domain.RoleAdmin, now)
	then(t, err, nil, u.Changes(), []domain.Event{domain.UserRegistered{
		UserID: alice, TelegramID: 42, Username: "alice", FirstName: "Alice", LastName: "Liddell",
		PhotoURL: "https://t.me/i/a.jpg", Role: domain.RoleAdmin, PreferredRole: domain.Candidate,
		Timezone: "Europe/Moscow", RegisteredAt: now,
	}})
	claim := domain.ClaimTelegramID(u, now)
	if claim.Stream != "telegram-42" || claim.Expected != 0 {
		t.Fatalf("claim = %+v, want telegram-42 expected to not exist", claim)
	}
	if id, ok := domain.ClaimedUser(claim.Events); !ok || id != alice {
		t.Fatalf("claimed user = %v %v, want alice", id, ok)
	}
}

func TestTelegramIdentityRefusals(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("я", 65)
	for name, call := range map[string]func() error{
		"zero id":       func() error { _, err := domain.NewTelegramIdentity(0, "u", "F", "", ""); return err },
		"long name":     func() error { _, err := domain.NewTelegramIdentity(1, "u", long, "", ""); return err },
		"photo not url": func() error { _, err := domain.NewTelegramIdentity(1, "u", "F", "", "javascript:x"); return err },
	} {
		if err := call(); !errors.Is(err, domain.ErrTelegramIdentityInvalid) {
			t.Errorf("%s: error = %v, want telegram-identity-invalid", name, err)
		}
	}
}

func TestChangeRole(t *testing.T) {
	t.Parallel()
	u := givenUser(t, registered(alice, 1))
	then(t, u.ChangeRole("owner", now), domain.ErrRoleInvalid, u.Changes(), nil)
	then(t, u.ChangeRole(domain.RoleUser, now), nil, u.Changes(), nil)
	then(t, u.ChangeRole(domain.RoleAdmin, now), nil, u.Changes(), []domain.Event{domain.RoleChanged{
		UserID: alice, TelegramID: 1, From: domain.RoleUser, To: domain.RoleAdmin, ChangedAt: now}})
	if !u.IsAdmin() {
		t.Fatal("user is not admin after RoleChanged")
	}
}

func TestUpdateProfile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   domain.ProfileInput
		want []domain.Event
		err  error
	}{
		{"timezone and names", domain.ProfileInput{FirstName: ptr(" Ann "), LastName: ptr("Lee"), Timezone: ptr("Asia/Tokyo")},
			[]domain.Event{domain.ProfileUpdated{UserID: alice, FirstName: "Ann", LastName: "Lee", Timezone: "Asia/Tokyo", UpdatedAt: now}}, nil},
		{"only timezone keeps names", domain.ProfileInput{Timezone: ptr("UTC")},
			[]domain.Event{domain.ProfileUpdated{UserID: alice, FirstName: "F", Timezone: "UTC", UpdatedAt: now}}, nil},
		{"same values record nothing", domain.ProfileInput{FirstName: ptr("F"), Timezone: ptr("Europe/Moscow")}, nil, nil},
		{"unknown timezone", domain.ProfileInput{Timezone: ptr("Mars/Olympus")}, nil, domain.ErrTimezoneInvalid},
		{"server-local timezone", domain.ProfileInput{Timezone: ptr("Local")}, nil, domain.ErrTimezoneInvalid},
		{"empty first name", domain.ProfileInput{FirstName: ptr("  ")}, nil, domain.ErrProfileNameInvalid},
		{"long last name", domain.ProfileInput{LastName: ptr(strings.Repeat("я", 65))}, nil, domain.ErrProfileNameInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := givenUser(t, registered(alice, 1))
			then(t, u.UpdateProfile(tt.in, now), tt.err, u.Changes(), tt.want)
		})
	}
}

func TestSelectProfessions(t *testing.T) {
	t.Parallel()
	chosen := domain.ProfessionsSelected{UserID: alice, Professions: []domain.Profession{"frontend-developer", "qa-engineer"}, SelectedAt: now}
	tests := []struct {
		name  string
		given []domain.Event
		slugs []string
		want  []domain.Event
		err   error
	}{
		{"kept in display order without duplicates", nil, []string{"qa-engineer", "frontend-developer", "qa-engineer"}, []domain.Event{chosen}, nil},
		{"same set in another order records nothing", []domain.Event{chosen}, []string{"qa-engineer", "frontend-developer"}, nil, nil},
		{"unknown slug", nil, []string{"frontend-developer", "astronaut"}, nil, domain.ErrProfessionUnknown},
		{"label is not a slug", nil, []string{"QA Engineer"}, nil, domain.ErrProfessionUnknown},
		{"empty", nil, nil, nil, domain.ErrProfessionsEmpty},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := givenUser(t, with([]domain.Event{registered(alice, 1)}, tt.given...)...)
			then(t, u.SelectProfessions(tt.slugs, now), tt.err, u.Changes(), tt.want)
		})
	}
}

func TestSubmitForm(t *testing.T) {
	t.Parallel()
	valid := domain.FormInput{Profession: "backend-developer", Country: "ru", Experience: "3-5", Language: "RU",
		Email: "Ann@Example.COM", Phone: "+7 (999) 123-45-67", Tools: []string{"Go", " go ", "", "Postgres"}}
	submitted := domain.FormSubmitted{UserID: alice, Profession: "backend-developer", Country: "RU", Experience: "3-5",
		Language: "ru", Email: "Ann@example.com", Phone: "+79991234567", Tools: []string{"Go", "Postgres"}, SubmittedAt: now}
	change := func(f func(*domain.FormInput)) domain.FormInput { in := valid; f(&in); return in }
	tests := []struct {
		name  string
		given []domain.Event
		in    domain.FormInput
		want  []domain.Event
		err   error
	}{
		{"normalised", nil, valid, []domain.Event{submitted}, nil},
		{"same answers record nothing", []domain.Event{submitted}, valid, nil, nil},
		{"email and phone are optional", nil, change(func(f *domain.FormInput) { f.Email, f.Phone, f.Tools = "", " ", nil }),
			[]domain.Event{domain.FormSubmitted{UserID: alice, Profession: "backend-developer", Country: "RU", Experience: "3-5",
				Language: "ru", Tools: []string{}, SubmittedAt: now}}, nil},
		{"unknown profession", nil, change(func(f *domain.FormInput) { f.Profession = "chef" }), nil, domain.ErrProfessionUnknown},
		{"country not iso", nil, change(func(f *domain.FormInput) { f.Country = "UK" }), nil, domain.ErrCountryInvalid},
		{"experience bucket", nil, change(func(f *domain.FormInput) { f.Experience = "2-4" }), nil, domain.ErrExperienceInvalid},
		{"language not iso", nil, change(func(f *domain.FormInput) { f.Language = "rus" }), nil, domain.ErrLanguageInvalid},
		{"email", nil, change(func(f *domain.FormInput) { f.Email = "Ann <ann@example.com>" }), nil, domain.ErrEmailInvalid},
		{"phone", nil, change(func(f *domain.FormInput) { f.Phone = "8 999 123 45 67" }), nil, domain.ErrPhoneInvalid},
		{"tools", nil, change(func(f *domain.FormInput) { f.Tools = []string{strings.Repeat("я", 51)} }), nil, domain.ErrToolsInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := givenUser(t, with([]domain.Event{registered(alice, 1)}, tt.given...)...)
			then(t, u.SubmitForm(tt.in, now), tt.err, u.Changes(), tt.want)
		})
	}
}

func TestJoinQueue(t *testing.T) {
	t.Parallel()
	in := func(start, end time.Time) domain.QueueInput {
		return domain.QueueInput{Role: "candidate", Profession: "backend-developer", Language: "en", WindowStart: start, WindowEnd: end}
	}
	joinedNow := func(start, end time.Time) []domain.Event {
		e := joined(alice, entA4, domain.Candidate, start, end)
		e.JoinedAt = now
		return []domain.Event{e}
	}
	twoWeeks := now.Add(domain.MaxBookingAhead)
	tests := []struct {
		name  string
		given []domain.Event
		in    domain.QueueInput
		want  []domain.Event
		err   error
	}{
		{"future window", nil, in(clock("10:00"), clock("12:00")), joinedNow(clock("10:00"), clock("12:00")), nil},
		{"a start in the past counts from now (as soon as possible)", nil, in(clock("08:00"), clock("10:30")), joinedNow(now, clock("10:30")), nil},
		{"exactly one interview long", nil, in(clock("10:00"), clock("11:00")), joinedNow(clock("10:00"), clock("11:00")), nil},
		{"starting exactly 14 days ahead", nil, in(twoWeeks, twoWeeks.Add(hr)), joinedNow(twoWeeks, twoWeeks.Add(hr)), nil},
		{"24 hours counted from now", nil, in(clock("06:00"), clock("+1d 09:00")), joinedNow(now, clock("+1d 09:00")), nil},
		{"end before start", nil, in(clock("12:00"), clock("10:00")), nil, domain.ErrQueueWindowInvalid},
		{"window in the past", nil, in(clock("07:00"), clock("08:59")), nil, domain.ErrQueueWindowInPast},
		{"start more than 14 days ahead", nil, in(twoWeeks.Add(time.Minute), twoWeeks.Add(2*hr)), nil, domain.ErrQueueWindowTooFar},
		{"shorter than the interview", nil, in(clock("10:00"), clock("10:59")), nil, domain.ErrQueueWindowTooShort},
		{"short once counted from now", nil, in(clock("07:00"), clock("09:59")), nil, domain.ErrQueueWindowTooShort},
		{"longer than 24 hours", nil, in(clock("10:00"), clock("+1d 10:01")), nil, domain.ErrQueueWindowTooLong},
		{"unknown role", nil, domain.QueueInput{Role: "observer", Profession: "backend-developer", Language: "en",
			WindowStart: clock("10:00"), WindowEnd: clock("12:00")}, nil, domain.ErrInterviewRoleInvalid},
		{"unknown profession", nil, domain.QueueInput{Role: "candidate", Profession: "chef", Language: "en",
			WindowStart: clock("10:00"), WindowEnd: clock("12:00")}, nil, domain.ErrProfessionUnknown},
		{"unknown language", nil, domain.QueueInput{Role: "candidate", Profession: "backend-developer", Language: "xx",
			WindowStart: clock("10:00"), WindowEnd: clock("12:00")}, nil, domain.ErrLanguageInvalid},
		{"three entries waiting", []domain.Event{
			joined(alice, entA, domain.Candidate, clock("10:00"), clock("11:00")),
			joined(alice, entA2, domain.Candidate, clock("11:00"), clock("12:00")),
			joined(alice, entA3, domain.Interviewer, clock("12:00"), clock("13:00")),
		}, in(clock("14:00"), clock("15:00")), nil, domain.ErrQueueTooManyEntries},
		{"an entry that can no longer fit does not count", []domain.Event{
			joined(alice, entA, domain.Candidate, clock("08:00"), clock("09:30")),
			joined(alice, entA2, domain.Candidate, clock("11:00"), clock("12:00")),
			joined(alice, entA3, domain.Interviewer, clock("12:00"), clock("13:00")),
		}, in(clock("14:00"), clock("15:00")), joinedNow(clock("14:00"), clock("15:00")), nil},
		{"left entries do not count", []domain.Event{
			joined(alice, entA, domain.Candidate, clock("10:00"), clock("11:00")),
			joined(alice, entA2, domain.Candidate, clock("11:00"), clock("12:00")),
			joined(alice, entA3, domain.Interviewer, clock("12:00"), clock("13:00")),
			domain.QueueLeft{UserID: alice, EntryID: entA2},
		}, in(clock("14:00"), clock("15:00")), joinedNow(clock("14:00"), clock("15:00")), nil},
		{"overlaps a waiting entry", []domain.Event{joined(alice, entA, domain.Interviewer, clock("10:00"), clock("12:00"))},
			in(clock("11:00"), clock("13:00")), nil, domain.ErrQueueWindowOverlaps},
		{"touching a waiting entry is fine", []domain.Event{joined(alice, entA, domain.Interviewer, clock("10:00"), clock("12:00"))},
			in(clock("12:00"), clock("13:00")), joinedNow(clock("12:00"), clock("13:00")), nil},
		{"overlaps a scheduled interview", aliceMatched()[1:],
			in(clock("12:30"), clock("14:30")), nil, domain.ErrQueueWindowOverlapsMeeting},
		{"after the interview in the matched entry's window is fine", aliceMatched()[1:],
			in(clock("13:00"), clock("14:00")), joinedNow(clock("13:00"), clock("14:00")), nil},
		{"a cancelled interview frees its time", with(aliceMatched()[1:], domain.MatchCancelled{InterviewID: ivID,
			CandidateID: alice, InterviewerID: bob, CandidateEntryID: entA, InterviewerEntryID: entB}),
			in(clock("12:30"), clock("14:30")), joinedNow(clock("12:30"), clock("14:30")), nil},
		{"the same entry id again records nothing", joinedNow(clock("10:00"), clock("12:00")),
			in(clock("10:00"), clock("12:00")), nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := givenUser(t, with([]domain.Event{registered(alice, 1)}, tt.given...)...)
			then(t, u.JoinQueue(entA4, tt.in, now, hr), tt.err, u.Changes(), tt.want)
		})
	}
}

func TestLeaveQueue(t *testing.T) {
	t.Parallel()
	waiting := joined(alice, entA, domain.Candidate, clock("10:00"), clock("14:00"))
	left := domain.QueueLeft{UserID: alice, EntryID: entA, Role: domain.Candidate, Profession: "backend-developer",
		Language: "en", WindowStart: clock("10:00"), WindowEnd: clock("14:00"), LeftAt: now}
	tests := []struct {
		name  string
		given []domain.Event
		entry uuid.UUID
		want  []domain.Event
		err   error
	}{
		{"waiting entry", []domain.Event{waiting}, entA, []domain.Event{left}, nil},
		{"already left records nothing", []domain.Event{waiting, left}, entA, nil, nil},
		{"unknown entry", []domain.Event{waiting}, entA2, nil, domain.ErrQueueEntryNotFound},
		{"matched entry", aliceMatched()[1:], entA, nil, domain.ErrQueueEntryNotWaiting},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := givenUser(t, with([]domain.Event{registered(alice, 1)}, tt.given...)...)
			then(t, u.LeaveQueue(tt.entry, now), tt.err, u.Changes(), tt.want)
		})
	}
}

func TestExpireEntry(t *testing.T) {
	t.Parallel()
	tenDays := now.AddDate(0, 0, 10)
	expired := func(at time.Time) []domain.Event {
		return []domain.Event{domain.QueueEntryExpired{UserID: alice, EntryID: entA, Role: domain.Candidate,
			Profession: "backend-developer", Language: "en", WindowStart: clock("10:00"), WindowEnd: clock("12:00"), ExpiredAt: at}}
	}
	tests := []struct {
		name  string
		given []domain.Event
		at    time.Time
		want  []domain.Event
		err   error
	}{
		{"a booking 10 days ahead is still waiting 3 hours later",
			[]domain.Event{joined(alice, entA, domain.Candidate, tenDays, tenDays.Add(2*hr))}, now.Add(3 * hr), nil, domain.ErrQueueEntryNotExpired},
		{"a window that has passed expires",
			[]domain.Event{joined(alice, entA, domain.Candidate, clock("10:00"), clock("12:00"))}, clock("12:30"), expired(clock("12:30")), nil},
		{"the last instant an interview fits is not expired",
			[]domain.Event{joined(alice, entA, domain.Candidate, clock("10:00"), clock("12:00"))}, clock("11:00"), nil, domain.ErrQueueEntryNotExpired},
		{"a microsecond later it is",
			[]domain.Event{joined(alice, entA, domain.Candidate, clock("10:00"), clock("12:00"))}, clock("11:00").Add(time.Microsecond),
			expired(clock("11:00").Add(time.Microsecond)), nil},
		{"a matched entry records nothing", aliceMatched()[1:], clock("15:00"), nil, nil},
		{"unknown entry", nil, clock("15:00"), nil, domain.ErrQueueEntryNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := givenUser(t, with([]domain.Event{registered(alice, 1)}, tt.given...)...)
			then(t, u.ExpireEntry(entA, tt.at, hr), tt.err, u.Changes(), tt.want)
			if e, ok := u.Entry(entA); ok && tt.err != nil && e.Status != domain.EntryWaiting {
				t.Fatalf("refused expiry left the entry %s", e.Status)
			}
		})
	}
}

func TestWindowExpiresAt(t *testing.T) {
	t.Parallel()
	w := domain.Window{Start: clock("10:00"), End: clock("12:00")}
	if got := w.ExpiresAt(hr); !got.Equal(clock("11:00")) {
		t.Fatalf("ExpiresAt = %s, want 11:00", got)
	}
	if w.Expired(clock("11:00"), hr) || !w.Expired(clock("11:00:01"), hr) {
		t.Fatal("a window expires right after the last instant an interview fits")
	}
}
