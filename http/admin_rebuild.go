package http

import (
	"context"
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/supermock/engine/projections"
)

// rebuildStartWait is how long the route waits for a rebuild to take its lock and
// report, so a refusal (one is already running) is still an answer to the request.
const rebuildStartWait = 5 * time.Second

type rebuildResponse struct {
	Projection string `json:"projection"`
	Phase      string `json:"phase"` // starting, building, switching or done
	Done       int64  `json:"done"`
	Total      int64  `json:"total"`
}

// rebuildAll names every projection in the rebuild route: they are rebuilt together,
// reading the log once.
const rebuildAll = "all"

// rebuild rebuilds one projection (or all) from position zero in the background, reads
// going on meanwhile: 202 once it runs (200 when it is done by then), 409
// rebuild-running when one already runs anywhere, 404 projection-not-found. Progress goes to
// projection_rebuilds and the log; the rebuild stops with the server and a later one
// starts over.
func (s *server) rebuild(c *fiber.Ctx) error {
	name := c.Params("name")
	var names []string
	if name != rebuildAll {
		names = append(names, name)
	}
	ps, err := projections.Select(names...)
	if errors.Is(err, projections.ErrUnknownProjection) {
		return newError(fiber.StatusNotFound, "projection-not-found", err.Error())
	}
	if err != nil {
		return err
	}
	progress := make(chan projections.Progress, 1)
	result := make(chan error, 1)
	log := s.logger(c).With("projection", name)
	s.background.Go(func() {
		err := projections.Rebuild(s.lifetime, s.Pool, s.Store.Log(), ps, projections.RebuildConfig{
			Logger: log,
			Progress: func(p projections.Progress) {
				select {
				case progress <- p:
				default:
				}
			},
		})
		switch {
		case err == nil:
			log.Info("projection rebuilt")
		case errors.Is(err, projections.ErrRebuildRunning), errors.Is(err, context.Canceled):
		default:
			log.Error("projection rebuild failed", "err", err)
		}
		result <- err
	})
	select {
	case p := <-progress:
		return c.Status(fiber.StatusAccepted).JSON(rebuildResponse{Projection: name, Phase: p.Phase, Done: p.Done, Total: p.Total})
	case err := <-result:
		if errors.Is(err, projections.ErrRebuildRunning) {
			return newError(fiber.StatusConflict, "rebuild-running", err.Error())
		}
		if err != nil {
			return err
		}
		return c.JSON(rebuildResponse{Projection: name, Phase: "done"})
	case <-time.After(rebuildStartWait):
		return c.Status(fiber.StatusAccepted).JSON(rebuildResponse{Projection: name, Phase: "starting"})
	}
}
