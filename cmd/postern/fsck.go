package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/mailstore/maildir"
	"github.com/postern/postern/internal/mailstore/mbox"
	"github.com/postern/postern/internal/mailstore/sqlindex"
)

// fsckUsage is the help of `postern fsck` (issue 8, item 4).
const fsckUsage = `usage: postern fsck [-c FILE] [--json] [--repair] STORE...
  STORE is  maildir:DIR  or  mbox:ROOT[,inbox=FILE]   (as for postern convert)
  Checks each store's files against its index: every indexed message's file
  and size, unindexed files (new mail not yet seen is "pending", not an
  error), UIDs ascending, unique and below UIDNEXT, UIDVALIDITY and UIDNEXT
  against postern-uidlist (Maildir) or X-IMAP(base) (mbox), mbox framing and
  X-UID order, journals of interrupted mbox rewrites, the index's own
  integrity, tmp/ files older than 36 hours. It takes the locks the servers
  take, so it can run beside them. One line per problem ("-" for the
  store's index), then a summary line per store:
    STORE MAILBOX [uid=N] [file=F]: KIND: DETAIL [(pending)] [(repaired)]
    STORE: N mailboxes, N messages, N problems (N pending, N repaired)
  --repair  rebuilds the index from the files keeping UIDs (a damaged index
            is moved aside to INDEX.corrupt-TIME first), finishes or drops
            interrupted rewrites, removes stale tmp/ files.
  --json    one JSON object instead of lines.
  -c FILE   the configuration (mbox_home_inbox); optional.
  Exit status: 0 clean (pending items allowed), 1 problems remain, 2 usage
  or I/O error.`

// exitStatus is an error carrying the process's exit status; main prints
// its message (if any) and exits with code.
type exitStatus struct {
	code int
	err  error
}

func (e exitStatus) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e exitStatus) Unwrap() error { return e.err }

// fsckStore is one store's result in --json output.
type fsckStore struct {
	Store string `json:"store"`
	mailstore.CheckResult
	Error string `json:"error,omitempty"`
}

// fsck runs `postern fsck`.
func fsck(args []string, stdout io.Writer) error {
	var (
		cfgPath     string
		asJSON, fix bool
		stores      []string
	)
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--json" || a == "-json":
			asJSON = true
		case a == "--repair" || a == "-repair":
			fix = true
		case a == "-c" || a == "--c":
			if i+1 >= len(args) {
				return exitStatus{2, fmt.Errorf("fsck: -c needs a file\n%s", fsckUsage)}
			}
			i++
			cfgPath = args[i]
		case a == "-h" || a == "--help" || a == "-help":
			fmt.Fprintln(stdout, fsckUsage)
			return nil
		case strings.HasPrefix(a, "-"):
			return exitStatus{2, fmt.Errorf("fsck: unknown flag %s\n%s", a, fsckUsage)}
		default:
			stores = append(stores, a)
		}
	}
	if len(stores) == 0 {
		return exitStatus{2, fmt.Errorf("fsck: no STORE given\n%s", fsckUsage)}
	}
	homeInbox := false
	if cfgPath != "" {
		cfg, err := config.Load(cfgPath)
		if err != nil {
			return exitStatus{2, fmt.Errorf("fsck: %w", err)}
		}
		homeInbox = cfg.MboxHomeInbox
	}
	// No lingering connections: a damaged index moved aside must not be
	// used again through a pooled handle.
	sqlindex.Linger = 0
	ctx := context.Background()
	var out []fsckStore
	status := 0
	for _, arg := range stores {
		sp, err := parseStoreSpec(arg, []string{"maildir", "mbox"})
		if err != nil {
			return exitStatus{2, fmt.Errorf("fsck: %w", err)}
		}
		res, err := fsckOne(ctx, sp, homeInbox, fix)
		fs := fsckStore{Store: arg, CheckResult: res}
		if err != nil {
			fs.Error = err.Error()
			status = 2
		} else if res.Errors() > 0 && status == 0 {
			status = 1
		}
		out = append(out, fs)
		if !asJSON {
			for _, p := range res.Problems {
				fmt.Fprintf(stdout, "%s %s\n", arg, p)
			}
			if err != nil {
				fmt.Fprintf(stdout, "%s: error: %v\n", arg, err)
			} else {
				fmt.Fprintf(stdout, "%s: %d mailboxes, %d messages, %d problems (%d pending, %d repaired)\n",
					arg, res.Mailboxes, res.Messages, res.Errors(), countIf(res, func(p mailstore.Problem) bool { return p.Pending && !p.Repaired }),
					countIf(res, func(p mailstore.Problem) bool { return p.Repaired }))
			}
		}
	}
	if asJSON {
		for i := range out {
			if out[i].Problems == nil {
				out[i].Problems = []mailstore.Problem{}
			}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string]any{"stores": out, "status": status}); err != nil {
			return exitStatus{2, err}
		}
	}
	if status != 0 {
		return exitStatus{code: status}
	}
	return nil
}

func countIf(r mailstore.CheckResult, f func(mailstore.Problem) bool) int {
	n := 0
	for _, p := range r.Problems {
		if f(p) {
			n++
		}
	}
	return n
}

// fsckOne checks one store. An index that cannot be opened or fails
// integrity_check is, with repair, moved aside and made again from the
// files (UIDs from postern-uidlist or X-UID).
func fsckOne(ctx context.Context, sp storeSpec, homeInbox, repair bool) (mailstore.CheckResult, error) {
	var indexPath string
	switch sp.kind {
	case "maildir":
		if fi, err := os.Stat(filepath.Join(sp.path, "cur")); err != nil || !fi.IsDir() {
			return mailstore.CheckResult{}, fmt.Errorf("%s is not a Maildir (no cur/)", sp.path)
		}
		indexPath = filepath.Join(sp.path, maildir.IndexName)
	default:
		if fi, err := os.Stat(sp.path); err != nil || !fi.IsDir() {
			return mailstore.CheckResult{}, fmt.Errorf("%s is not a directory", sp.path)
		}
		indexPath = filepath.Join(sp.path, mbox.IndexName)
	}
	open := func() (mailstore.Store, error) {
		if sp.kind == "maildir" {
			return maildir.Open(sp.path, maildir.Options{})
		}
		return mbox.Open(mbox.Options{Root: sp.path, Inbox: sp.inbox, HomeMboxInbox: homeInbox})
	}
	var before []mailstore.Problem
	// The stores rebuild an index too damaged to open; look first, so a
	// check without --repair changes nothing.
	// badIndex reports the index as a problem and, with --repair, moves it
	// aside (the store then rebuilds it from the files); done is true when
	// the check ends there.
	badIndex := func(detail string) (res mailstore.CheckResult, done bool, err error) {
		p := mailstore.Problem{Kind: mailstore.CheckIndex, File: indexPath, Detail: detail}
		if !repair {
			return mailstore.CheckResult{Problems: []mailstore.Problem{p}}, true, nil
		}
		if _, err := sqlindex.MoveAside(indexPath, time.Now()); err != nil {
			return mailstore.CheckResult{Problems: []mailstore.Problem{p}}, true, err
		}
		p.Repaired = true
		before = append(before, p)
		return mailstore.CheckResult{}, false, nil
	}
	if err := sqlindex.Probe(indexPath); err != nil && sqlindex.IsCorrupt(err) {
		if res, done, err := badIndex(fmt.Sprintf("damaged: %v", err)); done {
			return res, err
		}
	}
	st, err := open()
	if err != nil {
		if res, done, err := badIndex(fmt.Sprintf("cannot open: %v", err)); done {
			return res, err
		}
		if st, err = open(); err != nil {
			return mailstore.CheckResult{Problems: before}, err
		}
	}
	ck, ok := st.(mailstore.Checker)
	if !ok {
		st.Close()
		return mailstore.CheckResult{}, fmt.Errorf("%s: this store cannot be checked", sp.kind)
	}
	res, err := ck.Check(ctx, false)
	if err != nil && indexDamaged(err) {
		// SQLite gave up reading the index: a problem of the store, not
		// of this run.
		res.Problems = append(res.Problems, mailstore.Problem{Kind: mailstore.CheckIndex, File: indexPath, Detail: err.Error()})
		err = nil
	}
	if err != nil || !repair {
		st.Close()
		return res, err
	}
	damaged := false
	for _, p := range res.Problems {
		damaged = damaged || p.Kind == mailstore.CheckIndex
	}
	if damaged {
		st.Close()
		if _, err := sqlindex.MoveAside(indexPath, time.Now()); err != nil {
			return res, err
		}
		if st, err = open(); err != nil {
			return res, err
		}
		ck = st.(mailstore.Checker)
	}
	after, err := ck.Check(ctx, true)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return res, err
	}
	merged := mailstore.MergeRepaired(res, after)
	merged.Problems = append(before, merged.Problems...)
	return merged, nil
}

// indexDamaged reports whether err is SQLite finding its file damaged:
// SQLITE_CORRUPT (11) or SQLITE_NOTADB (26).
func indexDamaged(err error) bool {
	m := err.Error()
	return sqlindex.IsCorrupt(err) || strings.Contains(m, "malformed") || strings.Contains(m, "not a database")
}
