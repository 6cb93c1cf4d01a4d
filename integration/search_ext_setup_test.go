package integration

import (
	"fmt"
	"strings"
	"time"
)

// threadMessages are nine messages for the SORT and THREAD transcript and
// the imapclient test: a "Plan" conversation (1; 2 and 5 reply to it, 4
// to 2, and 9 replies to 4 citing only In-Reply-To), "Other" (3, and 6
// forwarding it without references), two replies (7, 8) to a message that
// is not in the mailbox. Sent dates rise with the sequence number, except
// that 8 was written before 7; internal dates rise too, except that 3
// arrived first; sizes fall.
var threadMessages = []struct{ from, subject, id, refs, inReplyTo string }{
	{"Aaron Zed <zed@example.org>", "Plan", "<a@x>", "", ""},
	{"amy@example.org", "Re: Plan", "<b@x>", "<a@x>", "<a@x>"},
	{"Bob <Bob@example.org>", "Other", "<c@x>", "", ""},
	{"amy@example.org", "Re: Plan", "<d@x>", "<a@x> <b@x>", "<b@x>"},
	{"carl@example.org", "RE: plan", "<e@x>", "<a@x>", ""},
	{"bob@example.org", "Fwd: Other", "<f@x>", "", ""},
	{"dan@example.org", "Re: Missing", "<g@x>", "<missing@x>", ""},
	{"eve@example.org", "Re: Missing", "<h@x>", "<missing@x>", ""},
	{"=?UTF-8?Q?=C3=89mile?= <emile@example.fr>", "Re: [list] Re: Plan (fwd)", "<i@x>", "", "<d@x>"},
}

// deliverThreads fills INBOX with threadMessages.
func deliverThreads(e *tsEnv) {
	for i, m := range threadMessages {
		var b strings.Builder
		fmt.Fprintf(&b, "From: %s\nTo: alice@example.org\nSubject: %s\nMessage-ID: %s\n", m.from, m.subject, m.id)
		sent := i + 1
		switch i {
		case 6:
			sent = 8
		case 7:
			sent = 7
		}
		fmt.Fprintf(&b, "Date: %d Nov 2026 10:00:00 +0000\n", sent)
		if m.refs != "" {
			fmt.Fprintf(&b, "References: %s\n", m.refs)
		}
		if m.inReplyTo != "" {
			fmt.Fprintf(&b, "In-Reply-To: %s\n", m.inReplyTo)
		}
		fmt.Fprintf(&b, "\nBody %d.%s\n", i+1, strings.Repeat(" x", 100*(9-i)))
		arrival := day(1+i, 0)
		if i == 2 {
			arrival = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
		}
		e.deliver("INBOX", crlf(b.String()), arrival)
	}
}
