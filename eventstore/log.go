package eventstore

import (
	"log/slog"

	"github.com/ThreeDotsLabs/watermill"
)

// WatermillLogger bridges watermill's own log to l. watermill logs every poll at trace
// and every delivered message at debug, and a subscriber's start and stop at info;
// each goes one step down, below slog's debug for the first two, so LOG_LEVEL=debug
// shows the subscribers' lifecycle but no line per poll or per event. Errors stay errors.
func WatermillLogger(l *slog.Logger) watermill.LoggerAdapter {
	return watermill.NewSlogLoggerWithLevelMapping(l, map[slog.Level]slog.Level{
		slog.LevelInfo:  slog.LevelDebug,
		slog.LevelDebug: slog.LevelDebug - 2,
	})
}
