// Package demo generates a realistic history through the domain: users register, pick
// professions, fill in the form, join the queue, get matched, meet, give feedback,
// cancel, fail to show up, read their notifications. Everything random comes from one
// seed and the time from a simulated clock, so a seed and a start always give the same
// events (stream, version, type, payload, occurred_at); only the envelope's event ids
// and recorded_at differ. Each event occurred at its simulated time: a history that
// ends now leaves entries waiting and interviews scheduled in the days after.
package demo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/internal/eventlog"
)

// Config of a generated history.
type Config struct {
	Users int    // default 100
	Seed  uint64 // the same seed gives the same history
	// Days of simulated time (default 14); the simulation stops earlier at MaxEvents.
	Days      int
	MaxEvents int
	// Start of the simulated time (default 2025-03-03 08:00 UTC).
	Start time.Time
	// FlushEvery is how many events go into one transaction (default 2000).
	FlushEvery int
	// Progress, when set, is called after every simulated hour.
	Progress func(Stats)
	// Log is the log to append to, with its master key; default a store over the pool.
	Log *eventlog.Store
}

func (c *Config) setDefaults() {
	if c.Users <= 0 {
		c.Users = 100
	}
	if c.Days <= 0 {
		c.Days = 14
	}
	if c.Start.IsZero() {
		c.Start = time.Date(2025, 3, 3, 8, 0, 0, 0, time.UTC)
	}
	if c.FlushEvery <= 0 {
		c.FlushEvery = 2000
	}
}

// Stats counts what a generation did.
type Stats struct {
	Events, Users, Joins, Matches, Completed, Cancelled, NoShows, Feedback, Notifications int
	SimulatedUntil                                                                        time.Time
}

const tick = 15 * time.Minute

var errEnough = errors.New("enough events")

// SeedUsedError is returned when the log holds a history of the same seed already:
// its users would be registered twice. Free is a seed that is not used yet.
type SeedUsedError struct{ Seed, Free uint64 }

func (e *SeedUsedError) Error() string {
	return fmt.Sprintf("the log holds a demo history of seed %d already; seed %d is free", e.Seed, e.Free)
}

// seedUsed reports whether the log has the first user of a history of seed.
func seedUsed(ctx context.Context, s *memStore, seed uint64) (bool, error) {
	events, err := s.log.Log().ReadStream(ctx, domain.TelegramStream(telegramID(seed, 0)))
	return len(events) > 0, err
}

// checkSeed refuses a seed the log has used already, naming one it has not.
func checkSeed(ctx context.Context, s *memStore, seed uint64) error {
	used, err := seedUsed(ctx, s, seed)
	if err != nil || !used {
		return err
	}
	for free := seed + 1; ; free++ {
		if used, err := seedUsed(ctx, s, free); err != nil || !used {
			if err != nil {
				return err
			}
			return &SeedUsedError{Seed: seed, Free: free}
		}
	}
}

// Generate appends a history to the log of pool, which the generator must be the only
// writer of while it runs.
func Generate(ctx context.Context, pool *pgxpool.Pool, cfg Config) (Stats, error) {
	cfg.setDefaults()
	store, err := newMemStore(pool, cfg.Log, cfg.FlushEvery)
	if err != nil {
		return Stats{}, err
	}
	defer store.close(context.WithoutCancel(ctx))
	if err := checkSeed(ctx, store, cfg.Seed); err != nil {
		return Stats{}, err
	}
	var seed [32]byte
	for i := range 8 {
		seed[i] = byte(cfg.Seed >> (8 * i))
	}
	ids := rand.NewChaCha8(seed)
	g := &generator{
		cfg: cfg, store: store, now: cfg.Start,
		rng:        rand.New(rand.NewPCG(cfg.Seed, 0x5eed)),
		interviews: map[uuid.UUID]*interview{},
	}
	g.svc, err = domain.NewService(store, domain.Config{
		Clock: domain.ClockFunc(func() time.Time { return g.now }),
		NewID: func() uuid.UUID { return uuid.Must(uuid.NewRandomFromReader(ids)) },
	})
	if err != nil {
		return Stats{}, err
	}
	err = g.run(ctx)
	if errors.Is(err, errEnough) {
		err = nil
	}
	if err == nil {
		err = store.flush(ctx)
	}
	g.stats.Events = store.events
	g.stats.SimulatedUntil = g.now
	return g.stats, err
}

type user struct {
	id          uuid.UUID
	professions []domain.Profession
	language    domain.Language
	eagerness   float64 // chance per tick of joining the queue
}

type interview struct {
	id             uuid.UUID
	candidate      uuid.UUID
	interviewer    uuid.UUID
	at             time.Time
	outcome        int       // outcomeComplete, outcomeCancel, outcomeNoShow
	cancelAt       time.Time // for outcomeCancel
	done           bool      // no command left to run
	feedbackAt     time.Time
	feedbackNeeded []uuid.UUID
}

const (
	outcomeComplete = iota
	outcomeCancel
	outcomeNoShow
)

type generator struct {
	cfg        Config
	store      *memStore
	svc        *domain.Service
	rng        *rand.Rand
	now        time.Time
	users      []*user
	waiting    []domain.QueueEntry // in log order: the matchmaker's fairness order
	interviews map[uuid.UUID]*interview
	active     []uuid.UUID // interviews in match order, until nothing is left to do
	unread     []domain.Notification
	stats      Stats
}

func (g *generator) run(ctx context.Context) error {
	end := g.cfg.Start.Add(time.Duration(g.cfg.Days) * 24 * time.Hour)
	// Users arrive over the first third of the simulation.
	arrivals := g.cfg.Users
	arrivalTicks := max(1, int(end.Sub(g.cfg.Start)/tick)/3)
	for n := 0; g.now.Before(end); n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		for due := (n + 1) * arrivals / arrivalTicks; len(g.users) < min(due, arrivals); {
			if err := g.register(ctx); err != nil {
				return err
			}
		}
		steps := []func(context.Context) error{g.joins, g.leaves, g.expiries, g.meetings, g.notifications}
		for _, step := range steps {
			if err := step(ctx); err != nil {
				return err
			}
		}
		if g.cfg.Progress != nil && n%4 == 3 {
			g.stats.Events, g.stats.SimulatedUntil = g.store.events, g.now
			g.cfg.Progress(g.stats)
		}
		g.now = g.now.Add(tick)
	}
	return nil
}

// do runs one command; a rule the simulated people break is their problem, not the
// generator's, but a failing store ends the generation.
func (g *generator) do(_ string, err error) (bool, error) { return g.check(err) }

// check is do for commands that return more than a position.
func (g *generator) check(err error) (bool, error) {
	if g.cfg.MaxEvents > 0 && g.store.events >= g.cfg.MaxEvents {
		return false, errEnough
	}
	var derr *domain.Error
	if errors.As(err, &derr) {
		return false, nil
	}
	return err == nil, err
}

func meta(actor uuid.UUID) domain.Meta {
	if actor == uuid.Nil {
		return domain.Meta{Actor: domain.SystemActor}
	}
	return domain.Meta{Actor: actor.String()}
}

func (g *generator) pick(n int) int { return g.rng.IntN(n) }
func (g *generator) chance(p float64) bool {
	return g.rng.Float64() < p
}

var (
	firstNames  = []string{"Anna", "Boris", "Daria", "Egor", "Irina", "Kirill", "Maria", "Nikita", "Olga", "Pavel", "Sofia", "Timur", "Alex", "Sam", "Lee", "Kim"}
	lastNames   = []string{"Ivanova", "Petrov", "Smirnova", "Volkov", "Kuznetsova", "Sokolov", "Novak", "Berg", "Lund", "Moreau", ""}
	timezones   = []string{"Europe/Moscow", "Europe/Berlin", "Asia/Almaty", "Asia/Yekaterinburg", "America/New_York", "Europe/London"}
	countries   = []string{"RU", "KZ", "DE", "RS", "GE", "AM", "US", "GB"}
	experiences = []string{"0-1", "1-3", "3-5", "5-10", "10+"}
	tools       = []string{"Go", "PostgreSQL", "Docker", "Kubernetes", "React", "TypeScript", "Python", "Kafka", "Figma", "Jira", "Linux", "Git"}
	skillNames  = []string{"communication", "algorithms", "system design", "coding", "testing", "domain knowledge"}
	reasons     = []string{"", "Something came up at work", "Feeling unwell", "Double-booked, sorry"}
	comments    = []string{"", "Great session, thanks!", "Clear questions and useful hints.", "Work on complexity analysis.", "Strong system design, practise live coding."}
)

// The simulated people interview for a handful of professions, as real ones crowd.
var popular = []domain.Profession{"backend-developer", "frontend-developer", "fullstack-developer",
	"qa-engineer", "devops-engineer", "data-scientist", "mobile-developer", "product-manager"}

// telegramID spreads seeds apart, so histories of different seeds can share a log.
func telegramID(seed uint64, i int) int64 {
	return 100_000_000 + int64(seed%1000)*10_000_000 + int64(i)*7 + 1
}

func (g *generator) register(ctx context.Context) error {
	i := len(g.users)
	first := firstNames[g.pick(len(firstNames))]
	reg, err := g.svc.RegisterFromTelegram(ctx, meta(uuid.Nil), domain.TelegramLogin{
		TelegramID: telegramID(g.cfg.Seed, i), Username: fmt.Sprintf("%s_%d", first, i),
		FirstName: first, LastName: lastNames[g.pick(len(lastNames))],
		PhotoURL: fmt.Sprintf("https://t.me/i/userpic/320/u%d.jpg", i), Admin: i == 0,
	})
	if _, err := g.check(err); err != nil {
		return err
	}
	u := &user{id: reg.UserID, language: "ru", eagerness: 0.005 + 0.03*g.rng.Float64()}
	if g.chance(0.35) {
		u.language = "en"
	}
	for _, k := range g.rng.Perm(len(popular))[:1+g.pick(3)] {
		u.professions = append(u.professions, popular[k])
	}
	g.users = append(g.users, u)
	g.stats.Users++
	slugs := make([]string, len(u.professions))
	for k, p := range u.professions {
		slugs[k] = string(p)
	}
	m := meta(u.id)
	if _, err := g.do(g.svc.SelectProfessions(ctx, m, u.id, slugs)); err != nil {
		return err
	}
	if g.chance(0.8) {
		form := domain.FormInput{Profession: slugs[0], Country: countries[g.pick(len(countries))],
			Experience: experiences[g.pick(len(experiences))], Language: string(u.language)}
		for _, k := range g.rng.Perm(len(tools))[:g.pick(5)] {
			form.Tools = append(form.Tools, tools[k])
		}
		if g.chance(0.5) {
			form.Email = fmt.Sprintf("user%d@example.org", i)
		}
		if _, err := g.do(g.svc.SubmitForm(ctx, m, u.id, form)); err != nil {
			return err
		}
	}
	if g.chance(0.3) {
		tz := timezones[g.pick(len(timezones))]
		if _, err := g.do(g.svc.UpdateProfile(ctx, m, u.id, domain.ProfileInput{Timezone: &tz})); err != nil {
			return err
		}
	}
	return nil
}

func (g *generator) joins(ctx context.Context) error {
	for _, u := range g.users {
		if !g.chance(u.eagerness) {
			continue
		}
		cur, err := g.svc.LoadUser(ctx, u.id)
		if err != nil {
			return err
		}
		// New users all prefer to be candidates; enough of them offer to interview.
		role := cur.PreferredRole()
		if g.chance(0.45) {
			role = role.Opposite()
		}
		in := domain.QueueInput{Role: string(role), Language: string(u.language),
			Profession: string(u.professions[g.pick(len(u.professions))])}
		if g.chance(0.15) { // as soon as possible
			in.WindowStart, in.WindowEnd = g.now, g.now.Add(time.Duration(90+g.pick(4)*30)*time.Minute)
		} else {
			in.WindowStart = g.now.Truncate(time.Hour).Add(time.Duration(2+g.pick(70)) * time.Hour)
			in.WindowEnd = in.WindowStart.Add(time.Duration(2+g.pick(6)) * time.Hour)
		}
		entryID, _, err := g.svc.JoinQueue(ctx, meta(u.id), u.id, in)
		if ok, err := g.check(err); err != nil {
			return err
		} else if !ok {
			continue
		}
		g.stats.Joins++
		entry, _ := func() (domain.UserEntry, bool) {
			after, err := g.svc.LoadUser(ctx, u.id)
			if err != nil {
				return domain.UserEntry{}, false
			}
			return after.Entry(entryID)
		}()
		if err := g.match(ctx, entry.QueueEntry); err != nil {
			return err
		}
	}
	return nil
}

// match plays the matchmaker for a new or requeued entry: the oldest compatible
// waiting entry wins (rule 4), else the entry waits.
func (g *generator) match(ctx context.Context, e domain.QueueEntry) error {
	other, _, found := domain.FindMatch(e, g.waiting, g.now, g.svc.InterviewDuration())
	if !found {
		g.waiting = append(g.waiting, e)
		return nil
	}
	id, _, err := g.svc.MakeMatch(ctx, meta(uuid.Nil), domain.EntryRef{UserID: other.UserID, EntryID: other.ID},
		domain.EntryRef{UserID: e.UserID, EntryID: e.ID})
	if ok, err := g.check(err); err != nil {
		return err
	} else if !ok {
		g.waiting = append(g.waiting, e)
		return nil
	}
	g.dropWaiting(other.ID)
	iv, err := g.svc.LoadInterview(ctx, id)
	if err != nil {
		return err
	}
	g.stats.Matches++
	rec := &interview{id: id, candidate: iv.Candidate(), interviewer: iv.Interviewer(), at: iv.ScheduledAt()}
	switch r := g.rng.Float64(); {
	case r < 0.12:
		rec.outcome = outcomeCancel
		rec.cancelAt = g.now.Add(time.Duration(g.rng.Int64N(int64(max(iv.ScheduledAt().Sub(g.now), tick)))))
	case r < 0.2:
		rec.outcome = outcomeNoShow
	}
	g.interviews[id] = rec
	g.active = append(g.active, id)
	return nil
}

func (g *generator) dropWaiting(entry uuid.UUID) {
	g.waiting = slices.DeleteFunc(g.waiting, func(q domain.QueueEntry) bool { return q.ID == entry })
}

func (g *generator) leaves(ctx context.Context) error {
	for _, e := range slices.Clone(g.waiting) {
		if !g.chance(0.004) {
			continue
		}
		if _, err := g.do(g.svc.LeaveQueue(ctx, meta(e.UserID), e.UserID, e.ID)); err != nil {
			return err
		}
		g.dropWaiting(e.ID)
	}
	return nil
}

func (g *generator) expiries(ctx context.Context) error {
	for _, e := range slices.Clone(g.waiting) {
		if !e.Window.Expired(g.now, g.svc.InterviewDuration()) {
			continue
		}
		if _, err := g.do(g.svc.ExpireEntry(ctx, meta(uuid.Nil), e.UserID, e.ID)); err != nil {
			return err
		}
		g.dropWaiting(e.ID)
	}
	return nil
}
