package eventstore

import (
	"context"
	"crypto/rand"
	"testing"
)

// BenchmarkReveal is what reading adds per event: a payload without personal fields
// (most of the log), and one with three encrypted fields whose key is cached.
func BenchmarkReveal(b *testing.B) {
	ctx := context.Background()
	key := make([]byte, MasterKeySize)
	_, _ = rand.Read(key)
	aead, err := newAEAD(key)
	if err != nil {
		b.Fatal(err)
	}
	s := &Store{keys: &Keyring{cache: map[string]subjectKey{}}}
	s.keys.remember("ann", subjectKey{aead: aead})
	plain := []byte(`{"user_id":"0190f0e4-7c4c-7b4a-9c1e-5d2f3b4a6c7d","entry_id":"0190f0e4-7c4c-7b4a-9c1e-5d2f3b4a6c7e","role":"candidate","profession":"backend-developer","language":"en","window_start":"2026-03-01T12:00:00Z","window_end":"2026-03-01T15:00:00Z","joined_at":"2026-03-01T11:00:00Z"}`)
	field := func(v string) string {
		return sealedPrefix + "ann" + sealedMiddle + sealedEncoding.EncodeToString(seal(aead, []byte(v), []byte("event-1"))) + sealedSuffix
	}
	sealed := []byte(`{"first_name":` + field(`"Ann"`) + `,"last_name":` + field(`"Smith"`) + `,"role":"user","username":` + field(`"ann"`) + `}`)
	for name, payload := range map[string][]byte{"plain": plain, "sealed": sealed} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.reveal(ctx, nil, []byte("event-1"), payload, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
