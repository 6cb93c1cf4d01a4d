package mailstore_test

import (
	"context"
	"slices"
	"testing"

	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/mailstore/memstore"
)

func TestCreateDefaults(t *testing.T) {
	ctx := context.Background()
	st := memstore.New(nil)
	if err := st.Create(ctx, "Sent", ""); err != nil { // made by someone else first
		t.Fatal(err)
	}
	boxes := []mailstore.DefaultMailbox{{"Drafts", mailstore.SpecialDrafts}, {"Sent", mailstore.SpecialSent}, {"Lists/Go", ""}}
	if err := mailstore.CreateDefaults(ctx, st, boxes); err != nil {
		t.Fatal(err)
	}
	infos, err := st.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, in := range infos {
		got[in.Name] = in.SpecialUse
	}
	if got["Drafts"] != mailstore.SpecialDrafts || got["Sent"] != "" {
		t.Errorf("special uses = %v, want Drafts \\Drafts and the existing Sent untouched", got)
	}
	if _, ok := got["Lists/Go"]; !ok {
		t.Errorf("Lists/Go not created: %v", got)
	}
	subs, err := st.Subscriptions(ctx)
	if want := []string{"Drafts", "Lists/Go", "Sent"}; err != nil || !slices.Equal(subs, want) {
		t.Errorf("Subscriptions = %q, %v, want %q", subs, err, want)
	}
	if err := mailstore.CreateDefaults(ctx, st, []mailstore.DefaultMailbox{{"INBOX/../x", ""}}); err == nil {
		t.Error("CreateDefaults with an invalid name succeeded")
	}
}
