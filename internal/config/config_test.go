package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	in := `# comment
listen = imap 127.0.0.1:1143
listen = imaps [::1]:1993
tls_cert = /c.pem
insecure_auth = yes
idle_timeout = 45m
max_append_size = 1048576
`
	c, err := Parse(strings.NewReader(in), "test.conf")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	want := []Listener{{ServiceIMAP, "127.0.0.1:1143"}, {ServiceIMAPS, "[::1]:1993"}}
	if len(c.Listeners) != 2 || c.Listeners[0] != want[0] || c.Listeners[1] != want[1] {
		t.Errorf("Listeners = %v, want %v", c.Listeners, want)
	}
	if !c.InsecureAuth || c.IdleTimeout != 45*time.Minute || c.MaxAppendSize != 1<<20 || c.TLSCert != "/c.pem" {
		t.Errorf("parsed %+v", c)
	}
	if c.MaxLineLength != 64<<10 {
		t.Errorf("MaxLineLength = %d, want default 65536", c.MaxLineLength)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"bogus = 1", `test.conf:1: unknown key "bogus"`},
		{"listen", `want "key = value"`},
		{"listen = smtp [::]:25", `unknown service "smtp"`},
		{"listen = imap", `want "SERVICE ADDRESS"`},
		{"insecure_auth = maybe", `want yes or no`},
		{"max_depth = -1", `non-negative integer`},
		{"login_timeout = soon", `want a duration`},
	}
	for _, tt := range tests {
		_, err := Parse(strings.NewReader(tt.in), "test.conf")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) error = %v, want containing %q", tt.in, err, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Config)
		want   string
	}{
		{"sni without default", func(c *Config) { c.SNICerts = []CertPair{{Cert: "a.pem"}} }, "tls_sni_cert without tls_cert"},
		{"system mail root", func(c *Config) { c.SystemMailRoot = "/var/mail" }, "system_mail_root"},
		{"short idle", func(c *Config) { c.TLSCert = "x"; c.IdleTimeout = time.Minute }, "at least 30m"},
		{"no listeners", func(c *Config) { c.TLSCert = "x"; c.Listeners = nil }, "no listen address"},
		{"mail root", func(c *Config) { c.TLSCert = "x"; c.MailRoot = "/var/mail" }, "must contain %u"},
		{"log level", func(c *Config) { c.TLSCert = "x"; c.LogLevel = "loud" }, "log_level"},
	}
	for _, tt := range tests {
		c := Default()
		tt.modify(c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Validate() = %v, want containing %q", tt.name, err, tt.want)
		}
	}
	c := Default()
	c.TLSCert = "x"
	if err := c.Validate(); err != nil {
		t.Errorf("Validate(defaults+cert) = %v, want nil", err)
	}
}

func TestFormatRoundTrip(t *testing.T) {
	c := Default()
	c.Listeners = []Listener{{ServiceIMAP, "127.0.0.1:1143"}, {ServiceIMAPS, "[::1]:1993"}}
	c.TLSCert, c.TLSKey = "/c.pem", "/k.pem"
	c.InsecureAuth = true
	c.IdleTimeout = 31 * time.Minute
	got, err := Parse(strings.NewReader(c.Format()), "formatted")
	if err != nil {
		t.Fatalf("Parse(Format()) = %v\n%s", err, c.Format())
	}
	if got.Format() != c.Format() {
		t.Errorf("Format round trip:\n%s\nwant\n%s", got.Format(), c.Format())
	}
}

func FuzzParse(f *testing.F) {
	f.Add("listen = imap [::]:143\ntls_cert = /c\n")
	f.Add("# x\nidle_timeout = 45m\n")
	f.Add("max_depth = 99999999999999999999\n")
	f.Add("default_mailboxes = Sent Items \\Sent, Lists/Go,, Spam \\junk\nquota_storage = 1024\n")
	f.Fuzz(func(t *testing.T, in string) {
		c, err := Parse(strings.NewReader(in), "fuzz")
		if err != nil {
			return
		}
		// Whatever parses must format and parse back to the same thing.
		again, err := Parse(strings.NewReader(c.Format()), "formatted")
		if err != nil {
			t.Fatalf("Parse(Format()) = %v for input %q", err, in)
		}
		if again.Format() != c.Format() {
			t.Errorf("round trip changed the configuration for input %q", in)
		}
	})
}

func TestParsePrefix(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{"192.0.2.0/24", "192.0.2.0/24", ""},
		{"192.0.2.7/24", "192.0.2.0/24", ""},
		{"192.0.2.7", "192.0.2.7/32", ""},
		{"2001:db8::/32", "2001:db8::/32", ""},
		{"::1", "::1/128", ""},
		{"::ffff:192.0.2.0/120", "192.0.2.0/24", ""},
		{"::ffff:192.0.2.9", "192.0.2.9/32", ""},
		{"::ffff:0.0.0.0/90", "", "at least /96"},
		{"example.org", "", "want an address"},
		{"10.0.0.0/33", "", "want an address"},
	}
	for _, tt := range tests {
		p, err := ParsePrefix(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParsePrefix(%q) = %v, %v; want error containing %q", tt.in, p, err, tt.err)
			}
			continue
		}
		if err != nil || p.String() != tt.want {
			t.Errorf("ParsePrefix(%q) = %v, %v; want %s", tt.in, p, err, tt.want)
		}
	}
}

// TestFormatEveryKey: Format writes every field, so a configuration
// passed to a child process (DESIGN.md §2) is the one the daemon has.
func TestFormatEveryKey(t *testing.T) {
	in := `listen = imap 127.0.0.1:10143
listen = imaps [::1]:10993
tls_cert = /etc/c.pem
tls_key = /etc/k.pem
tls_sni_cert = /etc/a.pem /etc/ak.pem
tls_sni_cert = /etc/b.pem
auth = pam
require_valid_shell = yes
pam_service = mail
mail_store = maildir
mbox_inbox = /var/spool/mail/%u
mbox_dir = %h/mail
mbox_home_inbox = no
default_mailboxes = Sent Items \Sent, Lists/Go, Papierkorb \trash
mbox_default_mailboxes = yes
mail_watch = poll
quota_storage = 1073741824
quota_messages = 10000
passwd_file = /srv/passwd
auth_cache_ttl = 5m0s
auth_cache_size = 50
mail_root = /srv/%u
system_mail_root = /home/%u/Md
log_file = /var/log/postern.log
alert_file = /etc/alert
user_alert_file = .alert
nologin_file = /etc/nl
allow_from = 192.0.2.0/24 ::1
insecure_auth = yes
server_id = no
log_level = debug
max_line_length = 9000
max_literal_size = 9001
max_append_size = 9002
max_depth = 9
login_timeout = 1m0s
idle_timeout = 31m0s
idle_command_limit = 29m0s
literal_timeout = 2m0s
max_connections = 77
max_connections_per_ip = 7
max_login_failures = 3
login_delay = 1s
login_delay_max = 9s
login_failure_rate = 2.5
login_failure_burst = 20
memory_limit = 512M
search_cache_memory = 8M
max_literal_total = 99999
max_fetch_items = 10
max_search_keys = 11
max_flags = 12
write_timeout = 20s
`
	c, err := Parse(strings.NewReader(in), "in")
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(strings.NewReader(c.Format()), "formatted")
	if err != nil {
		t.Fatalf("Parse(Format()) = %v\n%s", err, c.Format())
	}
	if !reflect.DeepEqual(c, again) {
		t.Errorf("Parse(Format(c)) differs from c:\n got %+v\nwant %+v", again, c)
	}
	// Every key is set to a non-default value above, so each is exercised.
	for _, k := range Keys {
		if !strings.Contains(in, "\n"+k.Name+" = ") && !strings.HasPrefix(in, k.Name+" = ") {
			t.Errorf("key %q is not in the round-trip input", k.Name)
		}
	}
}

func TestParseDefaultMailboxes(t *testing.T) {
	tests := []struct {
		in   string
		want string // formatted; "error" for an error
	}{
		{defaultMailboxesText, defaultMailboxesText},
		{"", ""},
		{" , ", ""},
		{`Sent Items \sent,Lists/Go , Spam \JUNK`, `Sent Items \Sent, Lists/Go, Spam \Junk`},
		{`Everything \All`, "error"},
		{`\Sent`, "error"},
		{`INBOX`, "error"},
		{`a/`, "error"},
		{`Sent \Sent, Sent`, "error"},
	}
	for _, tt := range tests {
		ds, err := ParseDefaultMailboxes(tt.in)
		got := formatDefaultMailboxes(ds)
		if err != nil {
			got = "error"
		}
		if got != tt.want {
			t.Errorf("ParseDefaultMailboxes(%q) = %q (%v), want %q", tt.in, got, err, tt.want)
		}
	}
	c, err := Parse(strings.NewReader("default_mailboxes =\n"), "empty")
	if err != nil || c.DefaultMailboxes != nil {
		t.Errorf("default_mailboxes = (empty) gives %v, %v; want none", c, err)
	}
}

func TestSizeAndRateValues(t *testing.T) {
	sizes := []struct {
		in   string
		want int64 // -1: an error
	}{
		{"0", 0}, {"1048576", 1 << 20}, {"64M", 64 << 20}, {"64m", 64 << 20}, {"2G", 2 << 30}, {"512K", 512 << 10},
		{"", -1}, {"M", -1}, {"-1M", -1}, {"1.5G", -1}, {"1T", -1}, {"9999999999G", -1},
	}
	for _, tt := range sizes {
		var got int64
		err := setSize(&got, tt.in)
		if (err != nil) != (tt.want < 0) || err == nil && got != tt.want {
			t.Errorf("setSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	rates := []struct {
		in   string
		want float64 // -1: an error
	}{
		{"0", 0}, {"10", 10}, {"0.5", 0.5}, {"-1", -1}, {"Inf", -1}, {"NaN", -1}, {"x", -1},
	}
	for _, tt := range rates {
		var got float64
		err := setRate(&got, tt.in)
		if (err != nil) != (tt.want < 0) || err == nil && got != tt.want {
			t.Errorf("setRate(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"memory_limit = 1G\nlogin_failure_rate = 0\nlogin_failure_burst = 0\n"} {
		if c, err := Parse(strings.NewReader(in), "in"); err != nil || c.Validate() != nil {
			t.Errorf("Parse and Validate(%q) = %v, want no error", in, err)
		}
	}
	for _, in := range []string{"memory_limit = 1M\n", "login_failure_rate = 5\nlogin_failure_burst = 0\n"} {
		c, err := Parse(strings.NewReader(in), "in")
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err == nil {
			t.Errorf("Validate(%q) = nil, want an error", in)
		}
	}
}

// TestDocumentedDefaults: setting a key to the default the README and
// Keys document changes nothing from Default(): the table and the code
// cannot disagree (search_cache_memory once documented 32M and defaulted
// to none).
func TestDocumentedDefaults(t *testing.T) {
	want := Default()
	for _, k := range Keys {
		if k.Default == "" || strings.HasPrefix(k.Default, "(") || k.Name == "listen" {
			continue // no single value to write: empty, a description, or listen's list of lines
		}
		c := Default()
		if err := k.set(c, k.Default); err != nil {
			t.Errorf("%s = %s (the documented default): %v", k.Name, k.Default, err)
			continue
		}
		if !reflect.DeepEqual(c, want) {
			t.Errorf("%s = %s (the documented default) differs from Default():\n got %+v\nwant %+v", k.Name, k.Default, c, want)
		}
	}
}
