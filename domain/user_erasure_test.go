package domain_test

import (
	"testing"

	"github.com/supermock/engine/domain"
)

// An erasure ends the user's waiting entries and records itself once; the erased user
// reads as nobody in particular.
func TestErasePersonalData(t *testing.T) {
	t.Parallel()
	u := givenUser(t, registered(alice, 1), joined(alice, entA, domain.Candidate, clock("12:00"), clock("15:00")))
	err := u.ErasePersonalData(alice, now)
	then(t, err, nil, u.Changes(), []domain.Event{
		domain.QueueLeft{UserID: alice, EntryID: entA, Role: domain.Candidate, Profession: "backend-developer", Language: "en",
			WindowStart: clock("12:00"), WindowEnd: clock("15:00"), LeftAt: now},
		domain.PersonalDataErased{UserID: alice, ErasedBy: alice, ErasedAt: now},
	})
	if !u.Erased() || u.FirstName() != domain.ErasedName || u.Username() != "" || len(u.WaitingEntries()) != 0 {
		t.Fatalf("after the erasure: erased %v, %q %q, %d waiting", u.Erased(), u.FirstName(), u.Username(), len(u.WaitingEntries()))
	}
	again := givenUser(t, registered(alice, 1), domain.PersonalDataErased{UserID: alice, ErasedBy: bob, ErasedAt: now})
	then(t, again.ErasePersonalData(alice, now), nil, again.Changes(), nil)
}
