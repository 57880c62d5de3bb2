package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/supermock/engine/eventstore"
)

// encryptCommand encrypts, once, the personal fields a log written before encryption
// holds in clear; it resumes where an interrupted run stopped.
func encryptCommand(fs *flag.FlagSet) func([]string) (body, error) {
	page := fs.Int("page", 1000, "events per transaction")
	return func(args []string) (body, error) {
		if len(args) > 0 {
			return nil, fmt.Errorf("unexpected %q", args)
		}
		if *page < 1 {
			return nil, fmt.Errorf("--page must be at least 1, got %d", *page)
		}
		return func(ctx context.Context, e *runEnv) error {
			b, err := e.store.Log().EncryptInPlace(ctx, *page, func(b eventstore.Backfill) error {
				fmt.Fprintf(e.stderr, "\r%d events looked at, %d encrypted, at %s", b.Done, b.Encrypted, b.Position)
				return nil
			})
			fmt.Fprintln(e.stderr)
			if err == nil {
				fmt.Fprintf(e.stdout, "done: %d events looked at, %d encrypted\n", b.Done, b.Encrypted)
			}
			return err
		}, nil
	}
}

// rotateCommand re-wraps every user's data key under DATA_KEY that DATA_KEY_PREVIOUS
// still wraps; the events stay as they are.
func rotateCommand(ctx context.Context, e *runEnv) error {
	moved, err := e.store.Log().Keys().Rewrap(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%d data keys re-wrapped under DATA_KEY: DATA_KEY_PREVIOUS may go\n", moved)
	return nil
}
