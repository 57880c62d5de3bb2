// Package projections keeps the read tables of the engine: each projection folds the
// log into its tables, live as a consumer group of its own (rows and offset commit in
// one transaction) or from position zero into shadow tables that are switched in
// atomically (rebuild). It also reports positions and lag, and replays the log.
package projections

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/eventstore"
)

// Projection turns events into changes of its tables. It is pure: no I/O, no clock, no
// randomness, every value comes from the event or its envelope. So the live runner and
// a rebuild, which execute the same changes, end with the same rows, and a rebuild can
// batch the changes of thousands of events into a few statements.
type Projection interface {
	Name() string
	// Tables are the read tables it owns; migrations create them.
	Tables() []string
	// Handles reports whether the projection reads events of this type; others are
	// neither decoded nor counted.
	Handles(eventType string) bool
	// Types are the event types it handles, sorted.
	Types() []string
	// Project records what one event changes.
	Project(env eventstore.Envelope, event any, c *Changes) error
}

// ErrUnknownProjection is returned for a name no projection has.
var ErrUnknownProjection = errors.New("unknown projection")

// All returns every projection of the engine, in a fixed order.
func All() []Projection {
	return []Projection{
		Users(), SelectedProfessions(), UserFormData(), InterviewQueue(),
		Interviews(), InterviewSessions(), Feedback(), Notifications(),
	}
}

// Select returns the projections with the given names, in the order of All; no name
// means all of them.
func Select(names ...string) ([]Projection, error) {
	all := All()
	if len(names) == 0 {
		return all, nil
	}
	var out []Projection
	for _, p := range all {
		if slices.Contains(names, p.Name()) {
			out = append(out, p)
		}
	}
	for _, n := range names {
		if !slices.ContainsFunc(out, func(p Projection) bool { return p.Name() == n }) {
			return nil, fmt.Errorf("%w: %q", ErrUnknownProjection, n)
		}
	}
	return out, nil
}

// handler projects one event type.
type handler struct {
	eventType string
	project   func(env eventstore.Envelope, event any, c *Changes) error
}

// on binds a typed function to the event type E. The codec decodes payloads into values
// of the registered type, so the assertion only fails for a codec that disagrees with
// the domain.
func on[E domain.Event](f func(env eventstore.Envelope, e E, c *Changes)) handler {
	var zero E
	return handler{eventType: zero.EventType(), project: func(env eventstore.Envelope, event any, c *Changes) error {
		e, ok := event.(E)
		if !ok {
			return fmt.Errorf("event %s: decoded as %T, want %T", env.EventID, event, zero)
		}
		f(env, e, c)
		return nil
	}}
}

// projection is the one implementation of Projection: a name, its tables and a
// function per event type. Each read table's file only says what an event writes.
type projection struct {
	name     string
	tables   []string
	handlers map[string]handler
}

func define(name string, tables []string, handlers ...handler) *projection {
	p := &projection{name: name, tables: tables, handlers: make(map[string]handler, len(handlers))}
	for _, h := range handlers {
		p.handlers[h.eventType] = h
	}
	return p
}

func (p *projection) Name() string                  { return p.name }
func (p *projection) Tables() []string              { return slices.Clone(p.tables) }
func (p *projection) Handles(eventType string) bool { _, ok := p.handlers[eventType]; return ok }
func (p *projection) Types() []string               { return slices.Sorted(maps.Keys(p.handlers)) }

func (p *projection) Project(env eventstore.Envelope, event any, c *Changes) error {
	h, ok := p.handlers[env.EventType]
	if !ok {
		return nil
	}
	return h.project(env, event, c)
}
