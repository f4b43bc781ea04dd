package caster

import (
	"fmt"
	"strings"

	"github.com/castd/castd/internal/protocol/rtmp"
)

// CheckOutput reports whether output is a URL the caster can publish to:
// rtmp://host[:port]/app/stream, where [app] and [stream] count as filled
// in (a fixed URL has none to fill).
func CheckOutput(caster, output string) error {
	if output == "" {
		return fmt.Errorf("caster %s: output is required (rtmp://host/app/stream)", caster)
	}
	if _, _, err := rtmp.SplitStreamURL(FLVOutputURL(output, "app", "stream")); err != nil {
		return fmt.Errorf("caster %s: output %q: %w", caster, output, err)
	}
	return nil
}

// FLVOutputURL fills the flv caster's output template with the app and
// stream of the POST path, in one pass, so a name that itself reads
// "[app]" is never expanded again.
func FLVOutputURL(tmpl, app, stream string) string {
	return strings.NewReplacer("[app]", app, "[stream]", stream).Replace(tmpl)
}
