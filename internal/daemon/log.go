package daemon

import (
	"fmt"
	"io"
	"log/slog"
	"log/syslog"
	"os"
)

// NewLogger returns a text logger at the given level ("debug", "info",
// "warn", "error") writing to w.
func NewLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("daemon: log level %q: %w", level, err)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// NewSyslogLogger returns a logger writing to syslog with facility mail, as
// UW imapd did: in inetd mode stdout and stderr are the client's socket, so
// nothing may be written there (DESIGN.md §2). When no syslog daemon
// listens (a container without /dev/log), logs are dropped rather than
// refusing to serve; the error says so for a caller that can report it.
func NewSyslogLogger(tag, level string) (*slog.Logger, error) {
	w, err := syslog.New(syslog.LOG_MAIL|syslog.LOG_INFO, tag)
	if err != nil {
		log, lerr := NewLogger(io.Discard, level)
		if lerr != nil {
			return nil, lerr
		}
		return log, fmt.Errorf("daemon: connecting to syslog (logging disabled): %w", err)
	}
	return NewLogger(w, level)
}

// NewFileLogger returns a logger appending to the file at path (log_file),
// created with mode 0640 if missing. The file stays open for the life of
// the process.
func NewFileLogger(path, level string) (*slog.Logger, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("daemon: log_file: %w", err)
	}
	return NewLogger(f, level)
}
