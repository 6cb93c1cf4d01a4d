package pop3server

import (
	"strconv"
	"strings"

	"github.com/postern/postern/internal/auth/sasl"
)

// capabilities returns the CAPA lines for the connection's state (RFC
// 2449 §5, §6): USER and SASL only where a plaintext password may be sent
// (RFC 2595 §2.1), STLS only in AUTHORIZATION without TLS (RFC 2595 §4),
// LOGIN-DELAY and EXPIRE only when the backend enforces them.
func (c *conn) capabilities() []string {
	o := &c.srv.opts
	caps := []string{"TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING"}
	if o.LoginDelay > 0 {
		caps = append(caps, "LOGIN-DELAY "+strconv.FormatInt(int64(o.LoginDelay.Seconds()), 10))
	}
	if o.Expire != "" {
		caps = append(caps, "EXPIRE "+o.Expire)
	}
	if c.plaintextAllowed() {
		caps = append(caps, "USER")
	}
	var mechs []string
	for _, m := range sasl.Mechanisms() {
		if !sasl.IsPlaintext(m) || c.plaintextAllowed() {
			mechs = append(mechs, m)
		}
	}
	if len(mechs) > 0 {
		caps = append(caps, "SASL "+strings.Join(mechs, " "))
	}
	if c.state == stateAuthorization && o.TLSConfig != nil && !c.info.TLS {
		caps = append(caps, "STLS")
	}
	return append(caps, "IMPLEMENTATION "+o.Implementation)
}

// handleCAPA is CAPA (RFC 2449 §5), valid in both states.
func handleCAPA(c *conn, r request) error {
	if err := wantArgs(r, 0, 0); err != nil {
		return err
	}
	c.writeOK("Capability list follows")
	for _, l := range c.capabilities() {
		c.writeLine(l)
	}
	c.writeLine(".")
	return nil
}
