package integration

import "encoding/base64"

func init() { transcriptSetups["message-ext"] = deliverMessageExt }

// messageExtMessages exercise BINARY, PREVIEW and OBJECTID: a multipart
// with a quoted-printable text part stored with bare LFs, a base64 part
// holding NUL, an 8bit part and a part in an unknown encoding; an HTML-only
// message; a reply to the first, and a reply to the reply.
var messageExtMessages = []string{
	"Date: Mon, 02 Nov 2026 09:00:00 +0000\n" +
		"From: Alice <alice@example.org>\n" +
		"To: bob@example.net\n" +
		"Subject: binary parts\n" +
		"Message-ID: <root@example.org>\n" +
		"MIME-Version: 1.0\n" +
		"Content-Type: multipart/mixed; boundary=b\n" +
		"\n" +
		"--b\n" +
		"Content-Type: text/plain; charset=utf-8\n" +
		"Content-Transfer-Encoding: quoted-printable\n" +
		"\n" +
		"Gr=C3=BC=C3=9Fe,   dear=\n" +
		" Bob.\n" +
		"\n" +
		"The\tdata is attached.\n" +
		"--b\n" +
		"Content-Type: application/octet-stream; name=data.bin\n" +
		"Content-Disposition: attachment; filename=data.bin\n" +
		"Content-Transfer-Encoding: base64\n" +
		"\n" +
		base64.StdEncoding.EncodeToString([]byte("\x00\x01\x02hello world\n")) + "\n" +
		"--b\n" +
		"Content-Type: text/plain; charset=utf-8\n" +
		"Content-Transfer-Encoding: 8bit\n" +
		"\n" +
		"caf\xc3\xa9\n" +
		"--b\n" +
		"Content-Type: application/x-thing\n" +
		"Content-Transfer-Encoding: x-uuencode\n" +
		"\n" +
		"begin 644 thing\n" +
		"--b--\n",
	crlf("Date: Tue, 03 Nov 2026 10:00:00 +0000\n" +
		"From: news@example.com\n" +
		"To: alice@example.org\n" +
		"Subject: Re: binary parts\n" +
		"In-Reply-To: <root@example.org>\n" +
		"Message-ID: <reply1@example.com>\n" +
		"MIME-Version: 1.0\n" +
		"Content-Type: text/html; charset=utf-8\n" +
		"\n" +
		"<html><head><title>Ignored</title><style>p {color: red}</style></head>\n" +
		"<body><p>Hello&nbsp;<b>Alice</b>,</p>\n<!-- a comment -->\n<p>Thanks &amp; see you.</p></body></html>\n"),
	crlf("Date: Wed, 04 Nov 2026 11:00:00 +0000\n" +
		"From: bob@example.net\n" +
		"To: alice@example.org\n" +
		"Subject: Re: Re: binary parts\n" +
		"References: <root@example.org> <reply1@example.com>\n" +
		"In-Reply-To: <reply1@example.com>\n" +
		"Message-ID: <reply2@example.net>\n" +
		"\n" +
		"Short.\n"),
}

// deliverMessageExt fills INBOX with messageExtMessages and creates an
// empty Archive.
func deliverMessageExt(e *tsEnv) {
	for i, m := range messageExtMessages {
		e.deliver("INBOX", m, day(2+i, 0))
	}
	e.create("Archive")
}
