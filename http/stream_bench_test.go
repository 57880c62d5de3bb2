package http_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/eventstore"
	"github.com/supermock/engine/projections"
)

// BenchmarkStreamDelivery is commit → GET /api/stream delivery with 1 000 streams open
// (200 users, 5 each) while b.N events are committed at 500 a second, every consumer
// running. Each event is a user joining or leaving the queue, so it reaches that user's
// five streams: the latency runs from the command's return (its commit) to the event's
// arrival on each stream. The baseline in the same run is the lower bound of that: the
// commit → the queue's read table has it (an event is shown from the read table once it
// is there). It reports the heap and stack per open stream too.
func BenchmarkStreamDelivery(b *testing.B) {
	// 100 a second too: on a loaded machine the read tables keep up with that.
	for _, rate := range []int{500, 100} {
		b.Run(fmt.Sprintf("events=%d/s", rate), func(b *testing.B) { streamDelivery(b, rate) })
	}
}

func streamDelivery(b *testing.B, rate int) {
	const users, perUser, workers = 200, 5, 8
	e := start(b, options{consumers: true})
	ctx := context.Background()
	ids := make([]uuid.UUID, users)
	for i := range ids {
		reg, err := e.svc.RegisterFromTelegram(ctx, domain.Meta{Actor: domain.SystemActor},
			domain.TelegramLogin{TelegramID: int64(760000 + i), Username: fmt.Sprintf("bench%d", i)})
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = reg.UserID
	}
	streams, perStream, _ := openMany(b, e, ids, perUser)
	watcher := e.store.Log().NewWatcher(eventstore.WatcherConfig{})
	watching, stopWatching := context.WithCancel(ctx)
	defer stopWatching()
	go func() { _ = watcher.Run(watching) }()
	var visible []time.Duration
	var shown sync.WaitGroup

	type arrival struct {
		id string
		at time.Time
	}
	var mu sync.Mutex
	committed := map[string]time.Time{}
	var arrivals []arrival
	var readers sync.WaitGroup
	arrived := make(chan struct{}, b.N*perUser)
	for _, s := range streams {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				ev, err := s.read()
				if err != nil {
					return // the benchmark closed it
				}
				at := time.Now()
				mu.Lock()
				arrivals = append(arrivals, arrival{ev.ID, at})
				mu.Unlock()
				arrived <- struct{}{}
			}
		}()
	}

	// Each worker owns users i ≡ w (mod workers): it joins and leaves for them in turn.
	jobs := make([]chan int, workers)
	var load sync.WaitGroup
	for w := range jobs {
		jobs[w] = make(chan int, rate)
		load.Add(1)
		go func() {
			defer load.Done()
			entries := map[int]uuid.UUID{}
			for u := range jobs[w] {
				id, meta := ids[u], domain.Meta{Actor: ids[u].String()}
				var pos string
				var err error
				if entry, waiting := entries[u]; waiting {
					pos, err = e.svc.LeaveQueue(ctx, meta, id, entry)
					delete(entries, u)
				} else {
					now := time.Now()
					entries[u], pos, err = e.svc.JoinQueue(ctx, meta, id, domain.QueueInput{Role: "candidate",
						Profession: "game-developer", Language: "en", WindowStart: now, WindowEnd: now.Add(3 * time.Hour)})
				}
				if err != nil {
					b.Error(err)
					return
				}
				at := time.Now()
				mu.Lock()
				committed[pos] = at
				mu.Unlock()
				shown.Add(1)
				go func() {
					defer shown.Done()
					p, _ := eventstore.ParsePosition(pos)
					if watcher.Wait(watching, projections.EntryOf.Groups(), p) == nil {
						mu.Lock()
						visible = append(visible, time.Since(at))
						mu.Unlock()
					}
				}()
			}
		}()
	}
	b.ResetTimer()
	began := time.Now()
	tick := time.NewTicker(time.Second / time.Duration(rate))
	for i := range b.N {
		<-tick.C
		u := i % users
		jobs[u%workers] <- u
	}
	tick.Stop()
	for _, j := range jobs {
		close(j)
	}
	load.Wait()
	sent := time.Since(began)
	deadline := time.After(2 * time.Minute)
	for range b.N * perUser {
		select {
		case <-arrived:
		case <-deadline:
			b.Fatalf("the streams were not told all %d events", b.N*perUser)
		}
	}
	b.StopTimer()
	shown.Wait()
	for _, s := range streams {
		s.close()
	}
	readers.Wait()
	latencies := make([]time.Duration, 0, len(arrivals))
	for _, a := range arrivals {
		c, ok := committed[a.id]
		if !ok {
			b.Fatalf("a stream was told of %s, which no command committed", a.id)
		}
		// An event may arrive before its command has returned: then it took no time.
		latencies = append(latencies, max(a.at.Sub(c), 0))
	}
	slices.Sort(latencies)
	q := func(d []time.Duration, p float64) float64 {
		return float64(d[int(p*float64(len(d)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(q(latencies, 0.5), "p50-ms")
	b.ReportMetric(q(latencies, 0.99), "p99-ms")
	b.ReportMetric(q(latencies, 1), "max-ms")
	slices.Sort(visible)
	b.ReportMetric(q(visible, 0.5), "table-p50-ms")
	b.ReportMetric(q(visible, 0.99), "table-p99-ms")
	b.ReportMetric(float64(b.N)/sent.Seconds(), "events/s")
	b.ReportMetric(perStream/1024, "KiB/stream")
}
