package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/auth/virtual"
	"github.com/postern/postern/internal/demo"
	"github.com/postern/postern/internal/loadgen"
)

// benchUsers are the virtual users the load tests add to the demo:
// load1..load3 with password "secret".
const (
	benchUsers    = "load%d:secret"
	benchNUsers   = 3
	benchDuration = 2 * time.Second // how long each run lasts; nothing asserts it
)

// startBenchServer starts a demo server with benchNUsers more users, their
// passwords hashed at bcrypt's lowest cost so logins do not dominate.
func startBenchServer(t *testing.T) *server {
	t.Helper()
	dir := t.TempDir()
	if _, err := demo.Setup(t.Context(), dir); err != nil {
		t.Fatal(err)
	}
	hash, err := virtual.HashPasswordCost("secret", 4)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= benchNUsers; i++ {
		name := fmt.Sprintf("load%d", i)
		if err := virtual.WriteUser(filepath.Join(dir, "passwd"), name, hash, filepath.Join(dir, "users", name)); err != nil {
			t.Fatal(err)
		}
	}
	return startServerIn(t, dir)
}

// checkRun fails the test unless the run had no error and exercised
// every command of its profile.
func checkRun(t *testing.T, res *loadgen.Result, p loadgen.Profile) {
	t.Helper()
	if res.Errors() != 0 {
		for _, c := range res.Commands {
			if c.Errors > 0 {
				t.Errorf("%s: %d errors, first: %q", c.Name, c.Errors, c.ErrorSamples)
			}
		}
	}
	for _, op := range p.Ops() {
		c, ok := res.Command(p.OpName(op))
		if !ok || c.Count == 0 || c.Skipped != 0 {
			t.Errorf("%s not exercised: %+v", op, c)
		}
	}
	if t.Failed() {
		var b strings.Builder
		res.WriteTable(&b)
		t.Logf("report:\n%s", b.String())
	}
}

// TestBench runs the load generator against a real Postern daemon with
// each profile, in plain IMAP and over TLS (implicit and STARTTLS), and
// with custom command lines: no errors, and every command of the profile
// exercised.
func TestBench(t *testing.T) {
	s := startBenchServer(t)
	corpus := loadgen.GenerateCorpus(20, 1)
	populated := false
	for _, tc := range []struct {
		profile  string
		tls      loadgen.TLSMode
		commands []string
	}{
		{"mixed", loadgen.TLSNone, nil},
		{"mixed", loadgen.TLSStartTLS, nil},
		{"logins", loadgen.TLSNone, nil},
		{"logins", loadgen.TLSImplicit, nil},
		{"read-heavy", loadgen.TLSNone, nil},
		{"read-heavy", loadgen.TLSImplicit, nil},
		{"append", loadgen.TLSNone, nil},
		{"idle", loadgen.TLSNone, nil},
		{"custom", loadgen.TLSNone, []string{"UID FETCH 1:* (FLAGS)", `SEARCH BODY "report"`, "FETCH 1:5 (BODY.PEEK[])"}},
	} {
		if testing.Short() && tc.profile != "mixed" {
			continue // -short keeps to a minute: one run of 2 s is enough there
		}
		t.Run(tc.profile+"/"+strings.ReplaceAll(tc.tls.String(), " ", "-"), func(t *testing.T) {
			p, ok := loadgen.LookupProfile(tc.profile)
			if tc.commands != nil {
				p, ok = loadgen.Profile{Name: "custom", Commands: tc.commands}, true
			}
			if !ok {
				t.Fatalf("no profile %q", tc.profile)
			}
			addr := s.IMAP
			if tc.tls == loadgen.TLSImplicit {
				addr = s.IMAPS
			}
			res, err := loadgen.Run(t.Context(), loadgen.Options{
				Addr: addr, TLS: tc.tls, Insecure: true,
				Users: benchUsers, NUsers: benchNUsers, Clients: 4,
				Duration: benchDuration, Profile: p, Commands: tc.commands, MinCommands: p.CycleLen(),
				Populate: !populated, Corpus: corpus, IdleHold: 10 * time.Millisecond,
			})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			populated = true
			checkRun(t, res, p)
		})
	}
}

// TestBenchCommand runs `postern bench` itself against the demo user, as
// the README shows, and reads its table and its JSON.
func TestBenchCommand(t *testing.T) {
	s := startServer(t)
	jsonFile := filepath.Join(t.TempDir(), "bench.json")
	cmd := exec.Command(posternBin, "bench", "--addr", s.IMAPS, "--tls", "implicit", "--insecure",
		"--users", "demo:demo", "--clients", "3", "--duration", benchDuration.String(),
		"--profile", "mixed", "--populate", "--messages", "20", "--idle", "10ms", "--json", jsonFile)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("postern bench: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"profile mixed, 3 clients, 1 users", "implicit TLS", "FETCH BODY[]", "total", "logins/s:"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "error:") {
		t.Errorf("errors in the report:\n%s", out)
	}
	data, err := os.ReadFile(jsonFile)
	if err != nil {
		t.Fatal(err)
	}
	var res loadgen.Result
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatalf("JSON: %v\n%s", err, data)
	}
	if res.Profile != "mixed" || res.Clients != 3 || res.Populated != 20 || res.Total.Count == 0 || res.Errors() != 0 {
		t.Errorf("JSON result = %+v, want mixed, 3 clients, 20 populated, commands and no errors", res)
	}
}
