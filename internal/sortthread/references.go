package sortthread

import (
	"cmp"
	"slices"
)

// container is a message or a dummy in the REFERENCES algorithm
// (RFC 5256 §3); the JWZ threading write-up calls it the same.
type container struct {
	msg      *Message // nil for a dummy
	parent   *container
	children []*container

	// Step 5 data, computed on first use for messages.
	subjDone bool
	subj     string // Collate(base subject)
	reply    bool   // the base subject extraction removed a reply/forward marker
	rootIdx  int    // index among the root's children during step 5
}

// ThreadReferences threads msgs by the REFERENCES algorithm of RFC 5256 §3,
// all six steps:
//
//  1. link messages by the msg-ids of References (or, lacking valid ids
//     there, the first valid id of In-Reply-To), creating dummies for ids
//     no message has, giving a message with a missing or duplicate
//     Message-ID (all but the lowest sequence number) a unique id, never
//     changing an existing parent in step 1.A, always re-parenting the
//     message itself in step 1.B, and never creating a loop;
//  2. collect the parentless containers under the root;
//  3. prune dummies (delete childless ones, promote children except to the
//     root, where only a single child is promoted);
//  4. sort the root's children by sent date (a dummy by its first child);
//  5. merge root threads with the same base subject (Collate-equal, the
//     empty subject excluded), with the dummy and reply/forward rules;
//  6. sort every set of siblings by sent date, deepest first.
//
// Sent dates tie-break by sequence number (§2.2). Messages are taken in
// sequence number order for step 1. The Nodes point into msgs; each
// message appears exactly once, and dummies (Msg nil) appear only at the
// top level, each with at least two children.
func ThreadReferences(msgs []Message) []*Node {
	// (1) Build the containers, in sequence number order.
	order := make([]*Message, len(msgs))
	for i := range msgs {
		order[i] = &msgs[i]
	}
	slices.SortStableFunc(order, func(a, b *Message) int { return cmp.Compare(a.Seq, b.Seq) })

	var all []*container
	byID := make(map[string]*container, len(msgs))
	lookup := func(id string) *container {
		c := byID[id]
		if c == nil {
			c = &container{}
			byID[id] = c
			all = append(all, c)
		}
		return c
	}
	for _, m := range order {
		var c *container
		if id := firstMessageID(m.MessageID); id != "" {
			if e := byID[id]; e == nil || e.msg == nil {
				c = lookup(id)
			}
		}
		if c == nil {
			// No id, or a duplicate: a unique id, which nothing can
			// reference, so the container need not be in byID.
			c = &container{}
			all = append(all, c)
		}
		c.msg = m

		refs := MessageIDs(m.References)
		if len(refs) == 0 {
			if id := firstMessageID(m.InReplyTo); id != "" {
				refs = []string{id}
			}
		}
		// (1.A) Chain the references, keeping existing parents.
		var prev *container
		for _, id := range refs {
			rc := lookup(id)
			if prev != nil && rc.parent == nil && canLink(prev, rc) {
				link(prev, rc)
			}
			prev = rc
		}
		// (1.B) The last reference is the parent, replacing any other.
		if c.parent != nil {
			unlink(c)
		}
		if prev != nil && canLink(prev, c) {
			link(prev, c)
		}
	}

	// (2) The root's children: every container without a parent.
	var roots []*container
	for _, c := range all {
		if c.parent == nil {
			roots = append(roots, c)
		}
	}
	// (3) Prune dummies.
	roots = prune(roots, true)
	// (4) Sort the top level; a dummy by its sorted children.
	for _, c := range roots {
		if c.msg == nil {
			sortSiblings(c.children)
		}
	}
	sortSiblings(roots)
	// (5) Merge threads by subject.
	roots = mergeSubjects(roots)
	// (6) Sort every sibling set, children before parents.
	sortTree(roots)

	return toNodes(roots)
}

// canLink reports whether making p the parent of c keeps the graph a
// forest: p is not c and not a descendant of c (RFC 5256 step 1.A).
func canLink(p, c *container) bool {
	if p == c {
		return false
	}
	if len(c.children) == 0 {
		// The usual case (a new message, a new dummy): c's subtree is c
		// alone, so no walk up a possibly very long References chain.
		return true
	}
	for x := p.parent; x != nil; x = x.parent {
		if x == c {
			return false
		}
	}
	return true
}

func link(p, c *container) {
	c.parent = p
	p.children = append(p.children, c)
}

func unlink(c *container) {
	p := c.parent
	if i := slices.Index(p.children, c); i >= 0 {
		p.children = slices.Delete(p.children, i, i+1)
	}
	c.parent = nil
}

// prune is step 3: it returns the siblings with childless dummies deleted
// and other dummies replaced by their children, except that at the root a
// dummy with several children stays.
func prune(siblings []*container, atRoot bool) []*container {
	out := siblings[:0:0]
	for _, c := range siblings {
		c.children = prune(c.children, false)
		if c.msg != nil {
			out = append(out, c)
			continue
		}
		switch {
		case len(c.children) == 0:
			// deleted
		case !atRoot || len(c.children) == 1:
			for _, k := range c.children {
				k.parent = c.parent
			}
			out = append(out, c.children...)
		default:
			out = append(out, c)
		}
	}
	return out
}

// first is the message a container sorts by: its own, or for a dummy its
// first child's (RFC 5256 steps 4 and 6). nil only for an empty dummy.
func (c *container) first() *Message {
	for c.msg == nil {
		if len(c.children) == 0 {
			return nil
		}
		c = c.children[0]
	}
	return c.msg
}

// sortSiblings orders siblings by sent date, then sequence number.
func sortSiblings(cs []*container) {
	slices.SortStableFunc(cs, func(a, b *container) int {
		ma, mb := a.first(), b.first()
		switch {
		case ma == nil && mb == nil:
			return 0
		case ma == nil:
			return 1
		case mb == nil:
			return -1
		}
		return compareSent(ma, mb)
	})
}

// sortTree is step 6: every sibling set sorted, deepest first so that a
// dummy sorts by its already-first child.
func sortTree(cs []*container) {
	for _, c := range cs {
		sortTree(c.children)
	}
	sortSiblings(cs)
}

// threadSubject is the step 5.B.i subject of a root child: the base
// subject of the message, or of a dummy's first child.
func (c *container) threadSubject() string {
	for c.msg == nil {
		if len(c.children) == 0 {
			return ""
		}
		c = c.children[0]
	}
	c.subjectInfo()
	return c.subj
}

func (c *container) subjectInfo() {
	if !c.subjDone {
		base, reply := baseSubject(c.msg.Subject)
		c.subj, c.reply, c.subjDone = Collate(base), reply, true
	}
}

// isReply reports whether c is a message whose subject marks it as a reply
// or forward (RFC 5256 §3 REFERENCES).
func (c *container) isReply() bool {
	if c.msg == nil {
		return false
	}
	c.subjectInfo()
	return c.reply
}

// mergeSubjects is step 5: root threads with the same non-empty thread
// subject are gathered, and the merged-away entries dropped.
func mergeSubjects(roots []*container) []*container {
	// (5.A, 5.B) The subject table.
	table := make(map[string]*container)
	for i, c := range roots {
		c.rootIdx = i
		s := c.threadSubject()
		if s == "" {
			continue
		}
		t := table[s]
		switch {
		case t == nil:
			table[s] = c
		case t.msg != nil && (c.msg == nil || (t.isReply() && !c.isReply())):
			table[s] = c
		}
	}
	// (5.C) Merge.
	for i := range roots {
		c := roots[i]
		if c == nil {
			continue
		}
		s := c.threadSubject()
		if s == "" {
			continue
		}
		t := table[s]
		if t == c {
			continue
		}
		switch {
		case t.msg == nil && c.msg == nil:
			for _, k := range c.children {
				k.parent = t
			}
			t.children = append(t.children, c.children...)
			c.children = nil
		case t.msg == nil, c.isReply() && !t.isReply():
			link(t, c)
		default:
			d := &container{rootIdx: t.rootIdx}
			roots[t.rootIdx] = d
			t.parent = nil
			link(d, t)
			link(d, c)
			table[s] = d
		}
		roots[i] = nil
	}
	return slices.DeleteFunc(roots, func(c *container) bool { return c == nil })
}

// toNodes converts the container forest to the exported tree.
func toNodes(cs []*container) []*Node {
	if len(cs) == 0 {
		return nil
	}
	out := make([]*Node, len(cs))
	for i, c := range cs {
		out[i] = &Node{Msg: c.msg, Children: toNodes(c.children)}
	}
	return out
}
