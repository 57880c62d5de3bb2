package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// DevelopmentSecret is the JWT secret of a development checkout without JWT_SECRET:
// made at random the first time and kept in path (readable by its owner only), so a
// restart logs nobody out and no two checkouts share a secret.
func DevelopmentSecret(path string) (string, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("development secret: %w", err)
	}
	if err := createOnce(path); err != nil {
		return "", fmt.Errorf("development secret: %w", err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("development secret: %w", err)
	}
	secret := strings.TrimSpace(string(raw))
	if len(secret) < MinSecretLength {
		return "", fmt.Errorf("development secret in %s is shorter than %d bytes: delete the file to make a new one", path, MinSecretLength)
	}
	return secret, nil
}

// createOnce puts a fresh random secret at path unless a file is there. The secret is
// written to a file of its own first and linked into place, so a start racing this one
// reads either no file or a whole one, and both end with the same secret.
func createOnce(path string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".jwt-secret-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	b := make([]byte, MinSecretLength)
	_, _ = rand.Read(b)
	_, werr := tmp.WriteString(hex.EncodeToString(b) + "\n")
	if err := errors.Join(werr, tmp.Close()); err != nil {
		return err
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return nil
}
