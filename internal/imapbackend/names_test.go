package imapbackend

import (
	"errors"
	"testing"

	"github.com/postern/postern/internal/imap"
)

// TestNewNameNFC checks that CREATE and RENAME refuse names that are not in
// Unicode NFC (RFC 9051 §5.1), so that one name cannot be two mailboxes.
func TestNewNameNFC(t *testing.T) {
	tests := []struct {
		in, want string
		code     imap.ResponseCode // "" when accepted
	}{
		{"Entw\u00fcrfe", "Entw\u00fcrfe", ""},
		{"Entwu\u0308rfe", "", imap.CodeCannot},
		{"inbox/Caf\u00e9/", "INBOX/Caf\u00e9", ""},
		{"Cafe\u0301/x", "", imap.CodeCannot},
		{"\u212b", "", imap.CodeCannot}, // ANGSTROM SIGN: NFC maps it to U+00C5
	}
	for _, tt := range tests {
		got, err := newName(tt.in)
		var st *imap.Error
		switch {
		case tt.code == "" && (err != nil || got != tt.want):
			t.Errorf("newName(%q) = %q, %v, want %q, nil", tt.in, got, err, tt.want)
		case tt.code != "" && (!errors.As(err, &st) || st.Code != tt.code):
			t.Errorf("newName(%q) = %q, %v, want NO [%s]", tt.in, got, err, tt.code)
		}
	}
}
