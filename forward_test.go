package main

import (
	"context"
	"encoding/json"
	"io"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"

	"github.com/supermock/engine/internal/eventlog"
	"github.com/supermock/engine/internal/testdb"
	"github.com/supermock/engine/projections/natsforward"
)

// With NATS_URL the engine forwards its log to JetStream as one more consumer on the
// board: the events of the commands before a restart, of a history appended while it
// was down and of the commands after it are in the stream once each, in log order.
func TestServeForwardsTheLogToJetStreamAcrossARestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	server := testdb.NATS(t)
	vars := map[string]string{"DATABASE_URL": testdb.NewDatabase(t), "NATS_URL": server.URL(), "ADMIN_TELEGRAM_IDS": "4801"}
	login := func(s *served, id int) string {
		t.Helper()
		status, body := s.post(t, "/api/auth/dev", "", map[string]any{"telegram_id": id, "username": "u"})
		var out struct {
			Token string `json:"token"`
		}
		if err := json.Unmarshal(body, &out); err != nil || out.Token == "" {
			t.Fatalf("dev login: %d %s", status, body)
		}
		return out.Token
	}

	first := startServe(t, vars, "127.0.0.1")
	admin := login(first, 4801)
	login(first, 4802)
	var board struct {
		Consumers []consumerRow `json:"consumers"`
	}
	testdb.Eventually(t, 2*time.Minute, func() bool {
		status, body := first.get(t, "/api/admin/consumers", admin)
		if status != 200 || json.Unmarshal(body, &board) != nil {
			t.Fatalf("consumers: %d %s", status, body)
		}
		for _, c := range board.Consumers {
			if c.Name == natsforward.Group {
				return c.Running
			}
		}
		return false
	})
	first.stop()
	if err := run(ctx, []string{"demo", "--users", "20", "--seed", "7", "--days", "2"}, env(vars), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	second := startServe(t, vars, "127.0.0.1")
	login(second, 4803)

	pool, err := pgxpool.New(ctx, vars["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	log, err := eventlog.New(pool)
	if err != nil {
		t.Fatal(err)
	}
	testdb.WaitConsumed(t, log.Log(), natsforward.Group)
	conn, err := nats.Connect(server.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	js, err := conn.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	rows, err := pool.Query(ctx, `SELECT uuid FROM watermill_events ORDER BY transaction_id, "offset"`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	info, err := js.StreamInfo(natsforward.StreamName)
	if err != nil || info.State.Msgs != uint64(len(ids)) || len(ids) < 100 {
		t.Fatalf("the stream holds %+v (%v), the log %d events", info, err, len(ids))
	}
	for i, id := range ids {
		msg, err := js.GetMsg(natsforward.StreamName, uint64(i+1))
		if err != nil || msg.Header.Get(nats.MsgIdHdr) != id {
			t.Fatalf("message %d: %v %v, the log's event is %s", i+1, msg, err, id)
		}
	}
}
