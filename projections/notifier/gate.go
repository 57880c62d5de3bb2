package notifier

import (
	"context"
	"errors"
	"sync"
	"time"
)

// gate holds every sender of the process back while Telegram asked the bot to wait
// (429) or while a probe checks that Telegram answers again.
type gate struct {
	mu      sync.Mutex
	until   time.Time
	probing bool
}

// gateCheck is how often a waiting sender looks at the gate again: a probe may open
// it at any moment.
const gateCheck = 50 * time.Millisecond

func (g *gate) hold(d time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if t := time.Now().Add(d); t.After(g.until) {
		g.until = t
	}
}

// wait returns once the gate is open, or with ctx's error.
func (g *gate) wait(ctx context.Context) error {
	for {
		g.mu.Lock()
		left, probing := time.Until(g.until), g.probing
		g.mu.Unlock()
		if left <= 0 && !probing {
			return ctx.Err()
		}
		if probing || left > gateCheck {
			left = gateCheck
		}
		if err := sleep(ctx, left); err != nil {
			return err
		}
	}
}

// beginProbe closes the gate for a probe, unless another sender probes already.
func (g *gate) beginProbe() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.probing {
		return false
	}
	g.probing = true
	return true
}

// probe keeps the gate closed, after beginProbe, until Telegram answers getMe. It
// follows a sendMessage that got no answer: the next one could vanish the same way,
// while getMe is safe to repeat.
func (n *Notifier) probe(ctx context.Context) {
	defer func() {
		n.gate.mu.Lock()
		n.gate.probing = false
		n.gate.mu.Unlock()
	}()
	for attempt := 1; ctx.Err() == nil; attempt++ {
		callCtx, cancel := context.WithTimeout(ctx, n.cfg.RequestTimeout)
		err := n.tg.GetMe(callCtx)
		cancel()
		var refused *APIError
		if err == nil || errors.As(err, &refused) && refused.Code < 500 {
			return // Telegram answers (a refusal is an answer too)
		}
		n.cfg.Logger.Warn("notifier: Telegram does not answer; sending is held", "attempt", attempt, "err", err)
		if sleep(ctx, n.backoff(attempt)) != nil {
			return
		}
	}
}
