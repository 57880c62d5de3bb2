package pglocal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"
)

// Shared is a checkout's one private server, used by every process of the engine that
// runs there without a database URL: the API and the tools beside it.
type Shared struct {
	*Server
	root  string
	self  process
	owner bool // this process started the server (or took it over) at Open
}

// state is what root/postgres.json records of the running server, under root/postgres.lock.
type state struct {
	URL     string    `json:"url"`
	Port    int       `json:"port"`
	DataDir string    `json:"data_dir"`
	Owner   process   `json:"owner"`
	Users   []process `json:"users,omitempty"`
}

// Open joins the private server recorded in root when it runs and its owner lives.
// Otherwise it becomes the owner: of a server whose owner was killed (it keeps
// running, so whoever uses it keeps their connections), or of one it starts in
// root/postgres.
func Open(ctx context.Context, root string, opts Options) (*Shared, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("data folder: %w", err)
	}
	self, err := current()
	if err != nil {
		return nil, err
	}
	sh := &Shared{root: root, self: self}
	err = sh.locked(func(st *state) error {
		if st.Port != 0 {
			s, err := newServer(st.DataDir)
			if err == nil && s.running(ctx) && answers(st.Port) {
				s.port = st.Port
				sh.Server = s
				if st.Owner.alive() {
					st.Users = append(live(st.Users), self)
					return nil
				}
				st.Owner, st.Users, sh.owner = self, live(st.Users), true
				return nil
			}
		}
		s, err := Start(ctx, filepath.Join(root, "postgres"), opts)
		if err != nil {
			return err
		}
		sh.Server, sh.owner = s, true
		*st = state{URL: s.URL("postgres"), Port: s.port, DataDir: s.dataDir, Owner: self}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return sh, nil
}

// Owner reports whether this process started the server (or took it over) when it
// opened it: whether its Close may stop it.
func (sh *Shared) Owner() bool { return sh.owner }

// Close leaves the server. The owner stops it, unless processes that joined it still
// run: then the longest-standing of them becomes the owner, and the server stays up
// for it. A process that only joined never stops the server, unless ownership has
// passed to it since.
func (sh *Shared) Close() error {
	var stop bool
	err := sh.locked(func(st *state) error {
		if st.Port != sh.port || st.DataDir != sh.dataDir {
			return nil // someone else's server by now
		}
		if i := slices.Index(st.Users, sh.self); i >= 0 {
			st.Users = live(slices.Delete(st.Users, i, i+1))
			return nil
		}
		if st.Owner != sh.self {
			return nil
		}
		st.Users = live(st.Users)
		if len(st.Users) > 0 {
			st.Owner, st.Users = st.Users[0], st.Users[1:]
			return nil
		}
		stop = true
		*st = state{}
		return nil
	})
	if err != nil || !stop {
		return err
	}
	return sh.Stop()
}

// locked runs change on the recorded state while holding the lock file, and records
// what change leaves (an empty state removes the record).
func (sh *Shared) locked(change func(*state) error) error {
	lock, err := os.OpenFile(filepath.Join(sh.root, "postgres.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("lock the private PostgreSQL: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("lock the private PostgreSQL: %w", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)

	path := filepath.Join(sh.root, "postgres.json")
	var st state
	if raw, err := os.ReadFile(path); err == nil {
		// A record that does not parse is treated as none: the server is started anew.
		_ = json.Unmarshal(raw, &st)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if err := change(&st); err != nil {
		return err
	}
	if st.Port == 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	raw, _ := json.MarshalIndent(st, "", "  ")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(raw, '\n'), 0o644); err != nil {
		return fmt.Errorf("record the private PostgreSQL: %w", err)
	}
	return os.Rename(tmp, path)
}

// answers reports whether something accepts connections on the loopback port.
func answers(port int) bool {
	conn, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 2*time.Second)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

func live(ps []process) []process {
	return slices.DeleteFunc(ps, func(p process) bool { return !p.alive() })
}
