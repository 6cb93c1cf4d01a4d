package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/mailstore/maildir"
	"github.com/postern/postern/internal/mailstore/mbox"
	"github.com/postern/postern/internal/mailstore/migrate"
)

// convertUsage and importUsage are the help of `postern convert` and
// `postern import` (issue 4, items 4 and 6).
const (
	convertUsage = `usage: postern convert --from STORE --to STORE [--skip-existing]
  STORE is  mbox:ROOT[,inbox=FILE]   UW-style mbox files under ROOT, INBOX in FILE
                                     (default ROOT/mbox; usually /var/mail/USER)
       or   maildir:DIR              a Maildir++ tree (INBOX is DIR)
  Every mailbox is copied keeping UIDVALIDITY, UIDs, flags, keywords and
  internal dates, so IMAP clients do not download anything again. The source
  is only read. A destination mailbox holding messages stops the conversion
  before anything is written, unless --skip-existing.`
	importUsage = `usage: postern import --from SOURCE --to STORE [--skip-existing]
  SOURCE is uw-mbox:ROOT[,inbox=FILE]    UW imapd's files: ROOT the home directory
                                         (or mail directory), FILE the spool
                                         (/var/mail/USER; default ROOT/mbox)
         or dovecot-maildir:DIR          Dovecot's Maildir++ (dovecot-uidlist)
  STORE  is maildir:DIR or mbox:ROOT[,inbox=FILE], as for postern convert.
  UIDVALIDITY and UIDs are kept. Run as root on a user's files, everything
  the import creates is given to the owner of the source ROOT/DIR.`
)

// convert runs `postern convert`: between our own mbox and Maildir stores.
func convert(args []string, stdout io.Writer) error {
	return migrateCommand("convert", convertUsage, []string{"mbox", "maildir"}, args, stdout)
}

// importCmd runs `postern import`: from UW imapd's mbox files or from a
// Dovecot Maildir, keeping UIDs.
func importCmd(args []string, stdout io.Writer) error {
	return migrateCommand("import", importUsage, []string{"uw-mbox", "dovecot-maildir"}, args, stdout)
}

// storeSpec is a parsed KIND:PATH[,inbox=FILE].
type storeSpec struct {
	kind, path, inbox string
}

func parseStoreSpec(s string, kinds []string) (storeSpec, error) {
	kind, rest, ok := strings.Cut(s, ":")
	if !ok || rest == "" {
		return storeSpec{}, fmt.Errorf("%q: want KIND:PATH with KIND one of %s", s, strings.Join(kinds, ", "))
	}
	known := false
	for _, k := range kinds {
		known = known || k == kind
	}
	if !known {
		return storeSpec{}, fmt.Errorf("%q: unknown kind %q, want one of %s", s, kind, strings.Join(kinds, ", "))
	}
	sp := storeSpec{kind: kind, path: rest}
	if i := strings.LastIndex(rest, ",inbox="); i >= 0 {
		if !strings.HasSuffix(kind, "mbox") {
			return storeSpec{}, fmt.Errorf("%q: inbox= applies to mbox stores only", s)
		}
		sp.path, sp.inbox = rest[:i], rest[i+len(",inbox="):]
		if sp.inbox == "" {
			return storeSpec{}, fmt.Errorf("%q: empty inbox=", s)
		}
	}
	if sp.path == "" {
		return storeSpec{}, fmt.Errorf("%q: empty path", s)
	}
	var err error
	if sp.path, err = filepath.Abs(sp.path); err != nil {
		return storeSpec{}, err
	}
	if sp.inbox != "" {
		if sp.inbox, err = filepath.Abs(sp.inbox); err != nil {
			return storeSpec{}, err
		}
	}
	return sp, nil
}

func migrateCommand(name, usage string, sources []string, args []string, stdout io.Writer) error {
	fset := flag.NewFlagSet(name, flag.ContinueOnError)
	fset.SetOutput(io.Discard)
	from := fset.String("from", "", "source store")
	to := fset.String("to", "", "destination store")
	skip := fset.Bool("skip-existing", false, "leave destination mailboxes that hold messages alone")
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stdout, usage)
			return nil
		}
		return fmt.Errorf("%s: %w\n%s", name, err, usage)
	}
	if *from == "" || *to == "" || fset.NArg() != 0 {
		return fmt.Errorf("%s: --from and --to are required\n%s", name, usage)
	}
	src, err := parseStoreSpec(*from, sources)
	if err != nil {
		return fmt.Errorf("%s: --from %w", name, err)
	}
	dst, err := parseStoreSpec(*to, []string{"maildir", "mbox"})
	if err != nil {
		return fmt.Errorf("%s: --to %w", name, err)
	}
	if src.path == dst.path {
		return fmt.Errorf("%s: source and destination are both %s", name, src.path)
	}
	tmp, err := os.MkdirTemp("", "postern-"+name+"-")
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer os.RemoveAll(tmp)
	srcStore, err := openSource(src, tmp)
	if err != nil {
		return fmt.Errorf("%s: source: %w", name, err)
	}
	defer srcStore.Close()
	dstStore, err := openDestination(dst)
	if err != nil {
		return fmt.Errorf("%s: destination: %w", name, err)
	}
	sum, err := migrate.Copy(context.Background(), srcStore, dstStore, migrate.Options{
		SkipExisting: *skip,
		Progress: func(r migrate.MailboxResult) {
			if r.Skipped {
				fmt.Fprintf(stdout, "%s: skipped, the destination mailbox holds messages\n", r.Name)
				return
			}
			fmt.Fprintf(stdout, "%s: %d messages, UIDVALIDITY %d, UIDs kept\n", r.Name, r.Messages, r.UIDValidity)
		},
	})
	cerr := dstStore.Close()
	if err == nil {
		err = cerr
	}
	if oerr := giveToOwner(src, dst); err == nil {
		err = oerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	copied := 0
	for _, r := range sum.Mailboxes {
		if !r.Skipped {
			copied++
		}
	}
	fmt.Fprintf(stdout, "total: %d mailboxes, %d messages, %d subscriptions", copied, sum.Messages, sum.Subscriptions)
	if n := len(sum.Mailboxes) - copied; n > 0 {
		fmt.Fprintf(stdout, ", %d mailboxes skipped", n)
	}
	fmt.Fprintln(stdout)
	return nil
}

// openSource opens a source read-only. An mbox tree gets its index in tmp,
// so nothing is written into it.
func openSource(sp storeSpec, tmp string) (mailstore.Store, error) {
	if _, err := os.Stat(sp.path); err != nil {
		return nil, err
	}
	switch sp.kind {
	case "mbox", "uw-mbox":
		return mbox.OpenReadOnly(mbox.Options{Root: sp.path, Inbox: sp.inbox, IndexPath: filepath.Join(tmp, "index.sqlite")})
	case "maildir":
		if fi, err := os.Stat(filepath.Join(sp.path, "cur")); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("%s is not a Maildir (no cur/)", sp.path)
		}
		return maildir.Open(sp.path, maildir.Options{})
	default: // dovecot-maildir
		return migrate.FromDovecotMaildir(sp.path)
	}
}

func openDestination(sp storeSpec) (mailstore.Store, error) {
	if sp.kind == "mbox" {
		return mbox.Open(mbox.Options{Root: sp.path, Inbox: sp.inbox})
	}
	return maildir.Open(sp.path, maildir.Options{})
}

// giveToOwner runs when we are root (converting a user's mail): the files
// and directories the conversion created, owned by root, are given to the
// owner of the source (user and group of its ROOT/DIR), so the user's
// server process can open them after dropping privileges. Files that
// already belonged to someone else are left alone; a new INBOX spool file
// keeps the group it got from its directory (mail, on Debian).
func giveToOwner(src, dst storeSpec) error {
	if os.Geteuid() != 0 {
		return nil
	}
	fi, err := os.Stat(src.path)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st.Uid == 0 {
		return nil
	}
	uid, gid := int(st.Uid), int(st.Gid)
	ours := func(p string) bool {
		fi, err := os.Lstat(p)
		if err != nil {
			return false
		}
		s, ok := fi.Sys().(*syscall.Stat_t)
		return ok && s.Uid == 0
	}
	err = filepath.WalkDir(dst.path, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ours(p) {
			return os.Lchown(p, uid, gid)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("chown: %w", err)
	}
	if dst.kind == "mbox" && dst.inbox != "" && ours(dst.inbox) {
		if err := os.Lchown(dst.inbox, uid, -1); err != nil {
			return fmt.Errorf("chown: %w", err)
		}
	}
	return nil
}
