package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// finalCheck runs once every writer and server has stopped: the mail as
// a fresh imapd serves it, as the files hold it and (mbox) as UW's
// mailutil reads it must each be exactly what the ledger says.
func (e *stressEnv) finalCheck() {
	served := e.servedMail()
	for _, box := range stressBoxes {
		want := e.ledger.expected(box)
		total := 0
		for _, n := range want {
			total += n
		}
		e.ledger.count("final-"+box, total)
		e.problems(diffCounts("served "+box, countIDs(served[box]), want, 20))
		files, err := e.fileIDs(box)
		if err != nil {
			e.ledger.problem("reading %s's files: %v", box, err)
			continue
		}
		e.problems(diffCounts("files of "+box, countIDs(files), want, 20))
		if e.kind == "mbox" && !slices.Equal(files, served[box]) {
			e.ledger.problem("%s: the file's message order differs from the UID order served", box)
		}
		if e.kind == "mbox" {
			e.checkUW(box, want, total)
		}
	}
	e.storeCheck()
	if dir := os.Getenv("POSTERN_STRESS_KEEP"); dir != "" && len(e.ledger.allProblems()) > 0 {
		e.keep(filepath.Join(dir, e.kind))
	}
}

// keep copies the mail files of a failed run to dir for a post-mortem
// (POSTERN_STRESS_KEEP, scripts/stress.sh).
func (e *stressEnv) keep(dir string) {
	os.MkdirAll(dir, 0o755)
	src := []string{e.home, e.dir}
	if e.kind == "mbox" {
		src = append(src, e.spool)
	}
	for _, s := range src {
		exec.Command("cp", "-a", s, dir+"/").Run()
	}
	e.ledger.problem("mail files kept in %s", dir)
}

func (e *stressEnv) problems(ps []string) {
	for _, p := range ps {
		e.ledger.problem("%s", p)
	}
}

// servedMail reads each mailbox's Message-IDs in UID order through one
// more imapd process (its refresh checks UIDs ascend and were never
// reused).
func (e *stressEnv) servedMail() map[string][]string {
	out := map[string][]string{}
	w := e.newWorker(-1, "final")
	conn, cmd, stderr, err := e.startImapd()
	if err != nil {
		e.ledger.problem("final imapd: %v", err)
		return out
	}
	defer func() {
		conn.Close()
		cmd.Wait()
		e.checkRace("final imapd", stderr.String())
	}()
	if err := w.connect(conn); err != nil {
		e.ledger.problem("final imapd: %v", err)
		return out
	}
	for _, box := range stressBoxes {
		if err := w.selectBox(box); err != nil {
			e.ledger.problem("final imapd: %v", err)
			return out
		}
		for _, v := range w.view {
			out[box] = append(out[box], v.id)
		}
	}
	if err := w.session(context.Background(), -1); err != nil {
		e.ledger.problem("final imapd: %v", err)
	}
	return out
}

func countIDs(ids []string) map[string]int {
	m := map[string]int{}
	for _, id := range ids {
		m[id]++
	}
	return m
}

// fileIDs returns the Message-IDs of a mailbox's files, read without
// Postern: in file order for mbox, in name order for Maildir. Every
// message must be intact.
func (e *stressEnv) fileIDs(box string) ([]string, error) {
	if e.kind == "mbox" {
		path := e.spool
		if box != "INBOX" {
			path = filepath.Join(e.home, box)
		}
		return e.readMbox(path)
	}
	dir := e.maildir
	if box != "INBOX" {
		dir = filepath.Join(e.maildir, "."+box)
	}
	var ids []string
	for _, sub := range []string{"new", "cur"} {
		ents, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			return nil, err
		}
		for _, ent := range ents {
			b, err := os.ReadFile(filepath.Join(dir, sub, ent.Name()))
			if err != nil {
				return nil, err
			}
			id, err := checkStressMessage(string(b))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", ent.Name(), err)
			}
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// mboxFrom is a message's separator line: "From " at the start of the
// file or after a blank line.
var mboxFrom = regexp.MustCompile(`(?m)(?:\A|\n\n)From [^\n]*\n`)

// readMbox parses an mbox file on its own (the "From " framing and UW's
// pseudo message) and returns its Message-IDs in order,
// each message checked against what was delivered.
func (e *stressEnv) readMbox(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s := string(b)
	if s == "" {
		return nil, nil
	}
	if !strings.HasPrefix(s, "From ") {
		return nil, fmt.Errorf("%s does not start with a From line: %.80q", path, s)
	}
	locs := mboxFrom.FindAllStringIndex(s, -1)
	var ids []string
	for i, loc := range locs {
		start := loc[1]
		end := len(s)
		if i+1 < len(locs) {
			end = locs[i+1][0] + 1 // keep the last line's newline
		}
		msg := s[start:end]
		hdr, body, ok := strings.Cut(msg, "\n\n")
		if !ok {
			return ids, fmt.Errorf("%s: message %d has no end of header: %.200q", path, i+1, msg)
		}
		if strings.Contains("\n"+hdr, "\nX-IMAP: ") {
			continue // UW's FOLDER INTERNAL DATA
		}
		if i+1 == len(locs) {
			body = strings.TrimSuffix(body, "\n") // the separator line at the end
		}
		id, err := checkStressMessage(hdr + "\n\n" + body)
		if err != nil {
			return ids, fmt.Errorf("%s: message %d: %w", path, i+1, err)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// checkUW has UW's mailutil count a mailbox and copy it out: the copy
// must hold the same messages.
func (e *stressEnv) checkUW(box string, want map[string]int, total int) {
	out, err := e.mailutil(context.Background(), "check", uwName(box))
	if err != nil {
		e.ledger.problem("UW check of %s: %v", box, err)
		return
	}
	n := -1
	if m := regexp.MustCompile(`(\d+) total in`).FindStringSubmatch(out); m != nil {
		n, _ = strconv.Atoi(m[1])
	}
	if n != total {
		e.ledger.problem("mailutil check %s = %q, want %d total", box, strings.TrimSpace(out), total)
	}
	dst := "uw/final-" + box
	if _, err := e.mailutil(context.Background(), "copy", uwName(box), dst); err != nil {
		e.ledger.problem("UW copy of %s: %v", box, err)
		return
	}
	ids, err := e.readMbox(filepath.Join(e.home, dst))
	if err != nil {
		e.ledger.problem("UW's copy of %s: %v", box, err)
		return
	}
	e.problems(diffCounts("UW's copy of "+box, countIDs(ids), want, 20))
}

// storeCheck is the store-level check at the end of the run: `postern
// fsck` (run as the mail's owner, without --repair) must find the store
// clean, and no dotlock may be left behind.
func (e *stressEnv) storeCheck() {
	store := "maildir:" + e.maildir
	if e.kind == "mbox" {
		store = "mbox:" + e.home + ",inbox=" + e.spool
		for _, p := range []string{e.spool, filepath.Join(e.home, "Archive")} {
			if _, err := os.Stat(p + ".lock"); err == nil {
				e.ledger.problem("%s.lock left behind", p)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), progTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.postern, "fsck", store)
	cmd.Dir = e.home
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: e.cred}
	out, err := cmd.CombinedOutput()
	if err != nil {
		e.ledger.problem("postern fsck %s: %v\n%s", store, err, out)
	} else {
		e.ledger.count("fsck-clean", 1)
	}
	e.checkRace("postern fsck", string(out))
}
