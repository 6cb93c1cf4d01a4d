package virtual

import "testing"

// Vectors from Drepper's specification and glibc's crypt(3).
var shaCryptTests = []struct {
	password, hash string
}{
	{"Hello world!", "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"},
	{"Hello world!", "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v."},
	{"This is just a test", "$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0"},
	{"a very much longer text to encrypt.  This one even stretches over morethan one line.", "$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1"},
	{"we have a short salt string but not a short password", "$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0"},
	{"a short string", "$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ4oPwcelCjmw2kSYu.Ec6ycULevoBK25fs2xXgMNrCzIMVcgEJAstJeonj1"},
	{"the minimum number is still observed", "$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX."},
	{"we have a short salt string but not a short password, héllo", "$6$short$yYQCcV9rc/x0oKVfGsCTCk5HCpi/yF5HAJXXM1Usbb4nDBMEFpWrVov7Ijds7lAxlz4k6FNXMFl1Sk1bizUF.1"},
	{"", "$6$x$QSmr1Bx2g4O6BzKvdkgOcyU6H91X6I/XBv5pSalMhSPkwdH6Beo3F455xZJg0v//bxVK5F4OE5k1.0xuR26MK0"},
	{"Hello world!", "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"},
	{"This is just a test", "$5$rounds=5000$toolongsaltstrin$Un/5jzAHMgOGZ5.mWJpuVolil07guHPvOW8mGRcvxa5"},
}

func TestShaCrypt(t *testing.T) {
	for _, tt := range shaCryptTests {
		got, err := shaCrypt(tt.hash, tt.password)
		if err != nil || got != tt.hash {
			t.Errorf("shaCrypt(%q, %q) = %q, %v, want %q", tt.hash, tt.password, got, err, tt.hash)
		}
	}
	// The setting alone (no hash part) gives the same result.
	got, _ := shaCrypt("$6$rounds=10$roundstoolow", "the minimum number is still observed")
	if want := shaCryptTests[6].hash; got != want {
		t.Errorf("shaCrypt(setting only) = %q, want %q", got, want)
	}
}

func TestShaCryptMalformed(t *testing.T) {
	for _, in := range []string{"", "$1$abc$def", "$6$rounds=x$salt$", "$6$rounds=5000", "$7$salt$x"} {
		if got, err := shaCrypt(in, "pw"); err == nil {
			t.Errorf("shaCrypt(%q) = %q, nil, want an error", in, got)
		}
	}
}
