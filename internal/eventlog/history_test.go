package eventlog_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/internal/eventlog"
)

// A store that loaded a stream before reads only what came since, yet always loads what
// a fresh store loads: after appends by another process, and not a rolled-back append.
func TestLoadsOfAKnownStreamSeeWhatAFreshLoadSees(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, store := newService(t)
	other, err := eventlog.New(store.Pool())
	if err != nil {
		t.Fatal(err)
	}
	reg, err := svc.RegisterFromTelegram(ctx, domain.Meta{Actor: domain.SystemActor},
		domain.TelegramLogin{TelegramID: 4242, Username: "grace", FirstName: "Grace"})
	if err != nil {
		t.Fatal(err)
	}
	stream := domain.UserStream(reg.UserID)
	same := func(step string) {
		t.Helper()
		got, gotVersion, err := store.Load(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		fresh, err := eventlog.New(store.Pool())
		if err != nil {
			t.Fatal(err)
		}
		want, wantVersion, err := fresh.Load(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		if gotVersion != wantVersion || !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: loaded %d events at version %d, a fresh store %d at %d", step, len(got), gotVersion, len(want), wantVersion)
		}
	}
	same("first load")
	_, v, err := store.Load(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}

	rename := func(s domain.Store, version int64, name string) error {
		_, err := s.Append(ctx, domain.Meta{Actor: domain.SystemActor}, domain.Change{Stream: stream, Expected: version,
			Events: []domain.Event{domain.ProfileUpdated{UserID: reg.UserID, FirstName: name, Timezone: "UTC"}}})
		return err
	}
	if err := rename(other, v, "elsewhere"); err != nil {
		t.Fatal(err)
	}
	same("after an append by another process")

	rolledBack := errors.New("rolled back")
	err = pgx.BeginFunc(ctx, store.Pool(), func(tx pgx.Tx) error {
		in := store.In(tx)
		if err := rename(in, v+1, "never"); err != nil {
			return err
		}
		if _, version, err := in.Load(ctx, stream); err != nil || version != v+2 {
			t.Errorf("inside the transaction: version %d, %v; want %d", version, err, v+2)
		}
		return rolledBack
	})
	if !errors.Is(err, rolledBack) {
		t.Fatal(err)
	}
	same("after a rolled-back append")

	// An append at a version the kept history has passed is still refused by the log.
	if err := rename(store, v, "stale"); !errors.Is(err, domain.ErrConcurrency) {
		t.Fatalf("stale append: %v, want a concurrency error", err)
	}
	if err := rename(store, v+1, "here"); err != nil {
		t.Fatal(err)
	}
	same("after an append here")
}
