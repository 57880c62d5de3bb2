package testdb

import (
	"sync/atomic"
	"time"
)

// Clock is the tree's one settable clock: a test moves it by hand to reach what the
// code under test does at a given time, instead of sleeping until then. It satisfies
// domain.Clock, and its Now method is a func() time.Time for those who take one.
type Clock struct{ now atomic.Pointer[time.Time] }

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock {
	c := &Clock{}
	c.Set(t)
	return c
}

func (c *Clock) Now() time.Time { return *c.now.Load() }

// Set moves the clock to t, backwards too.
func (c *Clock) Set(t time.Time) { c.now.Store(&t) }
