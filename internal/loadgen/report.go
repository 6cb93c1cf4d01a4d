package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"
)

// Result is the outcome of a run: per command and in total. Counts and
// rates are of commands that succeeded; errors are counted apart.
type Result struct {
	Addr       string          `json:"addr"`
	TLS        string          `json:"tls"`
	Profile    string          `json:"profile"`
	Clients    int             `json:"clients"`
	Users      int             `json:"users"`
	Duration   float64         `json:"duration_s"` // asked for
	Elapsed    float64         `json:"elapsed_s"`  // measured: first command to last completion
	Populated  int             `json:"populated,omitempty"`
	Commands   []CommandResult `json:"commands"`
	Total      CommandResult   `json:"total"`
	LoginsRate float64         `json:"logins_per_s"`
}

// CommandResult is one line of the report. Latencies are in milliseconds.
type CommandResult struct {
	Name         string   `json:"name"`
	Count        uint64   `json:"count"`
	Rate         float64  `json:"rate_per_s"`
	P50          float64  `json:"p50_ms"`
	P99          float64  `json:"p99_ms"`
	Max          float64  `json:"max_ms"`
	BytesIn      uint64   `json:"bytes_in"`     // received by the commands that succeeded
	InRate       float64  `json:"in_mib_per_s"` // BytesIn per second, in MiB
	Errors       uint64   `json:"errors"`
	ErrorSamples []string `json:"error_samples,omitempty"`
	Skipped      uint64   `json:"skipped,omitempty"`
}

// Errors returns the run's error count.
func (r *Result) Errors() uint64 { return r.Total.Errors }

// Command returns the line of the command called name ("FETCH FLAGS").
func (r *Result) Command(name string) (CommandResult, bool) {
	i := slices.IndexFunc(r.Commands, func(c CommandResult) bool { return c.Name == name })
	if i < 0 {
		return CommandResult{}, false
	}
	return r.Commands[i], true
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// result builds the report from the counters.
func (s *stats) result(p Profile, elapsed time.Duration) ([]CommandResult, CommandResult) {
	secs := elapsed.Seconds()
	if secs <= 0 {
		secs = 1
	}
	line := func(name string, h *histogram, in, errs, skipped uint64) CommandResult {
		n := h.count.Load()
		return CommandResult{
			Name: name, Count: n, Rate: float64(n) / secs,
			BytesIn: in, InRate: float64(in) / secs / (1 << 20),
			P50: ms(h.quantile(0.50)), P99: ms(h.quantile(0.99)), Max: ms(time.Duration(h.max.Load())),
			Errors: errs, Skipped: skipped,
		}
	}
	inProfile := p.Ops()
	var out []CommandResult
	var all histogram
	var totalErrs, totalIn uint64
	for i := range s.ops {
		op, o := Op(i), &s.ops[i]
		errs, skipped := o.errors.Load(), o.skipped.Load()
		if o.hist.count.Load() == 0 && errs == 0 && skipped == 0 && !slices.Contains(inProfile, op) {
			continue
		}
		c := line(p.OpName(op), &o.hist, o.bytesIn.Load(), errs, skipped)
		o.mu.Lock()
		c.ErrorSamples = slices.Clone(o.samples)
		o.mu.Unlock()
		out = append(out, c)
		all.merge(&o.hist)
		totalErrs += errs
		totalIn += c.BytesIn
	}
	return out, line("total", &all, totalIn, totalErrs, 0)
}

// WriteTable writes the human-readable report: a header, one line per
// command, the totals, logins per second and the first error texts.
func (r *Result) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "profile %s, %d clients, %d users, %s, %s: %.1f s (asked %.1f s)\n",
		r.Profile, r.Clients, r.Users, r.Addr, r.TLS, r.Elapsed, r.Duration)
	if r.Populated > 0 {
		fmt.Fprintf(w, "populated %d messages per user\n", r.Populated)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "command\tcount\trate/s\tp50 ms\tp99 ms\tmax ms\tin MiB/s\terrors\t")
	for _, c := range append(slices.Clone(r.Commands), r.Total) {
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.3f\t%.3f\t%.3f\t%.2f\t%d\t", c.Name, c.Count, c.Rate, c.P50, c.P99, c.Max, c.InRate, c.Errors)
		if c.Skipped > 0 {
			fmt.Fprintf(tw, " (%d skipped: not advertised)", c.Skipped)
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "logins/s: %.1f\n", r.LoginsRate)
	for _, c := range r.Commands {
		for _, s := range c.ErrorSamples {
			fmt.Fprintf(w, "error: %s: %s\n", c.Name, s)
		}
	}
	return nil
}

// WriteJSON writes the result as indented JSON, for the comparison script.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
