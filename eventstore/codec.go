package eventstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
)

// ErrUnknownEventType is returned for an event whose type the codec does not know:
// such an event is an error, never silently skipped.
var ErrUnknownEventType = errors.New("unknown event type")

// Upcaster turns the payload of one schema version into the payload of the next one.
type Upcaster func(payload json.RawMessage) (json.RawMessage, error)

type registration struct {
	name      string
	version   int
	goType    reflect.Type
	upcasters map[int]Upcaster // keyed by the version they read
}

// Codec maps event type names to Go types and back. The store knows no event types of
// its own: the application registers them at start.
type Codec struct {
	mu       sync.RWMutex
	byName   map[string]*registration
	byType   map[reflect.Type]*registration
	personal Personal
}

// NewCodec returns an empty codec.
func NewCodec() *Codec {
	return &Codec{byName: map[string]*registration{}, byType: map[reflect.Type]*registration{}}
}

// Register binds name to the Go type of prototype at the current schema version.
func (c *Codec) Register(name string, version int, prototype any) error {
	if name == "" || version < 1 || prototype == nil {
		return fmt.Errorf("register event %q version %d: name, version ≥ 1 and prototype are required", name, version)
	}
	t := reflect.TypeOf(prototype)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byName[name]; ok {
		return fmt.Errorf("register event %q: already registered", name)
	}
	if other, ok := c.byType[t]; ok {
		return fmt.Errorf("register event %q: type %s already registered as %q", name, t, other.name)
	}
	r := &registration{name: name, version: version, goType: t, upcasters: map[int]Upcaster{}}
	c.byName[name] = r
	c.byType[t] = r
	return nil
}

// RegisterUpcaster adds the step that turns version from of event name into version
// from+1. Old events are upcast step by step when they are decoded.
func (c *Codec) RegisterUpcaster(name string, from int, up Upcaster) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.byName[name]
	if !ok {
		return fmt.Errorf("upcaster for %q: %w", name, ErrUnknownEventType)
	}
	if from < 1 || from >= r.version {
		return fmt.Errorf("upcaster for %q from version %d: current version is %d", name, from, r.version)
	}
	r.upcasters[from] = up
	return nil
}

// Encode returns the registered name, schema version and JSON payload of event.
func (c *Codec) Encode(event any) (name string, version int, payload []byte, err error) {
	t := reflect.TypeOf(event)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	c.mu.RLock()
	r, ok := c.byType[t]
	c.mu.RUnlock()
	if !ok {
		return "", 0, nil, fmt.Errorf("encode %v: %w", t, ErrUnknownEventType)
	}
	payload, err = json.Marshal(event)
	if err != nil {
		return "", 0, nil, fmt.Errorf("encode %s: %w", r.name, err)
	}
	return r.name, r.version, payload, nil
}

// Decode turns a stored payload of the given type and schema version into a value of
// the registered Go type, upcasting older versions first.
func (c *Codec) Decode(name string, version int, payload []byte) (any, error) {
	c.mu.RLock()
	r, ok := c.byName[name]
	c.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("decode %q: %w", name, ErrUnknownEventType)
	}
	if version > r.version {
		return nil, fmt.Errorf("decode %s: stored schema version %d is newer than %d", name, version, r.version)
	}
	for v := version; v < r.version; v++ {
		up, ok := r.upcasters[v]
		if !ok {
			return nil, fmt.Errorf("decode %s: no upcaster from schema version %d", name, v)
		}
		var err error
		if payload, err = up(payload); err != nil {
			return nil, fmt.Errorf("decode %s: upcast from version %d: %w", name, v, err)
		}
	}
	value := reflect.New(r.goType)
	if err := json.Unmarshal(payload, value.Interface()); err != nil {
		return nil, fmt.Errorf("decode %s: %w", name, err)
	}
	return value.Elem().Interface(), nil
}

// Known reports whether name is a registered event type.
func (c *Codec) Known(name string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	_, ok := c.byName[name]
	return ok
}
