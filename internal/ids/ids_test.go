package ids

import (
	"regexp"
	"testing"
)

func TestFormats(t *testing.T) {
	cid := regexp.MustCompile(`^[0-9a-z]{8}$`)
	vid := regexp.MustCompile(`^vid-[0-9a-z]{7}$`)
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		c, v := NewCID(), NewVID()
		if !cid.MatchString(c) || !vid.MatchString(v) {
			t.Fatalf("bad ids %q %q", c, v)
		}
		seen[c] = true
	}
	if len(seen) < 990 {
		t.Fatalf("cids collide too often: %d unique of 1000", len(seen))
	}
}
