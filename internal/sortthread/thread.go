package sortthread

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Node is one member of a thread tree (RFC 5256 §4 "THREAD Response"). Msg
// points into the slice given to the threading function; it is nil for a
// dummy: a parent that is not among the messages (not found, or not
// matching the search) whose children are nevertheless one thread.
// Children are in the order the algorithm leaves them (by sent date).
type Node struct {
	Msg      *Message
	Children []*Node
}

// ThreadOrderedSubject threads msgs by the ORDEREDSUBJECT algorithm
// (RFC 5256 §3 "THREAD Command"): messages are grouped by base subject
// (compared with Collate); within a group they are ordered by sent date,
// the first is the thread's root and every other one is its child; threads
// are ordered by the sent date of their root. Equal sent dates are ordered
// by sequence number (§2.2). Messages with an empty base subject form one
// thread like any other subject. The Nodes point into msgs.
func ThreadOrderedSubject(msgs []Message) []*Node {
	type item struct {
		m    *Message
		subj string
	}
	items := make([]item, len(msgs))
	for i := range msgs {
		items[i] = item{&msgs[i], Collate(BaseSubject(msgs[i].Subject))}
	}
	slices.SortStableFunc(items, func(a, b item) int {
		if c := strings.Compare(a.subj, b.subj); c != 0 {
			return c
		}
		return compareSent(a.m, b.m)
	})
	var roots []*Node
	var root *Node
	for i, it := range items {
		if i == 0 || it.subj != items[i-1].subj {
			root = &Node{Msg: it.m}
			roots = append(roots, root)
			continue
		}
		root.Children = append(root.Children, &Node{Msg: it.m})
	}
	slices.SortStableFunc(roots, func(a, b *Node) int { return compareSent(a.Msg, b.Msg) })
	return roots
}

// compareSent orders two messages by sent date, then sequence number
// (RFC 5256 §2.2).
func compareSent(a, b *Message) int {
	if c := a.sentDate().Compare(b.sentDate()); c != 0 {
		return c
	}
	return cmp.Compare(a.Seq, b.Seq)
}

// FormatThreads writes threads as the data of an untagged THREAD response
// (RFC 5256 §4 and the thread-list ABNF of §5), without the "THREAD "
// prefix: "(2)(3 6 (4 23)(44 7 96))". num gives the number to print for a
// message: its sequence number for THREAD, its UID for UID THREAD.
//
// A parent with one child is followed by the child's number; a parent with
// several children is followed by one parenthesised sub-thread per child.
// A dummy prints no number: with several children it becomes a list of
// their sub-threads ("((3)(5))", as in §4), with one child it is replaced
// by that child, and with none it is left out.
func FormatThreads(threads []*Node, num func(*Message) uint32) string {
	var b []byte
	for _, n := range threads {
		b = appendThread(b, n, num)
	}
	return string(b)
}

// appendThread appends one thread-list for n, or nothing for a dummy
// with no message below it.
func appendThread(b []byte, n *Node, num func(*Message) uint32) []byte {
	n = resolveDummy(n)
	if n.Msg == nil && len(liveChildren(n.Children)) == 0 {
		return b
	}
	b = append(b, '(')
	b = appendMembers(b, n, true, num)
	return append(b, ')')
}

// appendMembers appends the inside of a thread-list: thread-members for a
// message, thread-nested for a dummy with two or more children.
func appendMembers(b []byte, n *Node, first bool, num func(*Message) uint32) []byte {
	for {
		n = resolveDummy(n)
		if n.Msg == nil {
			// A dummy with several children: their sub-threads. Below
			// a message this splices them in as its children, the only
			// form the thread-members ABNF allows there.
			return appendNested(b, liveChildren(n.Children), first, num)
		}
		if !first {
			b = append(b, ' ')
		}
		first = false
		b = strconv.AppendUint(b, uint64(num(n.Msg)), 10)
		kids := liveChildren(n.Children)
		switch len(kids) {
		case 0:
			return b
		case 1:
			n = kids[0]
		default:
			return appendNested(b, kids, false, num)
		}
	}
}

// resolveDummy replaces a dummy that has one child with a message below
// it by that child, repeatedly (RFC 5256 §3 REFERENCES step 3 promotes
// such children).
func resolveDummy(n *Node) *Node {
	for n.Msg == nil {
		kids := liveChildren(n.Children)
		if len(kids) != 1 {
			return n
		}
		n = kids[0]
	}
	return n
}

// appendNested appends one thread-list per child, after a space unless
// the list opens the thread.
func appendNested(b []byte, kids []*Node, first bool, num func(*Message) uint32) []byte {
	if !first {
		b = append(b, ' ')
	}
	for _, k := range kids {
		b = appendThread(b, k, num)
	}
	return b
}

// liveChildren drops dummies without children, which print nothing, so a
// message's child count decides between "a b" and "a (b)(c)" correctly.
func liveChildren(kids []*Node) []*Node {
	for _, k := range kids {
		if k.Msg == nil && !hasMessage(k) {
			out := make([]*Node, 0, len(kids))
			for _, k := range kids {
				if k.Msg != nil || hasMessage(k) {
					out = append(out, k)
				}
			}
			return out
		}
	}
	return kids
}

// hasMessage reports whether the tree under n holds a message.
func hasMessage(n *Node) bool {
	if n.Msg != nil {
		return true
	}
	for _, k := range n.Children {
		if hasMessage(k) {
			return true
		}
	}
	return false
}
