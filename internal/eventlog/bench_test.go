package eventlog_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/internal/eventlog"
	"github.com/supermock/engine/internal/testdb"
)

// BenchmarkCommandHistory times a join and a leave (two commands) of a user with about
// 10 events and of one with about 1 000, taking turns; the goal is the long history
// within 20 % of the short one. A store that has never loaded the user (every load
// reads and decodes the whole stream, as after a restart) runs beside it.
func BenchmarkCommandHistory(b *testing.B) {
	const rounds = 100
	ctx := context.Background()
	pool := testdb.New(b)
	service := func() *domain.Service {
		store, err := eventlog.New(pool)
		if err != nil {
			b.Fatal(err)
		}
		svc, err := domain.NewService(store, domain.Config{Clock: domain.ClockFunc(time.Now)})
		if err != nil {
			b.Fatal(err)
		}
		return svc
	}
	svc := service()
	day := time.Now().UTC().Truncate(time.Hour).Add(48 * time.Hour)
	joinLeave := func(svc *domain.Service, user uuid.UUID) error {
		entry, _, err := svc.JoinQueue(ctx, domain.Meta{}, user, domain.QueueInput{
			Role: "candidate", Profession: "data-engineer", Language: "en", WindowStart: day, WindowEnd: day.Add(2 * time.Hour)})
		if err == nil {
			_, err = svc.LeaveQueue(ctx, domain.Meta{}, user, entry)
		}
		return err
	}
	user := func(telegramID int64, pairs int) uuid.UUID {
		reg, err := svc.RegisterFromTelegram(ctx, domain.Meta{Actor: domain.SystemActor},
			domain.TelegramLogin{TelegramID: telegramID, Username: "h", FirstName: "History"})
		if err != nil {
			b.Fatal(err)
		}
		for range pairs {
			if err := joinLeave(svc, reg.UserID); err != nil {
				b.Fatal(err)
			}
		}
		return reg.UserID
	}
	short, long := user(1, 5), user(2, 500)
	var shortTimes, longTimes, coldTimes []time.Duration
	timed := func(svc *domain.Service, u uuid.UUID, into *[]time.Duration) {
		start := time.Now()
		if err := joinLeave(svc, u); err != nil {
			b.Fatal(err)
		}
		*into = append(*into, time.Since(start))
	}
	for b.Loop() {
		for r := range rounds {
			sides := []func(){
				func() { timed(svc, short, &shortTimes) },
				func() { timed(svc, long, &longTimes) },
				func() { timed(service(), long, &coldTimes) },
			}
			for k := range sides {
				sides[(r+k)%len(sides)]()
			}
		}
	}
	median := func(d []time.Duration) float64 {
		slices.Sort(d)
		return float64(d[len(d)/2].Microseconds()) / 1000
	}
	s, l, c := median(shortTimes), median(longTimes), median(coldTimes)
	b.ReportMetric(s, "short-p50-ms")
	b.ReportMetric(l, "long-p50-ms")
	b.ReportMetric(c, "long-unkept-p50-ms")
	b.ReportMetric(l/s, "long/short")
}
