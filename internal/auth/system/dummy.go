package system

import (
	"bufio"
	"os"
	"strings"
)

// shadowDummy returns the hash an unknown user's password is checked
// against on this system: the first hash (by line) among those of the
// shadow file sharing the most common algorithm and cost, so that an
// unknown name costs what a known one does. The built-in yescrypt dummy
// (Debian's default cost) would stand out on a system whose accounts
// still hold SHA-512-crypt hashes ($6$, Debian before 11: far cheaper) or
// yescrypt at a raised cost. Checking against a real user's hash leaks
// nothing: the result is thrown away. It returns "" when the file holds
// no usable hash or cannot be read.
func shadowDummy(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	type group struct {
		n    int
		hash string
	}
	groups := map[string]*group{}
	var order []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	for sc.Scan() {
		line := sc.Text()
		if skipLine(line) {
			continue
		}
		e, err := parseShadowLine(line)
		if err != nil {
			continue
		}
		state, hash := classify(e.password)
		if state != unlocked || !strings.HasPrefix(hash, "$") {
			continue
		}
		k := hashCostKey(hash)
		g := groups[k]
		if g == nil {
			g = &group{hash: hash}
			groups[k] = g
			order = append(order, k)
		}
		g.n++
	}
	var best *group
	for _, k := range order { // first seen wins a tie
		if g := groups[k]; best == nil || g.n > best.n {
			best = g
		}
	}
	if best == nil {
		return ""
	}
	return best.hash
}

// hashCostKey names what decides a crypt(3) hash's cost: its algorithm
// and parameters, the fields before the salt ("$y$j9T", "$6$rounds=10000",
// "$6", "$2b$12", "$1").
func hashCostKey(hash string) string {
	f := strings.Split(hash, "$") // "", id, [params], salt, hash
	switch {
	case len(f) < 3:
		return hash
	case f[1] == "y" || f[1] == "gy" || f[1] == "7":
		return "$" + f[1] + "$" + f[2]
	case f[1] == "5" || f[1] == "6":
		if strings.HasPrefix(f[2], "rounds=") {
			return "$" + f[1] + "$" + f[2]
		}
		return "$" + f[1]
	case strings.HasPrefix(f[1], "2"):
		return "$2$" + f[2]
	}
	return "$" + f[1]
}
