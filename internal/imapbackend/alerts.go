package imapbackend

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// alertState remembers, per session, when the alert files were last
// looked at and which versions were shown, so each version is shown once.
type alertState struct {
	checked     time.Time
	system      time.Time // mtime of the system alert file last shown
	user        time.Time // mtime of the user's alert file last shown
	userChecked bool      // the user file is looked at only after login
}

// Alerts implements imapserver.SessionAlerts: the lines of the system
// alert file (any state) and of the user's alert file (after login), each
// time one is new or changed, as UW imapd's palert did. The files are
// looked at no more than once per AlertInterval.
func (s *session) Alerts(ctx context.Context) []string {
	o := &s.b.opts
	if o.SystemAlertFile == "" && o.UserAlertFile == "" {
		return nil
	}
	now := o.Clock()
	loggedIn := s.user != nil
	// The first check after login must not wait for the interval.
	if !s.alerts.checked.IsZero() && now.Sub(s.alerts.checked) < o.AlertInterval && (!loggedIn || s.alerts.userChecked) {
		return nil
	}
	s.alerts.checked = now
	var lines []string
	if o.SystemAlertFile != "" {
		lines = append(lines, readAlert(o.SystemAlertFile, &s.alerts.system)...)
	}
	if loggedIn && o.UserAlertFile != "" && s.user.Home != "" {
		s.alerts.userChecked = true
		lines = append(lines, readAlert(filepath.Join(s.user.Home, o.UserAlertFile), &s.alerts.user)...)
	}
	return lines
}

// readAlert returns the lines of file if its mtime is after *shown, and
// records the new mtime. A missing or unreadable file gives nothing.
// Control characters are dropped (UW dropped CR and NUL): the text goes
// into a response line.
func readAlert(file string, shown *time.Time) []string {
	st, err := os.Stat(file)
	if err != nil || !st.ModTime().After(*shown) {
		return nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	*shown = st.ModTime()
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() && len(lines) < maxAlertLines {
		l := strings.Map(func(r rune) rune {
			if r < ' ' || r == 0x7f {
				return -1
			}
			return r
		}, sc.Text())
		if l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// maxAlertLines bounds what one alert file can send.
const maxAlertLines = 20
