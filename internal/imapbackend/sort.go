package imapbackend

import (
	"context"
	"slices"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/imapserver"
	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/message"
	"github.com/postern/postern/internal/sortthread"
)

var _ imapserver.SessionSort = (*session)(nil)

// Sort implements imapserver.SessionSort (RFC 5256 §3, RFC 5957): the
// search runs as SEARCH does, each match's envelope comes from the cached
// structure, and sortthread orders them.
func (s *session) Sort(ctx context.Context, kind imap.NumKind, keys []imap.SortKey, criteria *imap.SearchCriteria, opts *imap.SearchOptions) (*imap.SearchData, error) {
	sel, err := s.needSel()
	if err != nil {
		return nil, err
	}
	msgs, err := s.sortMessages(ctx, sel, criteria)
	if err != nil {
		return nil, err
	}
	sk := make([]sortthread.Key, len(keys))
	for i, k := range keys {
		sk[i] = sortthread.Key{Name: sortthread.KeyName(k.Name), Reverse: k.Reverse}
	}
	sorted := sortthread.Sort(msgs, sk)
	data := &imap.SearchData{}
	idx := make([]int, len(sorted))
	for i := range sorted {
		data.All = append(data.All, sortNum(kind, &sorted[i]))
		idx[i] = int(sorted[i].Seq - 1)
		if opts != nil && opts.ModSeq {
			// RFC 7162 §3.1.9: the highest MODSEQ of the matches.
			data.ModSeq = max(data.ModSeq, sel.modSeq[idx[i]])
		}
	}
	if opts != nil && opts.ReturnSave {
		sel.saveResult(idx, opts)
	}
	return data, nil
}

// Thread implements imapserver.SessionSort (RFC 5256 §3).
func (s *session) Thread(ctx context.Context, kind imap.NumKind, algorithm imap.ThreadAlgorithm, criteria *imap.SearchCriteria) ([]imap.Thread, error) {
	sel, err := s.needSel()
	if err != nil {
		return nil, err
	}
	refs := algorithm == imap.ThreadReferences
	msgs, err := s.sortMessages(ctx, sel, criteria)
	if err != nil {
		return nil, err
	}
	var nodes []*sortthread.Node
	if refs {
		nodes = sortthread.ThreadReferences(msgs)
	} else {
		nodes = sortthread.ThreadOrderedSubject(msgs)
	}
	return threadsOf(nodes, func(m *sortthread.Message) uint32 { return sortNum(kind, m) }), nil
}

// sortNum is the number a SORT or THREAD response gives for m.
func sortNum(kind imap.NumKind, m *sortthread.Message) uint32 {
	if kind == imap.NumKindUID {
		return m.UID
	}
	return m.Seq
}

// sortMessages runs the search and summarizes each match for sortthread:
// dates and size from the index, the envelope and References from the
// cached structure; no message file is opened once it is cached.
func (s *session) sortMessages(ctx context.Context, sel *selected, criteria *imap.SearchCriteria) ([]sortthread.Message, error) {
	var msgs []sortthread.Message
	_, err := s.searchIndices(ctx, sel, criteria, func(m *searchMsg) error {
		if m.info == nil {
			return mailstore.ErrNotExist
		}
		root, err := m.part(ctx)
		if err != nil {
			return err
		}
		sm := sortthread.Message{
			Seq:          uint32(m.i + 1),
			UID:          m.uid,
			InternalDate: m.info.InternalDate,
			// RFC822.SIZE counts CRLF line ends (as SEARCH LARGER).
			Size: m.info.Size + root.BareLFHeader + root.BareLFBody,
		}
		if env := root.Envelope; env != nil {
			if t, ok := message.ParseDate(env.Date); ok {
				sm.Date = t
			}
			sm.Subject = env.Subject
			sm.From, sm.To, sm.Cc = env.From, env.To, env.Cc
			sm.MessageID, sm.InReplyTo = env.MessageID, env.InReplyTo
			// Cached with the structure: no header read.
			sm.References = env.References
		}
		msgs = append(msgs, sm)
		return nil
	})
	return msgs, err
}

// threadsOf turns sortthread's trees into thread-lists (RFC 5256 §5), as
// sortthread.FormatThreads prints them: a dummy with one child becomes
// that child, a dummy with several becomes a list of their sub-threads,
// a dummy with none is dropped.
func threadsOf(nodes []*sortthread.Node, num func(*sortthread.Message) uint32) []imap.Thread {
	var out []imap.Thread
	for _, n := range nodes {
		if t, ok := threadOf(n, num); ok {
			out = append(out, t)
		}
	}
	return out
}

// threadOf returns the thread-list of n, false when nothing below n is a
// message.
func threadOf(n *sortthread.Node, num func(*sortthread.Message) uint32) (imap.Thread, bool) {
	n = resolveDummy(n)
	kids := liveChildren(n.Children)
	if n.Msg == nil && len(kids) == 0 {
		return imap.Thread{}, false
	}
	var t imap.Thread
	for {
		n = resolveDummy(n)
		kids = liveChildren(n.Children)
		if n.Msg == nil {
			// A dummy with several children: their sub-threads,
			// below the chain so far or as the whole thread.
			t.Children = threadsOf(kids, num)
			return t, true
		}
		t.Nums = append(t.Nums, num(n.Msg))
		switch len(kids) {
		case 0:
			return t, true
		case 1:
			n = kids[0]
		default:
			t.Children = threadsOf(kids, num)
			return t, true
		}
	}
}

// resolveDummy replaces a dummy with a single live child by that child,
// repeatedly (RFC 5256 §3 REFERENCES step 3 promotes such children).
func resolveDummy(n *sortthread.Node) *sortthread.Node {
	for n.Msg == nil {
		kids := liveChildren(n.Children)
		if len(kids) != 1 {
			return n
		}
		n = kids[0]
	}
	return n
}

// liveChildren drops the children with no message below them, which
// print nothing.
func liveChildren(kids []*sortthread.Node) []*sortthread.Node {
	return slices.DeleteFunc(slices.Clone(kids), func(k *sortthread.Node) bool { return !hasMessage(k) })
}

// hasMessage reports whether the tree under n holds a message.
func hasMessage(n *sortthread.Node) bool {
	if n.Msg != nil {
		return true
	}
	return slices.ContainsFunc(n.Children, hasMessage)
}
