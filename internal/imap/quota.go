package imap

// Quota resources (RFC 9208 §5).
const (
	QuotaStorage = "STORAGE" // §5.1: units of 1024 octets
	QuotaMessage = "MESSAGE" // §5.2: messages
)

// QuotaResource is one triplet of a QUOTA response (RFC 9208 §4.2.1).
type QuotaResource struct {
	Name  string // QuotaStorage, QuotaMessage
	Usage int64
	Limit int64
}

// QuotaData is a QUOTA response: a quota root and its limited resources;
// none means the root has no limits (RFC 9208 §4.2.1).
type QuotaData struct {
	Root      string
	Resources []QuotaResource
}
