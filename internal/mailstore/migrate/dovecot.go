package migrate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/postern/postern/internal/mailstore"
)

// FromDovecotMaildir opens a Dovecot Maildir++ tree (mail_location =
// maildir:DIR, LAYOUT=maildir++, the default) as a read-only store:
// INBOX is DIR itself, folder "a/b" is DIR/.a.b with names in modified
// UTF-7 (or UTF-8 under mailbox_list_utf8); UIDVALIDITY, next UID and
// UIDs come from each folder's dovecot-uidlist, keyword letters from its
// dovecot-keywords, subscriptions from DIR/subscriptions. Flags are the
// letters of the file names (P, passed, is read as $Forwarded, as our
// Maildir driver does); the internal date is the file's mtime, as Dovecot
// has it. A message file the uidlist does not name (delivered after
// Dovecot last looked) gets the next UID, as Dovecot would give it. A
// folder without a uidlist gets UIDs from 1 and a UIDVALIDITY from its
// mtime: it was never opened by Dovecot, so no client knows its UIDs.
//
// Nothing in DIR is written; every method that would change mail returns
// mailstore.ErrReadOnly.
func FromDovecotMaildir(dir string) (mailstore.Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if fi, err := os.Stat(filepath.Join(abs, "cur")); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("migrate: %s is not a Maildir (no cur/)", abs)
	}
	return &dovecotStore{root: abs}, nil
}

type dovecotStore struct {
	root string
}

var _ mailstore.Store = (*dovecotStore)(nil)

func readOnly(what string) error {
	return fmt.Errorf("migrate: dovecot source: %s: %w", what, mailstore.ErrReadOnly)
}

// folders maps mailbox names to their directories.
func (s *dovecotStore) folders() (map[string]string, error) {
	ents, err := os.ReadDir(s.root)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	out := map[string]string{"INBOX": s.root}
	for _, e := range ents {
		n := e.Name()
		if !e.IsDir() || !strings.HasPrefix(n, ".") || n == "." || n == ".." {
			continue
		}
		p := filepath.Join(s.root, n)
		if fi, err := os.Stat(filepath.Join(p, "cur")); err != nil || !fi.IsDir() {
			continue
		}
		parts := strings.Split(n[1:], ".")
		ok := true
		for i, c := range parts {
			if parts[i], ok = folderComponent(c); !ok || parts[i] == "" {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		name, err := mailstore.CanonicalName(strings.Join(parts, "/"))
		if err != nil || name == "INBOX" {
			continue
		}
		out[name] = p
	}
	return out, nil
}

// List implements mailstore.Store; missing parents are \Noselect.
func (s *dovecotStore) List(ctx context.Context) ([]mailstore.MailboxInfo, error) {
	fs, err := s.folders()
	if err != nil {
		return nil, err
	}
	subs, _ := s.Subscriptions(ctx)
	var out []mailstore.MailboxInfo
	seen := map[string]bool{}
	for n := range fs {
		seen[n] = true
	}
	for n := range fs {
		out = append(out, mailstore.MailboxInfo{Name: n, Subscribed: slices.Contains(subs, n)})
		for i := strings.LastIndex(n, "/"); i > 0; i = strings.LastIndex(n[:i], "/") {
			if p := n[:i]; !seen[p] {
				seen[p] = true
				out = append(out, mailstore.MailboxInfo{Name: p, NoSelect: true, Subscribed: slices.Contains(subs, p)})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Subscriptions implements mailstore.Store from DIR/subscriptions: in
// Dovecot 2.x a "V\t2" line, then names with their levels separated by
// tabs; before, one name per line with the namespace separator ".".
func (s *dovecotStore) Subscriptions(ctx context.Context) ([]string, error) {
	data, err := os.ReadFile(filepath.Join(s.root, "subscriptions"))
	if errors.Is(err, os.ErrNotExist) {
		return []string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	lines := strings.Split(string(data), "\n")
	v2 := len(lines) > 0 && strings.TrimSuffix(lines[0], "\r") == "V\t2"
	if v2 {
		lines = lines[1:]
	}
	out := []string{}
	for _, l := range lines {
		l = strings.TrimSuffix(l, "\r")
		if l == "" {
			continue
		}
		sep := "."
		if v2 {
			sep = "\t"
		}
		parts := strings.Split(l, sep)
		if len(parts) > 1 && strings.EqualFold(parts[0], "INBOX") {
			parts = parts[1:] // "INBOX." namespace prefix
		}
		n, err := mailstore.CanonicalName(strings.Join(parts, "/"))
		if err == nil && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (s *dovecotStore) Create(context.Context, string, string) error { return readOnly("create") }
func (s *dovecotStore) Delete(context.Context, string) error         { return readOnly("delete") }
func (s *dovecotStore) Rename(context.Context, string, string) error { return readOnly("rename") }
func (s *dovecotStore) SetSubscribed(context.Context, string, bool) error {
	return readOnly("subscribe")
}
func (s *dovecotStore) Append(context.Context, string, io.Reader, mailstore.AppendOptions) (uint32, uint32, error) {
	return 0, 0, readOnly("append")
}
func (s *dovecotStore) Close() error { return nil }

// Status implements mailstore.Store.
func (s *dovecotStore) Status(ctx context.Context, name string) (mailstore.Status, error) {
	f, err := s.load(name)
	if err != nil {
		return mailstore.Status{}, err
	}
	st := mailstore.Status{MailboxState: f.state, Messages: uint32(len(f.msgs))}
	for _, m := range f.msgs {
		if !slices.Contains(m.Flags, mailstore.FlagSeen) {
			st.Unseen++
		}
		if slices.Contains(m.Flags, mailstore.FlagDeleted) {
			st.Deleted++
		}
		st.Size += m.Size
	}
	return st, nil
}

// Open implements mailstore.Store: the folder is read once, at Open.
func (s *dovecotStore) Open(ctx context.Context, name string) (mailstore.Mailbox, error) {
	f, err := s.load(name)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// dovecotFolder is a folder as read at Open; it implements
// mailstore.Mailbox, read-only.
type dovecotFolder struct {
	name  string
	state mailstore.MailboxState
	msgs  []mailstore.MessageInfo // ascending UIDs
	paths map[uint32]string
	watch chan struct{}
}

var _ mailstore.Mailbox = (*dovecotFolder)(nil)

type dovecotFile struct {
	path, base, info string
	fi               os.FileInfo
}

// load reads a folder: its uidlist, keywords and files.
func (s *dovecotStore) load(name string) (*dovecotFolder, error) {
	cn, err := mailstore.CanonicalName(name)
	if err != nil {
		return nil, err
	}
	fs, err := s.folders()
	if err != nil {
		return nil, err
	}
	dir, ok := fs[cn]
	if !ok {
		return nil, fmt.Errorf("migrate: dovecot source %q: %w", name, mailstore.ErrNotExist)
	}
	var ul dovecotUIDList
	data, err := os.ReadFile(filepath.Join(dir, "dovecot-uidlist"))
	switch {
	case err == nil:
		if ul, err = parseDovecotUIDList(data); err != nil {
			return nil, fmt.Errorf("migrate: %s: %w", dir, err)
		}
	case errors.Is(err, os.ErrNotExist):
		fi, err := os.Stat(dir)
		if err != nil {
			return nil, fmt.Errorf("migrate: %w", err)
		}
		ul = dovecotUIDList{uidValidity: uint32(max(fi.ModTime().Unix(), 1)), nextUID: 1, uids: map[string]uint32{}}
	default:
		return nil, fmt.Errorf("migrate: %w", err)
	}
	kwData, _ := os.ReadFile(filepath.Join(dir, "dovecot-keywords"))
	kws := parseDovecotKeywords(kwData)
	var files []dovecotFile
	for _, sub := range []string{"cur", "new"} {
		ents, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("migrate: %w", err)
		}
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), ".") || !e.Type().IsRegular() {
				continue
			}
			fi, err := e.Info()
			if err != nil {
				continue
			}
			base, info, _ := strings.Cut(e.Name(), ":")
			files = append(files, dovecotFile{filepath.Join(dir, sub, e.Name()), base, info, fi})
		}
	}
	f := &dovecotFolder{name: cn, paths: map[uint32]string{}, watch: make(chan struct{})}
	next := max(ul.nextUID, 1)
	var unknown []dovecotFile
	for _, df := range files {
		uid, ok := ul.lookup(df.base)
		if !ok || f.paths[uid] != "" {
			unknown = append(unknown, df)
			continue
		}
		f.add(uid, df, kws)
		next = max(next, uid+1)
	}
	// New mail gets the next UIDs in delivery order, as Dovecot gives them.
	slices.SortFunc(unknown, func(a, b dovecotFile) int {
		if c := a.fi.ModTime().Compare(b.fi.ModTime()); c != 0 {
			return c
		}
		return strings.Compare(a.base, b.base)
	})
	for _, df := range unknown {
		f.add(next, df, kws)
		next++
	}
	slices.SortFunc(f.msgs, func(a, b mailstore.MessageInfo) int { return int(a.UID) - int(b.UID) })
	f.state = mailstore.MailboxState{UIDValidity: ul.uidValidity, UIDNext: next, HighestModSeq: 1, FirstRecentUID: next}
	return f, nil
}

func (f *dovecotFolder) add(uid uint32, df dovecotFile, kws map[int]string) {
	var flags []string
	if letters, ok := strings.CutPrefix(df.info, "2,"); ok {
		for _, c := range letters {
			switch {
			case c == 'D':
				flags = append(flags, mailstore.FlagDraft)
			case c == 'F':
				flags = append(flags, mailstore.FlagFlagged)
			case c == 'P':
				flags = append(flags, "$Forwarded")
			case c == 'R':
				flags = append(flags, mailstore.FlagAnswered)
			case c == 'S':
				flags = append(flags, mailstore.FlagSeen)
			case c == 'T':
				flags = append(flags, mailstore.FlagDeleted)
			case c >= 'a' && c <= 'z':
				if k := kws[int(c-'a')]; k != "" {
					flags = append(flags, k)
				}
			}
		}
	}
	flags, _ = mailstore.NormalizeFlags(flags)
	f.paths[uid] = df.path
	f.msgs = append(f.msgs, mailstore.MessageInfo{
		MessageMeta:  mailstore.MessageMeta{UID: uid, ModSeq: 1, Flags: flags},
		Size:         df.fi.Size(),
		InternalDate: df.fi.ModTime().Truncate(time.Second),
	})
}

func (f *dovecotFolder) Name() string { return f.name }
func (f *dovecotFolder) State(context.Context) (mailstore.MailboxState, error) {
	return f.state, nil
}
func (f *dovecotFolder) Messages(context.Context) ([]mailstore.MessageMeta, error) {
	out := make([]mailstore.MessageMeta, len(f.msgs))
	for i, m := range f.msgs {
		out[i] = m.MessageMeta
	}
	return out, nil
}
func (f *dovecotFolder) Changes(ctx context.Context, since uint64) ([]mailstore.MessageMeta, []uint32, mailstore.MailboxState, error) {
	if since >= f.state.HighestModSeq {
		return nil, nil, f.state, nil
	}
	m, _ := f.Messages(ctx)
	return m, nil, f.state, nil
}
func (f *dovecotFolder) Info(ctx context.Context, uids []uint32) ([]mailstore.MessageInfo, error) {
	var out []mailstore.MessageInfo
	for _, u := range uids {
		i, ok := slices.BinarySearchFunc(f.msgs, u, func(m mailstore.MessageInfo, u uint32) int { return int(m.UID) - int(u) })
		if ok {
			out = append(out, f.msgs[i])
		}
	}
	return out, nil
}

// fileReader is a message file.
type fileReader struct {
	*os.File
	size int64
}

func (r fileReader) Size() int64 { return r.size }

func (f *dovecotFolder) OpenMessage(ctx context.Context, uid uint32) (mailstore.MessageReader, error) {
	p := f.paths[uid]
	if p == "" {
		return nil, fmt.Errorf("migrate: dovecot source %q UID %d: %w", f.name, uid, mailstore.ErrNotExist)
	}
	fh, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	fi, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return fileReader{fh, fi.Size()}, nil
}
func (f *dovecotFolder) SetCache(context.Context, []mailstore.CacheEntry) error { return nil }
func (f *dovecotFolder) StoreFlags(context.Context, []uint32, mailstore.FlagOp, []string, uint64) ([]mailstore.MessageMeta, []uint32, error) {
	return nil, nil, readOnly("store")
}
func (f *dovecotFolder) Expunge(context.Context, []uint32) ([]uint32, error) {
	return nil, readOnly("expunge")
}
func (f *dovecotFolder) CopyTo(context.Context, []uint32, string) (uint32, []uint32, []uint32, error) {
	return 0, nil, nil, readOnly("copy")
}
func (f *dovecotFolder) MoveTo(context.Context, []uint32, string) (uint32, []uint32, []uint32, error) {
	return 0, nil, nil, readOnly("move")
}

// ClaimRecent implements mailstore.Mailbox: migrated mail is not recent.
func (f *dovecotFolder) ClaimRecent(context.Context) (uint32, error) { return f.state.UIDNext, nil }

// Watch implements mailstore.Mailbox: a snapshot never changes.
func (f *dovecotFolder) Watch() <-chan struct{} { return f.watch }
func (f *dovecotFolder) Close() error           { return nil }
