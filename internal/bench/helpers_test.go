package bench_test

import "github.com/castd/castd/internal/format/flv"

var benchtestHeader = flv.Header{HasVideo: true}

// benchtestTags is a tiny valid file: an AVC sequence header and frames.
func benchtestTags() []flv.Tag {
	cfg := []byte{0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 4, 0x67, 0x64, 0, 0x1f, 1, 0, 2, 0x68, 0xee}
	tags := []flv.Tag{{Type: flv.TagVideo, Data: cfg}}
	for i := range 10 {
		tags = append(tags, flv.Tag{Type: flv.TagVideo, Timestamp: uint32(i * 40), Data: []byte{0x17, 1, 0, 0, 0, 0, 0, 0, 2, 0x65, byte(i)}})
	}
	return tags
}
