// Package pglocal starts a private PostgreSQL server from the binaries installed on the
// machine, for the engine when no DATABASE_URL is given and for the tests.
package pglocal

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrNoBinaries is returned when no PostgreSQL server binaries are installed.
var ErrNoBinaries = errors.New("no PostgreSQL server binaries (initdb, pg_ctl) found on PATH or under /usr/lib/postgresql/*/bin; " +
	"install them (Debian/Ubuntu: apt-get install postgresql) or set a database URL")

// Options tune the private server.
type Options struct {
	// Ephemeral trades durability for speed (fsync off), for test servers only.
	Ephemeral bool
	// MaxConnections defaults to 200.
	MaxConnections int
	// Port is the loopback port to listen on; 0 picks a free one.
	Port int
}

func (o *Options) setDefaults() {
	if o.MaxConnections <= 0 {
		o.MaxConnections = 200
	}
}

// Server is a running private PostgreSQL.
type Server struct {
	dataDir string
	binDir  string
	port    int
	cred    *syscall.Credential
}

// Start initialises dataDir if it is empty and starts a server on a free loopback port.
// As root it runs initdb and postgres as the postgres system user, who then owns
// dataDir, since both refuse to run as root.
func Start(ctx context.Context, dataDir string, opts Options) (*Server, error) {
	s, err := newServer(dataDir)
	if err != nil {
		return nil, err
	}
	if err := s.start(ctx, opts); err != nil {
		return nil, err
	}
	return s, nil
}

// newServer prepares dataDir for a server it does not start yet.
func newServer(dataDir string) (*Server, error) {
	binDir, err := findBinaries()
	if err != nil {
		return nil, err
	}
	dataDir, err = filepath.Abs(dataDir)
	if err != nil {
		return nil, err
	}
	s := &Server{dataDir: dataDir, binDir: binDir}
	if os.Geteuid() == 0 {
		if s.cred, err = postgresUser(); err != nil {
			return nil, err
		}
	}
	if err := s.prepareDir(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) start(ctx context.Context, opts Options) error {
	opts.setDefaults()
	if _, err := os.Stat(filepath.Join(s.dataDir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := s.run(ctx, "initdb", "-D", s.dataDir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C"); err != nil {
			return fmt.Errorf("initdb in %s: %w", s.dataDir, err)
		}
	}
	// A server that runs in the folder without its port on record (one started by hand,
	// or left by a version of the engine that kept no state) is not ours to know: stop it.
	if s.running(ctx) {
		if err := s.Stop(); err != nil {
			return fmt.Errorf("stop the PostgreSQL left running in %s: %w", s.dataDir, err)
		}
	}
	var err error
	if s.port = opts.Port; s.port == 0 {
		if s.port, err = freePort(); err != nil {
			return err
		}
	}
	settings := []string{
		"-p " + strconv.Itoa(s.port),
		"-c listen_addresses=127.0.0.1",
		"-c unix_socket_directories=''",
		"-c max_connections=" + strconv.Itoa(opts.MaxConnections),
	}
	if opts.Ephemeral {
		settings = append(settings, "-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off")
	}
	if err := s.run(ctx, "pg_ctl", "-D", s.dataDir, "-l", filepath.Join(s.dataDir, "server.log"), "-w", "-t", "60",
		"-o", strings.Join(settings, " "), "start"); err != nil {
		return fmt.Errorf("start PostgreSQL in %s (see its server.log): %w", s.dataDir, err)
	}
	return nil
}

// running reports whether a server runs in the data folder.
func (s *Server) running(ctx context.Context) bool {
	return s.run(ctx, "pg_ctl", "-D", s.dataDir, "status") == nil
}

// URL is the connection URL of database db on the server.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, db)
}

// Port is the loopback port the server listens on.
func (s *Server) Port() int { return s.port }

// DataDir is where the server keeps its files.
func (s *Server) DataDir() string { return s.dataDir }

// Stop shuts the server down, ending its sessions.
func (s *Server) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return s.run(ctx, "pg_ctl", "-D", s.dataDir, "-m", "fast", "-w", "stop")
}

func (s *Server) run(ctx context.Context, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(s.binDir, name), args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Dir = os.TempDir()
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", name, err, strings.TrimSpace(out.String()))
	}
	return nil
}

// prepareDir creates the data folder with the rights PostgreSQL insists on, owned by
// the user the server runs as. As root, when that user cannot reach the folder (a
// checkout inside a private home folder, say), the data goes to a folder named after
// the path's hash under the system's temporary folder instead.
func (s *Server) prepareDir() error {
	if err := os.MkdirAll(filepath.Dir(s.dataDir), 0o755); err != nil {
		return fmt.Errorf("data folder: %w", err)
	}
	if s.cred != nil && !reachable(filepath.Dir(s.dataDir)) {
		sum := sha256.Sum256([]byte(s.dataDir))
		s.dataDir = filepath.Join(os.TempDir(), "supermock-pg-"+hex.EncodeToString(sum[:6]))
	}
	if err := os.MkdirAll(s.dataDir, 0o700); err != nil {
		return fmt.Errorf("data folder: %w", err)
	}
	if err := os.Chmod(s.dataDir, 0o700); err != nil {
		return fmt.Errorf("data folder: %w", err)
	}
	if s.cred == nil {
		return nil
	}
	return filepath.Walk(s.dataDir, func(path string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, int(s.cred.Uid), int(s.cred.Gid))
	})
}

// reachable reports whether every folder from the root down to dir lets others in.
func reachable(dir string) bool {
	for {
		info, err := os.Stat(dir)
		if err != nil || info.Mode().Perm()&0o001 == 0 {
			return false
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return true
		}
		dir = parent
	}
}

func postgresUser() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, PostgreSQL must run as the postgres user, which does not exist: %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, err
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// findBinaries looks on PATH first, then for the newest version under
// /usr/lib/postgresql, where Debian keeps them off PATH.
func findBinaries() (string, error) {
	if initdb, err := exec.LookPath("initdb"); err == nil {
		dir := filepath.Dir(initdb)
		if _, err := os.Stat(filepath.Join(dir, "pg_ctl")); err == nil {
			return dir, nil
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(matches, func(i, j int) bool { return version(matches[i]) > version(matches[j]) })
	for _, m := range matches {
		dir := filepath.Dir(m)
		if _, err := os.Stat(filepath.Join(dir, "pg_ctl")); err == nil {
			return dir, nil
		}
	}
	return "", ErrNoBinaries
}

func version(initdb string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(filepath.Dir(initdb))), 64)
	return v
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
