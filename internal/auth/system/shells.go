package system

import (
	"bufio"
	"os"
	"strings"
)

// validShell reports whether shell is listed in the shells(5) file, as
// getusershell(3) reads it: one path per line, "#" comments. An empty
// shell is /bin/sh (passwd(5)).
func (a *Authenticator) validShell(shell string) (bool, error) {
	if shell == "" {
		shell = "/bin/sh"
	}
	f, err := os.Open(a.opts.ShellsFile)
	if err != nil {
		return false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		if line == shell {
			return true, nil
		}
	}
	return false, sc.Err()
}
