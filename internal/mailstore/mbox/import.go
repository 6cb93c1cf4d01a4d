package mbox

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/postern/postern/internal/mailstore"
)

var _ mailstore.Importer = (*Store)(nil)

// ImportMailbox implements mailstore.Importer. The whole file is written as
// UW's unix driver writes it (uw-imap-docs/formats.txt): a mailbox other
// than INBOX starts with the "FOLDER INTERNAL DATA" pseudo message whose
// X-IMAP holds the UIDVALIDITY, UIDLAST and keywords; INBOX, as UW leaves
// a spool file, carries X-IMAPbase in its first message instead (the pseudo
// message when it has none). Every message gets a "From " line with its
// internal date, Status/X-Status/X-Keywords/X-UID, and ">From " quoting.
//
// The file is written beside the mailbox under a dot name, fsync'd and
// renamed over it under the locks, so the import is all or nothing: a
// crash leaves the old (empty) mailbox or the complete new file, which
// the index then reads with the UIDs its X-UID headers carry. The new
// file takes the old one's mode, owner and group (the spool's user:mail
// 0660). This needs a writable directory: importing into /var/mail as the
// user on Debian (root:mail 2775) fails; run the import as root.
func (s *Store) ImportMailbox(ctx context.Context, mb mailstore.ImportMailbox) error {
	n, err := s.canonical(mb.Name)
	if err != nil {
		return err
	}
	uidNext, err := mb.Check()
	if err != nil {
		return fmt.Errorf("mbox: %w", err)
	}
	path, err := s.nodePath(n)
	if err != nil {
		return err
	}
	var keywords []string
	addKw := func(k string) {
		if !strings.HasPrefix(k, `\`) && validKeyword(k) && !slices.Contains(keywords, k) {
			keywords = append(keywords, k)
		}
	}
	for _, k := range mb.Keywords {
		addKw(k)
	}
	for _, m := range mb.Messages {
		fl, _ := mailstore.NormalizeFlags(m.Flags) // checked by Check
		for _, f := range fl {
			addKw(f)
		}
	}
	return s.write(ctx, func(w *wtx) error {
		file := path
		if n != "INBOX" {
			fi, err := os.Stat(path)
			switch {
			case err == nil && fi.IsDir():
				file = filepath.Join(path, selfName)
			case errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
				// A parent that is a file mailbox becomes a directory.
				if err := s.makeParents(path); err != nil {
					return err
				}
			case err != nil:
				return ioErr("import", err)
			}
		}
		old, statErr := os.Stat(file)
		exists := statErr == nil
		var of *openFile
		defer func() { of.close() }()
		if exists {
			r, err := w.ensureRow(n)
			if err != nil {
				return err
			}
			if of, err = w.prepare(&r, file, false); err != nil {
				return err
			}
			var cnt int
			if err := w.tx.QueryRowContext(w.ctx, `SELECT count(*) FROM messages WHERE mailbox_id = ?`, r.id).Scan(&cnt); err != nil {
				return fmt.Errorf("mbox: index: %w", err)
			}
			if cnt > 0 {
				return fmt.Errorf("mbox: %q holds %d messages: %w", n, cnt, mailstore.ErrExist)
			}
		}
		var rnd [6]byte
		rand.Read(rnd[:])
		dir := filepath.Dir(file)
		tmp := filepath.Join(dir, "."+filepath.Base(file)+".postern-import-"+hex.EncodeToString(rnd[:]))
		defer os.Remove(tmp) // a no-op once renamed
		if err := s.writeImport(ctx, tmp, n == "INBOX", folderData{uidValidity: mb.UIDValidity, uidLast: uidNext - 1, keywords: keywords}, mb.Messages); err != nil {
			return err
		}
		backup := ""
		if exists {
			// The new file takes over the old one's identity (the spool
			// is user:mail 0660); chown fails unless we are root or the
			// owner, and then the file stays ours, as it would with UW.
			os.Chmod(tmp, old.Mode().Perm())
			if st, ok := old.Sys().(*syscall.Stat_t); ok {
				os.Chown(tmp, int(st.Uid), int(st.Gid))
			}
			// Kept until the commit, to put back if reading the new file
			// fails.
			backup = filepath.Join(dir, "."+filepath.Base(file)+".postern-old-"+hex.EncodeToString(rnd[:]))
			if err := os.Link(file, backup); err != nil {
				return ioErr("import", err)
			}
		}
		if err := os.Rename(tmp, file); err != nil {
			if backup != "" {
				os.Remove(backup)
			}
			return ioErr("import", err)
		}
		if err := s.fsyncDir(dir); err != nil {
			return err
		}
		of.close() // the locks were on the old file; prepare takes them again
		of = nil
		err := w.adoptImport(n, file, mb, uidNext)
		if err != nil {
			if backup != "" {
				os.Rename(backup, file)
			} else {
				os.Remove(file)
			}
			return err
		}
		if backup != "" {
			w.after = append(w.after, func() { os.Remove(backup) })
		}
		return nil
	})
}

// adoptImport reads the imported file into the index as a new mailbox and
// checks that it holds the UIDs it was given.
func (w *wtx) adoptImport(name, file string, mb mailstore.ImportMailbox, uidNext uint32) error {
	var id int64
	err := w.tx.QueryRowContext(w.ctx, `SELECT id FROM mailboxes WHERE name = ?`, name).Scan(&id)
	if err != nil && !isNoRows(err) {
		return fmt.Errorf("mbox: index: %w", err)
	}
	if err == nil {
		for _, q := range []string{`DELETE FROM messages WHERE mailbox_id = ?`, `DELETE FROM cache WHERE mailbox_id = ?`,
			`DELETE FROM expunged WHERE mailbox_id = ?`, `DELETE FROM savedate WHERE mailbox_id = ?`, `DELETE FROM mailboxes WHERE id = ?`} {
			if err := w.exec(q, id); err != nil {
				return err
			}
		}
		w.touched[id] = true
	}
	r, err := w.ensureRow(name)
	if err != nil {
		return err
	}
	of, err := w.prepare(&r, file, false)
	of.close()
	if err != nil {
		return err
	}
	msgs, err := allMsgs(w.ctx, w.tx, r.id)
	if err != nil {
		return err
	}
	if r.uidValidity != mb.UIDValidity || r.uidNext != uidNext || len(msgs) != len(mb.Messages) {
		return fmt.Errorf("mbox: import %q read back UIDVALIDITY %d UIDNEXT %d, %d messages; want %d, %d, %d",
			name, r.uidValidity, r.uidNext, len(msgs), mb.UIDValidity, uidNext, len(mb.Messages))
	}
	for i, m := range msgs {
		if m.uid != mb.Messages[i].UID {
			return fmt.Errorf("mbox: import %q read back UID %d, want %d", name, m.uid, mb.Messages[i].UID)
		}
	}
	if len(msgs) > 0 {
		r.recentUID = msgs[len(msgs)-1].uid // migrated mail is not new
	}
	if err := w.saveRow(&r); err != nil {
		return err
	}
	if mb.SpecialUse != "" {
		if err := w.exec(`UPDATE mailboxes SET special_use = ? WHERE id = ?`, mb.SpecialUse, r.id); err != nil {
			return err
		}
	}
	w.touched[r.id] = true
	return nil
}

// writeImport writes a complete mailbox file at path and makes it durable.
func (s *Store) writeImport(ctx context.Context, path string, inbox bool, fd folderData, msgs []mailstore.ImportMessage) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, s.opts.FileMode)
	if err != nil {
		return ioErr("import", err)
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 64<<10)
	if !inbox || len(msgs) == 0 {
		bw.Write(renderPseudo(fd, s.opts.Hostname, s.pseudoDates))
	}
	for i, m := range msgs {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("mbox: import: %w", err)
		}
		rc, err := m.Open()
		if err != nil {
			return fmt.Errorf("mbox: import UID %d: %w", m.UID, err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("mbox: import UID %d: %w", m.UID, err)
		}
		data = toLF(data) // as UW writes (toLF)
		flags, _ := mailstore.NormalizeFlags(m.Flags)
		date := m.InternalDate
		if date.IsZero() {
			date = s.opts.Now()
		}
		var base *folderData
		if inbox && i == 0 {
			base = &fd
		}
		hdr, rest := splitForAppend(data)
		h := scanHeader(hdr)
		bw.WriteString(formatFromLine(envelopeSender(h.visible, s.opts.Sender), date.Truncate(time.Second)))
		bw.Write(h.visible)
		bw.Write(statusBlock{base: base, flags: flags, old: true, uid: m.UID, crlf: h.crlf, order: fd.keywords}.render(0))
		bw.Write(rest)
		if len(data) > 0 && data[len(data)-1] != '\n' {
			bw.WriteByte('\n')
		}
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return ioErr("import", err)
	}
	if err := s.fsync(f); err != nil {
		return ioErr("import", err)
	}
	return nil
}

// OpenReadOnly opens an mbox tree as the source of a migration (postern
// import from UW): reads only, through the same code as Open, so UW's
// UIDVALIDITY, UIDs, flags and keywords come out as our server would show
// them. Give opts.IndexPath outside the tree (a temporary file) to leave
// no index behind. Mailbox files are never written: methods that would
// change mail return mailstore.ErrReadOnly, and closing a mailbox does not
// write the X-UIDs of messages an MTA delivered, as Close otherwise does
// (they get the next UIDs, as UW would have given them). Reading still
// takes the mailbox locks (NAME.lock beside the file) while it parses a
// file, so an MTA delivering meanwhile waits.
func OpenReadOnly(opts Options) (mailstore.Store, error) {
	s, err := open(opts)
	if err != nil {
		return nil, err
	}
	s.readOnly = true
	return readOnlyStore{s}, nil
}

// readOnlyStore is a Store without its write methods.
type readOnlyStore struct{ s *Store }

func readOnly(what string) error { return fmt.Errorf("mbox: %s: %w", what, mailstore.ErrReadOnly) }

func (ro readOnlyStore) List(ctx context.Context) ([]mailstore.MailboxInfo, error) {
	return ro.s.List(ctx)
}
func (ro readOnlyStore) Create(context.Context, string, string) error { return readOnly("create") }
func (ro readOnlyStore) Delete(context.Context, string) error         { return readOnly("delete") }
func (ro readOnlyStore) Rename(context.Context, string, string) error { return readOnly("rename") }
func (ro readOnlyStore) SetSubscribed(context.Context, string, bool) error {
	return readOnly("subscribe")
}
func (ro readOnlyStore) Subscriptions(ctx context.Context) ([]string, error) {
	return ro.s.Subscriptions(ctx)
}
func (ro readOnlyStore) Status(ctx context.Context, name string) (mailstore.Status, error) {
	return ro.s.Status(ctx, name)
}
func (ro readOnlyStore) Append(context.Context, string, io.Reader, mailstore.AppendOptions) (uint32, uint32, error) {
	return 0, 0, readOnly("append")
}
func (ro readOnlyStore) Open(ctx context.Context, name string) (mailstore.Mailbox, error) {
	mb, err := ro.s.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	return readOnlyMailbox{mb.(*mailbox)}, nil
}
func (ro readOnlyStore) Close() error { return ro.s.Close() }

// readOnlyMailbox is a mailbox without its write methods.
type readOnlyMailbox struct{ *mailbox }

func (readOnlyMailbox) StoreFlags(context.Context, []uint32, mailstore.FlagOp, []string, uint64) ([]mailstore.MessageMeta, []uint32, error) {
	return nil, nil, readOnly("store")
}
func (readOnlyMailbox) Expunge(context.Context, []uint32) ([]uint32, error) {
	return nil, readOnly("expunge")
}
func (readOnlyMailbox) CopyTo(context.Context, []uint32, string) (uint32, []uint32, []uint32, error) {
	return 0, nil, nil, readOnly("copy")
}
func (readOnlyMailbox) MoveTo(context.Context, []uint32, string) (uint32, []uint32, []uint32, error) {
	return 0, nil, nil, readOnly("move")
}

// Close releases the mailbox without the checkpoint write of
// mailbox.Close.
func (ro readOnlyMailbox) Close() error {
	mb := ro.mailbox
	mb.mu.Lock()
	if mb.closed {
		mb.mu.Unlock()
		return nil
	}
	mb.closed = true
	watching, id, name := mb.watching, mb.id, mb.name
	mb.mu.Unlock()
	mb.s.sh.watchers.Unregister(id, mb.watch)
	if watching {
		mb.s.watchStop(name)
	}
	return nil
}

// envelopeSender returns the address of the header's Return-Path (what
// the MTA wrote as the "From " line's sender), or def when it has none
// usable.
func envelopeSender(hdr []byte, def string) string {
	for off := 0; off < len(hdr); {
		line := firstLine(hdr[off:])
		off += len(line)
		name, v, ok := fieldOf(line)
		if !ok || !strings.EqualFold(name, "Return-Path") {
			continue
		}
		v = strings.TrimSuffix(strings.TrimPrefix(v, "<"), ">")
		if v == "" || strings.ContainsAny(v, " \t<>\"") {
			return def // the null sender "<>", or something odd
		}
		return v
	}
	return def
}
