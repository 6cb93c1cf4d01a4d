package virtual

import "strings"

// dummyHash is a bcrypt hash (cost 10, DefaultCost) of a password nobody
// uses: the dummy of a file with no usable hash at all.
const dummyHash = "$2a$10$fNIMAbBaz6qdBPWL3O8w/e9x7xLfxwOSsf8hYcad5dNxFLcHVRAOa"

// defaultDummy is the dummy credential when the file offers none, and
// for user names that are not even valid (no lookup is made).
var defaultDummy = credential{scheme: SchemeBcrypt, hash: dummyHash}

// dummyFor picks the credential an unknown user's password is checked
// against, so that the answer costs what a known user's wrong password
// costs and timing does not tell which names exist: the hash of the
// first user (by line) among those sharing the most common scheme and
// cost. A fixed bcrypt dummy would be slower than a file of SHA-crypt
// hashes, and faster than one of bcrypt at cost 12: either way unknown
// names would stand out. Checking against a real user's hash leaks
// nothing: the result is thrown away.
func dummyFor(users map[string]*entry) credential {
	type group struct {
		n, line int
		cred    credential
	}
	groups := map[string]*group{}
	var best *group
	for _, e := range users {
		if e.credErr != nil {
			continue
		}
		k := costKey(e.cred)
		g := groups[k]
		if g == nil {
			g = &group{line: e.line, cred: e.cred}
			groups[k] = g
		}
		g.n++
		if e.line < g.line {
			g.line, g.cred = e.line, e.cred
		}
	}
	for _, g := range groups {
		if best == nil || g.n > best.n || g.n == best.n && g.line < best.line {
			best = g
		}
	}
	if best == nil {
		return defaultDummy
	}
	return best.cred
}

// costKey names what decides a credential's checking cost: its scheme
// and, for bcrypt and SHA-crypt, the cost or rounds in the hash's setting
// ("$2a$12$", "$6$rounds=10000$"); plaintext ones all cost the same.
func costKey(c credential) string {
	if c.plaintext() {
		return "PLAIN"
	}
	h := c.hash
	switch {
	case strings.HasPrefix(h, "$2"):
		if len(h) >= 7 {
			return "$2" + h[3:7] // "$2" and "$NN$": the variant does not change the cost
		}
	case strings.HasPrefix(h, "$5$"), strings.HasPrefix(h, "$6$"):
		rounds := ""
		if r, ok := strings.CutPrefix(h[3:], "rounds="); ok {
			rounds, _, _ = strings.Cut(r, "$")
		}
		return h[:3] + rounds
	}
	return c.scheme
}
