package conf

import (
	"os"
	"testing"
)

func BenchmarkParseFull(b *testing.B) {
	data, _ := os.ReadFile("../../conf/full.conf")
	for b.Loop() {
		if _, err := Parse("full.conf", data, Options{AllowFull: true}); err != nil {
			b.Fatal(err)
		}
	}
}
