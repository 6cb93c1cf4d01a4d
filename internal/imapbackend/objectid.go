package imapbackend

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/imapserver"
	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/message"
)

// objectIDLen is how many hex digits of a SHA-256 an ObjectID keeps: 96
// bits, far from collisions in one user's mail, short on the wire.
const objectIDLen = 24

// emailID derives the EMAILID of a message (RFC 8474 §5.1) from what is
// immutable about it: its header block as stored (through root.HeaderSum,
// which the cached structure keeps, so no file is read), its body size and
// its internal date. COPY and MOVE keep all three (the mbox driver serves
// the header without UW's status lines), so the copy has the same EMAILID,
// as §5.1 requires; two deliveries of identical content may share one,
// which §5.1 allows. "M" keeps EMAILIDs apart from THREADIDs (§5.2).
func emailID(root *message.Part, internalDate int64) string {
	h := sha256.New()
	h.Write(root.HeaderSum[:])
	h.Write([]byte("\x00" + strconv.FormatInt(root.End-root.BodyStart, 10) + "\x00" + strconv.FormatInt(internalDate, 10)))
	return "M" + hex.EncodeToString(h.Sum(nil))[:objectIDLen]
}

// threadID derives the THREADID (RFC 8474 §5.2) from the thread's root
// message as this message names it: the first message ID of References,
// else In-Reply-To, else its own Message-ID (the raw header values, as
// the envelope keeps them). Messages of one conversation thus share it
// across mailboxes, and a copy keeps it. A message with none of the three
// is a thread of its own, named after its EMAILID.
func threadID(references, inReplyTo, messageID, emailID string) string {
	root := firstMsgID(references)
	if root == "" {
		root = firstMsgID(inReplyTo)
	}
	if root == "" {
		root = firstMsgID(messageID)
	}
	if root == "" {
		return "T" + emailID[1:]
	}
	sum := sha256.Sum256([]byte(root))
	return "T" + hex.EncodeToString(sum[:])[:objectIDLen]
}

// firstMsgID returns the first "<...>" of a header value, without its
// brackets' surrounding whitespace; "" when there is none.
func firstMsgID(v string) string {
	i := strings.IndexByte(v, '<')
	if i < 0 {
		return ""
	}
	j := strings.IndexByte(v[i:], '>')
	if j < 0 {
		return ""
	}
	id := strings.TrimSpace(v[i+1 : i+j])
	if id == "" {
		return ""
	}
	return "<" + id + ">"
}

// extItems are the PREVIEW, EMAILID and THREADID of one message, computed
// before its FETCH response starts.
type extItems struct {
	preview           string
	emailID, threadID string
}

func (m *msgSource) loadExt(ctx context.Context, root *message.Part, opts *imap.FetchOptions) (*extItems, error) {
	if !opts.Preview && !opts.EmailID && !opts.ThreadID {
		return nil, nil
	}
	x := &extItems{}
	if opts.Preview {
		var err error
		if x.preview, err = m.preview(ctx, root); err != nil {
			return nil, err
		}
	}
	if opts.EmailID || opts.ThreadID {
		x.emailID, x.threadID = objectIDs(root, m.info)
	}
	return x, nil
}

// preview returns the PREVIEW of the message: from the cached structure
// when a FETCH computed it before, else computed from the body once and
// stored with the structure (RFC 8970 §3 lets a server cache it: it
// cannot change). It is not computed at parse time, because decoding a
// body part is a cost most messages never need.
func (m *msgSource) preview(ctx context.Context, root *message.Part) (string, error) {
	if root.HasPreview {
		return root.Preview, nil
	}
	r, err := m.reader(ctx)
	if err != nil {
		return "", err
	}
	text, err := preview(r, root)
	if err != nil {
		return "", err
	}
	root.Preview, root.HasPreview = text, true
	if data, err := root.MarshalBinary(); err == nil {
		m.sel.queueCache(m.uid, data)
		if m.info != nil {
			m.info.Cache = data
		}
	}
	return text, nil
}

// objectIDs returns the EMAILID and THREADID of the message (RFC 8474 §5)
// from its structure alone, cached or parsed: no file is read. A message
// whose index entry is gone has internal date zero.
func objectIDs(root *message.Part, info *mailstore.MessageInfo) (emailid, threadid string) {
	var date int64
	if info != nil {
		date = info.InternalDate.Unix()
	}
	e := emailID(root, date)
	var refs, irt, mid string
	if env := root.Envelope; env != nil {
		refs, irt, mid = env.References, env.InReplyTo, env.MessageID
	}
	return e, threadID(refs, irt, mid, e)
}

// saveDate is the SAVEDATE of a message (RFC 8514 §4.2) in the server's
// time zone; zero (NIL) when the store has none.
func saveDate(info *mailstore.MessageInfo, loc *time.Location) time.Time {
	if info == nil || info.SaveDate.IsZero() {
		return time.Time{}
	}
	return info.SaveDate.In(loc)
}

func (x *extItems) write(mw imapserver.FetchMessageWriter, opts *imap.FetchOptions) {
	if x == nil {
		return
	}
	if opts.Preview {
		mw.WritePreview(x.preview, false)
	}
	if opts.EmailID {
		mw.WriteEmailID(x.emailID)
	}
	if opts.ThreadID {
		mw.WriteThreadID(x.threadID)
	}
}
