package notifier

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	settled = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "supermock_notifications_total",
		Help: "Messages the senders of this process settled, by status: sent, inbox (delivery off or no chat), failed, unknown, dropped.",
	}, []string{"status"})
	answers = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "supermock_telegram_responses_total",
		Help: "Telegram's answers to sendMessage, by class: ok, 429, 5xx, 403, 4xx (another refusal), not_sent (the request never left), lost (no answer).",
	}, []string{"class"})
)

// Metrics are the notifier's collectors, for the API's registry.
func Metrics() []prometheus.Collector { return []prometheus.Collector{settled, answers} }

// answerClass is the class of a sendMessage's outcome.
func answerClass(err error) string {
	var refused *APIError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &refused) && refused.Code == 429:
		return "429"
	case errors.As(err, &refused) && refused.Code >= 500:
		return "5xx"
	case errors.As(err, &refused) && refused.Code == 403:
		return "403"
	case errors.As(err, &refused):
		return "4xx"
	case errors.Is(err, ErrNotSent):
		return "not_sent"
	}
	return "lost"
}
