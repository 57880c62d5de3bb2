package domain

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Store is the port main wires to the event store.
type Store interface {
	// Load returns all events of a stream in order and its version (0 if none).
	Load(ctx context.Context, stream string) ([]Event, int64, error)
	// Fold returns the aggregate of stream at the stream's version, folded from empty
	// by its events; a store may start from a snapshot it keeps and fold only the
	// events after it. Its appends are still checked against the stream's version in
	// the log, so a snapshot never decides a command.
	Fold(ctx context.Context, stream string, empty Snapshot) (Snapshot, error)
	// Append writes all changes or none and returns the cursor of the last event. A
	// stream not at its expected version fails with an error wrapping ErrConcurrency.
	Append(ctx context.Context, meta Meta, changes ...Change) (position string, err error)
}

// Change is the events to append to one stream, expected at the version it was
// loaded at; 0 means the stream must not exist yet.
type Change struct {
	Stream   string
	Expected int64
	Events   []Event
}

// Meta goes into every envelope of an append.
type Meta struct {
	Actor         string // a user id, or "system"
	CorrelationID string
	CausationID   string
	// OccurredAt is when the events happened: the Service sets it to the time its
	// clock gave the command's decision.
	OccurredAt time.Time
}

// at is meta for events decided at now.
func (m Meta) at(now time.Time) Meta {
	m.OccurredAt = now
	return m
}

// SystemActor is the actor of time-driven and process-manager commands.
const SystemActor = "system"

// Clock is where the Service reads the time; the domain never calls time.Now.
type Clock interface {
	Now() time.Time
}

// ClockFunc adapts a function, e.g. ClockFunc(time.Now) in main.
type ClockFunc func() time.Time

func (f ClockFunc) Now() time.Time { return f() }

// Config of the Service. Clock is required; the rest have defaults.
type Config struct {
	Clock             Clock
	InterviewDuration time.Duration    // default 60 min; whole minutes, 15 min to 4 h
	MaxAttempts       int              // tries per command on ErrConcurrency; default 5
	NewID             func() uuid.UUID // ids of users, entries, interviews; default UUIDv7
	// Keys deletes users' data keys, for ErasePersonalData.
	Keys DataKeys
}

// DataKeys is the store of the users' data keys, under which their personal data is
// kept: deleting one makes that data unreadable for good.
type DataKeys interface {
	EraseKey(ctx context.Context, userID uuid.UUID) error
}

func (c *Config) setDefaults() {
	if c.InterviewDuration == 0 {
		c.InterviewDuration = DefaultInterviewDuration
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 5
	}
	if c.NewID == nil {
		c.NewID = func() uuid.UUID { return uuid.Must(uuid.NewV7()) }
	}
}

// Validate checks a Config after its defaults are set.
func (c Config) Validate() error {
	if c.Clock == nil {
		return errors.New("domain: service needs a clock")
	}
	return ValidateInterviewDuration(c.InterviewDuration)
}

// ValidateInterviewDuration is the one rule on the length of interviews, for the
// service and the engine's configuration alike.
func ValidateInterviewDuration(d time.Duration) error {
	if d%time.Minute != 0 || d < MinInterviewDuration || d > MaxInterviewDuration {
		return fmt.Errorf("interview duration must be a whole number of minutes from %d to %d, got %s",
			MinInterviewDuration/time.Minute, MaxInterviewDuration/time.Minute, d)
	}
	return nil
}

// Service runs commands: load the aggregates, decide, append with expected versions,
// and on a concurrency conflict decide again on fresh state, a bounded number of
// times. Every method returns the position of its last event, or "" when the command
// changed nothing.
type Service struct {
	store    Store
	clock    Clock
	duration time.Duration
	attempts int
	newID    func() uuid.UUID
	keys     DataKeys
}

func NewService(store Store, cfg Config) (*Service, error) {
	if store == nil {
		return nil, errors.New("domain: service needs a store")
	}
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Service{store: store, clock: cfg.Clock, duration: cfg.InterviewDuration,
		attempts: cfg.MaxAttempts, newID: cfg.NewID, keys: cfg.Keys}, nil
}

// With returns the service with the same settings over another store, such as one
// inside a transaction that commits other rows with the command's events.
func (s *Service) With(store Store) *Service {
	out := *s
	out.store = store
	return &out
}

// InterviewDuration is the configured length of every interview.
func (s *Service) InterviewDuration() time.Duration { return s.duration }

// retry runs one decide-and-append attempt until it is not a concurrency conflict.
func (s *Service) retry(ctx context.Context, attempt func(now time.Time) (string, error)) (string, error) {
	var err error
	for range s.attempts {
		var pos string
		if pos, err = attempt(utc(s.clock.Now())); !errors.Is(err, ErrConcurrency) {
			return pos, err
		}
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
	}
	return "", fmt.Errorf("gave up after %d attempts: %w", s.attempts, err)
}

// commit appends what the aggregates recorded at now; nothing recorded means no append.
func (s *Service) commit(ctx context.Context, meta Meta, now time.Time, aggs ...Aggregate) (string, error) {
	changes := ChangesOf(aggs...)
	if len(changes) == 0 {
		return "", nil
	}
	return s.store.Append(ctx, meta.at(now), changes...)
}

func (s *Service) LoadUser(ctx context.Context, id uuid.UUID) (*User, error) {
	return FoldUser(ctx, s.store, id)
}

func (s *Service) LoadInterview(ctx context.Context, id uuid.UUID) (*Interview, error) {
	return FoldInterview(ctx, s.store, id)
}

// participants loads both users of an interview.
func (s *Service) participants(ctx context.Context, iv *Interview) (*User, *User, error) {
	candidate, err := s.LoadUser(ctx, iv.Candidate())
	if err != nil {
		return nil, nil, err
	}
	interviewer, err := s.LoadUser(ctx, iv.Interviewer())
	if err != nil {
		return nil, nil, err
	}
	return candidate, interviewer, nil
}
