package imap

// SortKey is one sort criterion of SORT (RFC 5256 §3 sort-key, RFC 5957
// §3 DISPLAYFROM and DISPLAYTO): Name is one of ARRIVAL, CC, DATE, FROM,
// SIZE, SUBJECT, TO, DISPLAYFROM, DISPLAYTO in upper case.
type SortKey struct {
	Name    string
	Reverse bool
}

// ThreadAlgorithm names a THREAD algorithm (RFC 5256 §3): ORDEREDSUBJECT or
// REFERENCES, in upper case.
type ThreadAlgorithm string

// Thread algorithms of RFC 5256 §3.
const (
	ThreadOrderedSubject ThreadAlgorithm = "ORDEREDSUBJECT"
	ThreadReferences     ThreadAlgorithm = "REFERENCES"
)

// Thread is one thread-list of a THREAD response (RFC 5256 §5): Nums is a
// chain of messages each the parent of the next (thread-members), and
// Children, when there are two or more, are the sub-threads below the last
// of them (thread-nested). Nums is empty for a thread whose root is
// missing but which has several children ("((3)(5))" in RFC 5256 §4).
type Thread struct {
	Nums     []uint32
	Children []Thread
}
