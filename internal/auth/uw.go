package auth

import (
	"net/netip"
	"os"
	"strings"
)

// NoLogin reports whether logins are disabled by file (/etc/nologin, as
// login(1) and UW's servers honoured it) and the reason to answer with:
// "Logins are disabled", and the file's first line when it has one. The
// file's existence decides; its text is optional. An empty file name
// means the check is off.
func NoLogin(file string) (reason string, disabled bool) {
	if file == "" {
		return "", false
	}
	if _, err := os.Stat(file); err != nil {
		return "", false
	}
	b, _ := os.ReadFile(file)
	first, _, _ := strings.Cut(string(b), "\n")
	// The text goes into a response line: no control characters.
	first = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return -1
		}
		return r
	}, first)
	if len(first) > 200 {
		first = first[:200]
	}
	if first == "" {
		return "Logins are disabled", true
	}
	return "Logins are disabled: " + first, true
}

// LogHost names a client in login log lines as UW's tcp_clienthost did
// without a reverse name, "192.0.2.1 [192.0.2.1]": the shape fail2ban's
// uw-imapd filter and log watchers expect. IPv4-mapped addresses are
// shown as IPv4; a connection that is not IP (a pipe) is "UNKNOWN".
func LogHost(addr netip.AddrPort) string {
	if !addr.IsValid() {
		return "UNKNOWN"
	}
	a := addr.Addr().Unmap().String()
	return a + " [" + a + "]"
}
