package integration

import (
	"os"
	"strings"
)

// deliverInterplay fills INBOX and Archive as deliverCopyMove does, and
// gives the user a quota (Dovecot's passwd-file shape) of 12 messages and
// 4 KiB, so that MULTIAPPEND and CATENATE can run over it in
// interplay.txt.
func deliverInterplay(e *tsEnv) {
	deliverCopyMove(e)
	b, err := os.ReadFile(e.passwd)
	if err != nil {
		e.t.Fatal(err)
	}
	line := strings.TrimRight(string(b), "\n") + "userdb_quota_rule=*:storage=4K userdb_quota_rule2=*:messages=12\n"
	if err := os.WriteFile(e.passwd, []byte(line), 0o600); err != nil {
		e.t.Fatal(err)
	}
}
