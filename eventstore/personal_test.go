package eventstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/supermock/engine/eventstore"
	"github.com/supermock/engine/internal/testdb"
)

// noteTaken has a personal field (Text, of Author) beside plain ones.
type noteTaken struct {
	Author string   `json:"author"`
	Text   string   `json:"text"`
	Tags   []string `json:"tags"`
	Topic  string   `json:"topic"`
}

func personalStore(t *testing.T, master []byte) (*eventstore.Store, *pgxpool.Pool) {
	t.Helper()
	pool := testdb.New(t)
	return personalStoreOn(t, pool, master), pool
}

// noteCodec knows NoteTaken; personal says it declares its personal fields.
func noteCodec(t *testing.T, personal bool) *eventstore.Codec {
	t.Helper()
	codec := newCodec(t)
	if err := codec.Register("NoteTaken", 1, noteTaken{}); err != nil {
		t.Fatal(err)
	}
	if personal {
		codec.DeclarePersonal(func(event any) (string, []string) {
			if n, ok := event.(noteTaken); ok {
				return n.Author, []string{"text", "tags"}
			}
			return "", nil
		})
	}
	return codec
}

func personalStoreOn(t *testing.T, pool *pgxpool.Pool, masters ...[]byte) *eventstore.Store {
	t.Helper()
	codec := noteCodec(t, true)
	keys, err := eventstore.NewKeyring(pool, masters[0], masters[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	store := eventstore.New(pool, codec, nil)
	store.EncryptWith(keys)
	return store
}

func masterKey(t *testing.T) []byte {
	t.Helper()
	key := make([]byte, eventstore.MasterKeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	return key
}

func storedPayloads(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	var all string
	if err := pool.QueryRow(context.Background(), `SELECT coalesce(string_agg(payload::text, ' '), '') FROM watermill_events`).Scan(&all); err != nil {
		t.Fatal(err)
	}
	return all
}

func decodedNotes(t *testing.T, store *eventstore.Store, stream string) []noteTaken {
	t.Helper()
	envs, err := store.ReadStream(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	var out []noteTaken
	for _, env := range envs {
		e, err := store.Decode(env)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e.(noteTaken))
	}
	return out
}

func TestPersonalFieldsAreStoredEncryptedAndReadDecrypted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	master := masterKey(t)
	store, pool := personalStore(t, master)
	note := noteTaken{Author: "ann", Text: `Ann "Smith" <ann@example.com>`, Tags: []string{"secret-tag"}, Topic: "public-topic"}
	if _, err := appendTx(ctx, store, pool, eventstore.Meta{}, eventstore.StreamAppend{
		StreamID: "notes-1", Expected: eventstore.NoStream, Events: []any{note, noteTaken{Author: "ann", Topic: "empty"}},
	}); err != nil {
		t.Fatal(err)
	}
	stored := storedPayloads(t, pool)
	if strings.Contains(stored, "Smith") || strings.Contains(stored, "secret-tag") || !strings.Contains(stored, "public-topic") ||
		!strings.Contains(stored, `{"enc":"v1","sub":"ann","ct":"`) {
		t.Fatalf("stored payloads %s: want the personal fields encrypted and the rest plain", stored)
	}
	if got := decodedNotes(t, store, "notes-1"); got[0].Text != note.Text || got[0].Tags[0] != "secret-tag" || got[1].Topic != "empty" {
		t.Fatalf("decoded %+v, want %+v", got, note)
	}
	// A process started afresh with the same master key reads them too; the page
	// reader that replays hands the payload over decrypted.
	again := personalStoreOn(t, pool, master)
	if got := decodedNotes(t, again, "notes-1"); got[0].Text != note.Text {
		t.Fatalf("another process read %+v", got)
	}
	var replayed []byte
	testdb.Eventually(t, time.Minute, func() bool {
		replayed = replayed[:0]
		n, err := again.ScanAll(ctx, eventstore.Position{}, 10, func(e *eventstore.StoredEvent) error {
			replayed = append(replayed, e.Payload...)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return n == 2
	})
	if !bytes.Contains(replayed, []byte(`Smith`)) || eventstore.Sealed(replayed) {
		t.Fatalf("replayed payloads %s: want them decrypted", replayed)
	}
	// Another master key unwraps nothing.
	if _, err := personalStoreOn(t, pool, masterKey(t)).ReadStream(ctx, "notes-1"); err == nil {
		t.Fatal("a store with another master key read the personal fields")
	}
}

func TestAnErasedSubjectReadsAsErasedAndGetsNoNewKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	master := masterKey(t)
	store, pool := personalStore(t, master)
	add := func(stream string, note noteTaken) {
		t.Helper()
		if _, err := appendTx(ctx, store, pool, eventstore.Meta{}, eventstore.StreamAppend{
			StreamID: stream, Expected: eventstore.Any, Events: []any{note}}); err != nil {
			t.Fatal(err)
		}
	}
	add("notes-ann", noteTaken{Author: "ann", Text: "ann's words", Topic: "t1"})
	add("notes-bob", noteTaken{Author: "bob", Text: "bob's words", Topic: "t2"})
	if err := store.Keys().Erase(ctx, "ann"); err != nil {
		t.Fatal(err)
	}
	add("notes-ann", noteTaken{Author: "ann", Text: "written after the erasure", Topic: "t3"})
	for _, s := range []*eventstore.Store{store, personalStoreOn(t, pool, master)} {
		ann := decodedNotes(t, s, "notes-ann")
		if len(ann) != 2 || ann[0].Text != "" || ann[1].Text != "" || ann[0].Topic != "t1" || ann[1].Topic != "t3" {
			t.Fatalf("ann's notes after erasure: %+v, want the text erased and the rest kept", ann)
		}
		if bob := decodedNotes(t, s, "notes-bob"); bob[0].Text != "bob's words" {
			t.Fatalf("bob's note: %+v", bob)
		}
	}
	// The page reader of a process started afresh reads every subject's key it needs
	// at once, the tombstone too.
	var replayed []string
	testdb.Eventually(t, time.Minute, func() bool {
		replayed = replayed[:0]
		if _, err := personalStoreOn(t, pool, master).ScanAll(ctx, eventstore.Position{}, 10, func(e *eventstore.StoredEvent) error {
			replayed = append(replayed, string(e.Payload))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return len(replayed) == 3
	})
	if !strings.Contains(replayed[0], `"text":null`) || !strings.Contains(replayed[1], `"text":"bob's words"`) ||
		!strings.Contains(replayed[2], `"text":null`) || eventstore.Sealed([]byte(strings.Join(replayed, ""))) {
		t.Fatalf("replayed payloads %q: want ann's text erased and bob's decrypted", replayed)
	}
	if stored := storedPayloads(t, pool); strings.Contains(stored, "written after") {
		t.Fatalf("a note of an erased subject was stored in plain text: %s", stored)
	}
	var keys int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM data_keys WHERE subject = 'ann' AND wrapped IS NULL`).Scan(&keys); err != nil || keys != 1 {
		t.Fatalf("ann's key row: %d tombstones (%v), want one", keys, err)
	}
}

func TestPlainPersonalFieldsOfAnOlderLogStillRead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	plain := eventstore.New(pool, noteCodec(t, false), nil)
	if _, err := appendTx(ctx, plain, pool, eventstore.Meta{}, eventstore.StreamAppend{
		StreamID: "notes-1", Expected: eventstore.NoStream, Events: []any{noteTaken{Author: "ann", Text: "old plain text"}}}); err != nil {
		t.Fatal(err)
	}
	store := personalStoreOn(t, pool, masterKey(t))
	if got := decodedNotes(t, store, "notes-1"); got[0].Text != "old plain text" {
		t.Fatalf("read %+v", got)
	}
	var raw json.RawMessage
	if err := pool.QueryRow(ctx, `SELECT payload FROM watermill_events`).Scan(&raw); err != nil || !bytes.Contains(raw, []byte("old plain text")) {
		t.Fatalf("stored %s (%v)", raw, err)
	}
}

// A rotation: the new master key with the old one beside it reads everything, Rewrap
// moves every data key under the new one, and then the new key alone reads everything.
func TestRewrapMovesTheDataKeysUnderTheNewMasterKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	oldKey, newKey := masterKey(t), masterKey(t)
	store, pool := personalStore(t, oldKey)
	for _, author := range []string{"ann", "bob"} {
		if _, err := appendTx(ctx, store, pool, eventstore.Meta{}, eventstore.StreamAppend{StreamID: "notes-" + author,
			Expected: eventstore.NoStream, Events: []any{noteTaken{Author: author, Text: author + "'s words"}}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.Keys().Erase(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	rotating := personalStoreOn(t, pool, newKey, oldKey)
	if got := decodedNotes(t, rotating, "notes-ann"); got[0].Text != "ann's words" {
		t.Fatalf("during the rotation: %+v", got)
	}
	moved, err := rotating.Keys().Rewrap(ctx)
	if err != nil || moved != 1 {
		t.Fatalf("rewrapped %d keys (%v), want ann's only", moved, err)
	}
	rotated := personalStoreOn(t, pool, newKey)
	if ann, bob := decodedNotes(t, rotated, "notes-ann"), decodedNotes(t, rotated, "notes-bob"); ann[0].Text != "ann's words" || bob[0].Text != "" {
		t.Fatalf("after the rotation: %+v, %+v", ann, bob)
	}
	if _, err := personalStoreOn(t, pool, oldKey).ReadStream(ctx, "notes-ann"); err == nil {
		t.Fatal("the old master key still reads after the rotation")
	}
}
