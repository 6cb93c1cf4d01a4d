package virtual

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// DefaultCost is the bcrypt cost HashPassword uses.
const DefaultCost = 10

// HashPassword hashes password with bcrypt at DefaultCost and returns it in
// the file's notation, "{BCRYPT}$2y$10$...".
func HashPassword(password string) (string, error) {
	return HashPasswordCost(password, DefaultCost)
}

// HashPasswordCost is HashPassword with a chosen bcrypt cost (4 to 31).
// The "$2y$" prefix is what Dovecot and PHP write; Go's bcrypt produces the
// same bytes under "$2a$".
func HashPasswordCost(password string, cost int) (string, error) {
	if password == "" {
		return "", errors.New("virtual: empty password")
	}
	if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return "", fmt.Errorf("virtual: bcrypt cost %d out of range %d..%d", cost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", fmt.Errorf("virtual: %w", err)
	}
	return "{" + SchemeBcrypt + "}$2y$" + strings.TrimPrefix(string(h), "$2a$"), nil
}

// WriteUser sets user's password hash and home directory in the password
// file at path, adding a line "user:hash::::home::" if the user is not
// there yet and keeping the other fields of an existing line. The file is
// replaced atomically (temporary file, fsync, rename), keeping its mode and,
// where permitted, its owner; a new file is created with mode 0600.
// Concurrent writers are not serialised: the last rename wins.
func WriteUser(path, user, hash, home string) error {
	if err := ValidUsername(user); err != nil {
		return err
	}
	if hash == "" || strings.ContainsAny(hash, ":\r\n") {
		return fmt.Errorf("virtual: hash for %q is empty or contains ':' or a newline", user)
	}
	if strings.ContainsAny(home, ":\r\n") {
		return fmt.Errorf("virtual: home %q contains ':' or a newline", home)
	}

	old, err := os.ReadFile(path)
	var mode fs.FileMode = 0o600
	var info fs.FileInfo
	switch {
	case err == nil:
		if info, err = os.Stat(path); err != nil {
			return fmt.Errorf("virtual: %w", err)
		}
		mode = info.Mode().Perm()
	case errors.Is(err, fs.ErrNotExist):
	default:
		return fmt.Errorf("virtual: %w", err)
	}

	data := setUserLine(old, user, hash, home)

	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("virtual: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("virtual: writing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("virtual: %w", err)
	}
	if info != nil {
		keepOwner(tmp, info)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("virtual: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("virtual: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("virtual: %w", err)
	}
	// Make the rename durable; failure here is not worth failing for.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// setUserLine returns the file content old with user's line set to hash and
// home, appended if absent.
func setUserLine(old []byte, user, hash, home string) []byte {
	var out bytes.Buffer
	found := false
	for line := range bytes.Lines(old) {
		text := strings.TrimRight(string(line), "\r\n")
		name, _, _ := strings.Cut(text, ":")
		if found || name != user || strings.HasPrefix(strings.TrimSpace(text), "#") {
			out.Write(line)
			if !bytes.HasSuffix(line, []byte("\n")) {
				out.WriteByte('\n')
			}
			continue
		}
		found = true
		f := strings.SplitN(text, ":", 8)
		for len(f) < 8 {
			f = append(f, "")
		}
		f[1], f[5] = hash, home
		out.WriteString(strings.Join(f, ":"))
		out.WriteByte('\n')
	}
	if !found {
		fmt.Fprintf(&out, "%s:%s::::%s::\n", user, hash, home)
	}
	return out.Bytes()
}
