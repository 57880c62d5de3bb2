package eventstore

import (
	"bytes"
	"context"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Personal tells the codec which top-level fields of an event about to be appended
// are personal data, and whose (the subject, whose key encrypts them); no fields, nothing
// personal. The application declares it beside its event types.
type Personal func(event any) (subject string, fields []string)

// A personal field is stored as {"enc":"v1","sub":"<subject>","ct":"<base64url of
// nonce and AES-256-GCM ciphertext of the field's JSON, the event id as associated
// data>"}. The shape cannot occur inside a JSON string (its quotes would be escaped),
// so the codec finds sealed values in any payload and reads plain ones as they are.
const (
	sealedPrefix = `{"enc":"v1","sub":"`
	sealedMiddle = `","ct":"`
	sealedSuffix = `"}`
)

// Erased is what a personal field reads as once its subject's key is deleted.
var Erased = json.RawMessage(`null`)

var sealedEncoding = base64.RawURLEncoding

// DeclarePersonal sets how the codec finds the personal fields of events.
func (c *Codec) DeclarePersonal(p Personal) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.personal = p
}

func (c *Codec) personalFields(event any) (string, []string) {
	c.mu.RLock()
	p := c.personal
	c.mu.RUnlock()
	if p == nil {
		return "", nil
	}
	return p(event)
}

// EncryptWith makes the store encrypt personal fields with the keys of k on append and
// decrypt them on read.
func (s *Store) EncryptWith(k *Keyring) { s.keys = k }

// Keys is the keyring of the store; nil when it encrypts nothing.
func (s *Store) Keys() *Keyring { return s.keys }

// sealing is the personal part of one message of an append.
type sealing struct {
	msg     int
	subject string
	fields  []string
}

// sealPayload returns payload with the named fields encrypted for subject, or written
// as erased when the subject is; empty values stay as they are.
func (s *Store) sealPayload(ctx context.Context, tx pgx.Tx, eventID, subject string, fields []string, payload []byte) ([]byte, error) {
	if s.keys == nil {
		return nil, fmt.Errorf("%w: personal data to store and no keyring", ErrInvalidEvent)
	}
	if subject == "" || strings.ContainsAny(subject, "\"\\") {
		return nil, fmt.Errorf("%w: subject %q", ErrInvalidEvent, subject)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(payload, &obj); err != nil {
		return nil, fmt.Errorf("%w: personal fields need an object payload: %v", ErrInvalidEvent, err)
	}
	var (
		aead   cipher.AEAD
		looked bool
	)
	for _, f := range fields {
		v, ok := obj[f]
		if !ok || emptyJSON(v) || bytes.HasPrefix(v, []byte(sealedPrefix)) {
			continue
		}
		if !looked {
			var err error
			if aead, err = s.keys.forWrite(ctx, tx, subject); err != nil {
				return nil, err
			}
			looked = true
		}
		if aead == nil {
			obj[f] = Erased
			continue
		}
		ct := sealedEncoding.EncodeToString(seal(aead, v, []byte(eventID)))
		obj[f] = json.RawMessage(sealedPrefix + subject + sealedMiddle + ct + sealedSuffix)
	}
	if !looked {
		return payload, nil
	}
	return json.Marshal(obj)
}

func emptyJSON(v json.RawMessage) bool {
	switch string(bytes.TrimSpace(v)) {
	case "null", `""`, "[]", "{}":
		return true
	}
	return false
}

// Sealed reports whether payload holds encrypted personal fields.
func Sealed(payload []byte) bool { return bytes.Contains(payload, []byte(sealedPrefix)) }

// reveal returns payload with its sealed fields decrypted, and those of erased
// subjects as Erased. A payload without sealed fields is returned as it is. With
// scratch, the result is written there (and valid until its next use) instead of
// into a new buffer.
func (s *Store) reveal(ctx context.Context, q Querier, eventID, payload []byte, scratch *[]byte) ([]byte, error) {
	if !Sealed(payload) {
		return payload, nil
	}
	if s.keys == nil {
		return nil, fmt.Errorf("event %s holds encrypted fields and the store has no keyring", eventID)
	}
	var out []byte
	if scratch != nil {
		out = (*scratch)[:0]
	}
	out = slices.Grow(out, len(payload))
	rest := payload
	for {
		i := bytes.Index(rest, []byte(sealedPrefix))
		if i < 0 {
			break
		}
		out = append(out, rest[:i]...)
		subject, ct, after, ok := sealedParts(rest[i+len(sealedPrefix):])
		if !ok {
			return nil, fmt.Errorf("%w: a malformed encrypted field in %s", ErrInvalidEvent, eventID)
		}
		rest = after
		key, ok := s.keys.cached(subject)
		aead := key.aead
		if !ok {
			var err error
			if aead, err = s.keys.forRead(ctx, q, string(subject)); err != nil {
				return nil, err
			}
		}
		if aead == nil {
			out = append(out, Erased...)
			continue
		}
		// The ciphertext is decoded and opened in place at the end of out, and the
		// plain text moved to where it belongs.
		start := len(out)
		out = slices.Grow(out, sealedEncoding.DecodedLen(len(ct)))
		sealed := out[start : start+sealedEncoding.DecodedLen(len(ct))]
		n, err := sealedEncoding.Decode(sealed, ct)
		if err == nil && n < aead.NonceSize() {
			err = errors.New("ciphertext too short")
		}
		if err != nil {
			return nil, fmt.Errorf("%w: encrypted field of %s: %v", ErrInvalidEvent, eventID, err)
		}
		nonce, box := sealed[:aead.NonceSize()], sealed[aead.NonceSize():n]
		plain, err := aead.Open(box[:0], nonce, box, eventID)
		if err != nil {
			return nil, fmt.Errorf("decrypt a field of %s: %w", eventID, err)
		}
		out = append(out[:start], plain...)
	}
	out = append(out, rest...)
	if scratch != nil {
		*scratch = out[:0] // grown, for the next event
	}
	return out, nil
}

// uncachedSubjects adds to missing the subjects of the sealed fields of payload
// whose keys are not cached.
func (s *Store) uncachedSubjects(payload []byte, missing map[string]bool) {
	if s.keys == nil || !Sealed(payload) {
		return
	}
	rest := payload
	for {
		i := bytes.Index(rest, []byte(sealedPrefix))
		if i < 0 {
			return
		}
		subject, _, after, ok := sealedParts(rest[i+len(sealedPrefix):])
		if !ok {
			return // reveal names the malformed field
		}
		if _, ok := s.keys.cached(subject); !ok {
			missing[string(subject)] = true
		}
		rest = after
	}
}

// sealedParts reads subject","ct":"ct"} after a sealed prefix.
func sealedParts(b []byte) (subject, ct, rest []byte, ok bool) {
	end := bytes.IndexByte(b, '"')
	if end < 0 || !bytes.HasPrefix(b[end:], []byte(sealedMiddle)) {
		return nil, nil, nil, false
	}
	subject, b = b[:end], b[end+len(sealedMiddle):]
	end = bytes.IndexByte(b, '"')
	if end < 0 || !bytes.HasPrefix(b[end:], []byte(sealedSuffix)) {
		return nil, nil, nil, false
	}
	return subject, b[:end], b[end+len(sealedSuffix):], true
}

// revealTimeout bounds the key lookups of a decode that has no context of its own.
const revealTimeout = 30 * time.Second
