package eventstore

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

const keysTable = `data_keys`

// MasterKeySize is the length of a master key: AES-256.
const MasterKeySize = 32

// maxCachedKeys bounds the keys a process keeps unwrapped; past it the cache starts
// over, and keys are read again as they are needed.
const maxCachedKeys = 100_000

// keyCacheTTL is how long a process trusts a cached key: an erasure made by another
// process is seen within it.
const keyCacheTTL = time.Minute

// Keyring holds one data key per subject (a user), each stored in data_keys wrapped
// (AES-256-GCM, the subject as associated data) under the master key. Personal fields
// of events are encrypted with their subject's key; erasing a subject deletes its key
// and leaves a tombstone, so nothing can be encrypted for it again and everything
// encrypted for it reads as erased. Unwrapped keys are cached per process.
type Keyring struct {
	pool    *pgxpool.Pool
	masters []master // the current one first, then those it replaced

	mu    sync.RWMutex
	cache map[string]subjectKey
}

type master struct {
	id   string // a fingerprint that tells which master wrapped a row
	aead cipher.AEAD
}

// subjectKey is a cached key: aead is nil once the subject is erased.
type subjectKey struct {
	aead cipher.AEAD
	at   time.Time // when it was read
}

// ErrNoMasterKey is returned for a master key that is not MasterKeySize bytes.
var ErrNoMasterKey = errors.New("a master key of 32 bytes is required")

// NewKeyring returns the keyring of pool whose keys are wrapped under current;
// previous masters still unwrap the keys they wrapped until Rewrap moves them.
func NewKeyring(pool *pgxpool.Pool, current []byte, previous ...[]byte) (*Keyring, error) {
	k := &Keyring{pool: pool, cache: map[string]subjectKey{}}
	for _, key := range append([][]byte{current}, previous...) {
		m, err := newMaster(key)
		if err != nil {
			return nil, err
		}
		k.masters = append(k.masters, m)
	}
	return k, nil
}

func newMaster(key []byte) (master, error) {
	if len(key) != MasterKeySize {
		return master{}, ErrNoMasterKey
	}
	aead, err := newAEAD(key)
	if err != nil {
		return master{}, err
	}
	sum := sha256.Sum256(key)
	return master{id: hex.EncodeToString(sum[:8]), aead: aead}, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func (k *Keyring) cached(subject []byte) (subjectKey, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	key, ok := k.cache[string(subject)]
	if ok && key.aead != nil && time.Since(key.at) > keyCacheTTL {
		return subjectKey{}, false // a tombstone never expires: an erasure is for good
	}
	return key, ok
}

// remember caches a key read from committed rows. An erasure that came meanwhile has
// the last word: a tombstone is never replaced by a key read before it.
func (k *Keyring) remember(subject string, key subjectKey) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if old, ok := k.cache[subject]; ok && old.aead == nil {
		return
	}
	if len(k.cache) >= maxCachedKeys {
		k.cache = map[string]subjectKey{}
	}
	key.at = time.Now()
	k.cache[subject] = key
}

// forWrite returns the subject's key, creating it inside tx when the subject has none;
// nil when the subject is erased. A key created by tx is cached only once another
// transaction finds it committed.
func (k *Keyring) forWrite(ctx context.Context, tx pgx.Tx, subject string) (cipher.AEAD, error) {
	if key, ok := k.cached([]byte(subject)); ok {
		return key.aead, nil
	}
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	m := k.masters[0]
	wrapped := seal(m.aead, fresh, []byte(subject))
	var created bool
	var stored []byte
	var masterID string
	batch := &pgx.Batch{}
	batch.Queue(`INSERT INTO `+keysTable+` (subject, wrapped, master_id) VALUES ($1, $2, $3)
		ON CONFLICT (subject) DO NOTHING RETURNING true`, subject, wrapped, m.id).
		QueryRow(func(row pgx.Row) error {
			if err := row.Scan(&created); err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
			return nil
		})
	batch.Queue(`SELECT wrapped, master_id FROM `+keysTable+` WHERE subject = $1`, subject).
		QueryRow(func(row pgx.Row) error { return row.Scan(&stored, &masterID) })
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return nil, fmt.Errorf("data key of %s: %w", subject, err)
	}
	key, err := k.unwrap(subject, stored, masterID)
	if err != nil {
		return nil, err
	}
	if !created {
		k.remember(subject, key)
	}
	return key.aead, nil
}

// forRead returns the subject's key, nil when it is erased (or never had one), looked
// up through q: the connection the caller reads events on, so a reader inside a
// transaction never waits for a second connection.
func (k *Keyring) forRead(ctx context.Context, q Querier, subject string) (cipher.AEAD, error) {
	if key, ok := k.cached([]byte(subject)); ok {
		return key.aead, nil
	}
	var aead cipher.AEAD
	err := k.read(ctx, q, []string{subject}, func(_ string, key subjectKey) { aead = key.aead })
	return aead, err
}

// prefetch caches the keys of subjects in one query through q, as forRead would one
// by one.
func (k *Keyring) prefetch(ctx context.Context, q Querier, subjects []string) error {
	return k.read(ctx, q, subjects, func(string, subjectKey) {})
}

// read looks the keys of subjects up through q and hands each one found to found. A
// key the reading transaction created itself (its created_at is the transaction's
// now()) is not cached: the transaction may still roll back; a subject with no row is
// not cached either, as a transaction that created its key may not have committed yet.
func (k *Keyring) read(ctx context.Context, q Querier, subjects []string, found func(string, subjectKey)) error {
	what := fmt.Sprintf("%d subjects", len(subjects))
	if len(subjects) == 1 {
		what = subjects[0]
	}
	rows, err := q.Query(ctx, `SELECT subject, wrapped, master_id, created_at = now() FROM `+keysTable+`
		WHERE subject = ANY($1)`, subjects)
	if err != nil {
		return fmt.Errorf("data keys of %s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			subject, masterID string
			stored            []byte
			mine              bool
		)
		if err := rows.Scan(&subject, &stored, &masterID, &mine); err != nil {
			return fmt.Errorf("data keys of %s: %w", what, err)
		}
		key, err := k.unwrap(subject, stored, masterID)
		if err != nil {
			return err
		}
		if !mine {
			k.remember(subject, key)
		}
		found(subject, key)
	}
	return rows.Err()
}

func (k *Keyring) unwrap(subject string, wrapped []byte, masterID string) (subjectKey, error) {
	if wrapped == nil {
		return subjectKey{}, nil // the tombstone of an erased subject
	}
	raw, err := k.unwrapRaw(subject, wrapped, masterID)
	if err != nil {
		return subjectKey{}, err
	}
	aead, err := newAEAD(raw)
	if err != nil {
		return subjectKey{}, err
	}
	return subjectKey{aead: aead}, nil
}

// unwrapRaw opens a wrapped data key with the master key that wrapped it.
func (k *Keyring) unwrapRaw(subject string, wrapped []byte, masterID string) ([]byte, error) {
	for _, m := range k.masters {
		if m.id != masterID {
			continue
		}
		raw, err := open(m.aead, wrapped, []byte(subject))
		if err != nil {
			return nil, fmt.Errorf("data key of %s: %w", subject, err)
		}
		return raw, nil
	}
	return nil, fmt.Errorf("data key of %s is wrapped under master key %s, which is not configured (DATA_KEY_PREVIOUS?)", subject, masterID)
}

// Erase deletes the subject's key for good, leaving a tombstone so that no later
// append creates a new one: everything encrypted for the subject reads as erased.
func (k *Keyring) Erase(ctx context.Context, subject string) error {
	k.forget(subject)
	_, err := k.pool.Exec(ctx, `INSERT INTO `+keysTable+` (subject, wrapped, master_id, erased_at)
		VALUES ($1, NULL, '', now())
		ON CONFLICT (subject) DO UPDATE SET wrapped = NULL, master_id = '', erased_at = coalesce(`+keysTable+`.erased_at, now())`,
		subject)
	if err != nil {
		return fmt.Errorf("erase the data key of %s: %w", subject, err)
	}
	// A read that raced the statement may have cached the old key: the tombstone wins.
	k.mu.Lock()
	k.cache[subject] = subjectKey{}
	k.mu.Unlock()
	return nil
}

func (k *Keyring) forget(subject string) {
	k.mu.Lock()
	delete(k.cache, subject)
	k.mu.Unlock()
}

// seal encrypts plain with a fresh random nonce, which leads the result.
func seal(aead cipher.AEAD, plain, additional []byte) []byte {
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	_, _ = rand.Read(nonce)
	return aead.Seal(nonce, nonce, plain, additional)
}

func open(aead cipher.AEAD, sealed, additional []byte) ([]byte, error) {
	if len(sealed) < aead.NonceSize() {
		return nil, errors.New("ciphertext too short")
	}
	n := aead.NonceSize()
	return aead.Open(nil, sealed[:n], sealed[n:], additional)
}

// Rewrap wraps every data key under the current master key that an earlier one still
// wraps (a rotation of DATA_KEY), in one transaction, and returns how many it moved.
// Events are not touched: they are encrypted with the data keys, which stay the same.
func (k *Keyring) Rewrap(ctx context.Context) (int, error) {
	current := k.masters[0]
	moved := 0
	err := pgx.BeginFunc(ctx, k.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT subject, wrapped, master_id FROM `+keysTable+`
			WHERE wrapped IS NOT NULL AND master_id <> $1 FOR UPDATE`, current.id)
		if err != nil {
			return err
		}
		type row struct {
			subject, masterID string
			wrapped           []byte
		}
		var old []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.subject, &r.wrapped, &r.masterID); err != nil {
				rows.Close()
				return err
			}
			old = append(old, r)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, r := range old {
			raw, err := k.unwrapRaw(r.subject, r.wrapped, r.masterID)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE `+keysTable+` SET wrapped = $2, master_id = $3 WHERE subject = $1`,
				r.subject, seal(current.aead, raw, []byte(r.subject)), current.id); err != nil {
				return err
			}
			moved++
		}
		return nil
	})
	return moved, err
}
