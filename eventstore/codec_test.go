package eventstore_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/supermock/engine/eventstore"
)

type renamed struct {
	FullName string `json:"full_name"`
	Source   string `json:"source"`
}

func TestCodecUpcastsOldSchemaVersionsStepByStep(t *testing.T) {
	t.Parallel()
	c := eventstore.NewCodec()
	if err := c.Register("Renamed", 3, renamed{}); err != nil {
		t.Fatal(err)
	}
	// v1 {"name"} → v2 {"full_name"} → v3 adds "source".
	if err := c.RegisterUpcaster("Renamed", 1, func(p json.RawMessage) (json.RawMessage, error) {
		return json.RawMessage(strings.Replace(string(p), `"name"`, `"full_name"`, 1)), nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Decode("Renamed", 1, []byte(`{"name":"Ada"}`)); err == nil {
		t.Fatal("decoding without the 2→3 upcaster must fail, not guess")
	}
	if err := c.RegisterUpcaster("Renamed", 2, func(p json.RawMessage) (json.RawMessage, error) {
		var m map[string]any
		if err := json.Unmarshal(p, &m); err != nil {
			return nil, err
		}
		m["source"] = "legacy"
		return json.Marshal(m)
	}); err != nil {
		t.Fatal(err)
	}
	got, err := c.Decode("Renamed", 1, []byte(`{"name":"Ada"}`))
	if err != nil || got != (renamed{FullName: "Ada", Source: "legacy"}) {
		t.Fatalf("v1 decodes to %#v, %v", got, err)
	}
	got, err = c.Decode("Renamed", 3, []byte(`{"full_name":"Bo","source":"form"}`))
	if err != nil || got != (renamed{FullName: "Bo", Source: "form"}) {
		t.Fatalf("v3 decodes to %#v, %v", got, err)
	}
	if _, err := c.Decode("Renamed", 4, []byte(`{}`)); err == nil {
		t.Fatal("a schema version from the future must be refused")
	}
	name, version, payload, err := c.Encode(&renamed{FullName: "Cy"})
	if err != nil || name != "Renamed" || version != 3 || string(payload) != `{"full_name":"Cy","source":""}` {
		t.Fatalf("encode gave %q v%d %s, %v", name, version, payload, err)
	}
}

func TestCodecRefusesUnknownAndDuplicateTypes(t *testing.T) {
	t.Parallel()
	c := eventstore.NewCodec()
	if err := c.Register("Renamed", 1, renamed{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Decode("Vanished", 1, []byte(`{}`)); !errors.Is(err, eventstore.ErrUnknownEventType) {
		t.Errorf("decode of an unknown type: %v", err)
	}
	if _, _, _, err := c.Encode(struct{ A int }{}); !errors.Is(err, eventstore.ErrUnknownEventType) {
		t.Errorf("encode of an unknown type: %v", err)
	}
	if err := c.Register("Renamed", 1, itemAdded{}); err == nil {
		t.Error("a name registered twice must be refused")
	}
	if err := c.Register("Other", 1, renamed{}); err == nil {
		t.Error("a Go type registered under two names must be refused")
	}
	if err := c.RegisterUpcaster("Renamed", 1, nil); err == nil {
		t.Error("an upcaster from the current version must be refused")
	}
}
