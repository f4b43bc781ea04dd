package dvr

import (
	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/format/amf"
	"github.com/castd/castd/internal/format/flv"
	"github.com/castd/castd/internal/hub"
)

// A recording needs to know which tracks the stream has before it writes
// the first byte: the FLV header has audio and video flags and an MP4 file
// declares its tracks up front. The prober holds the first packets until
// every kind onMetaData announces (both, without metadata) has shown up, or
// probeSpan of media or probeMaxPackets packets went by.
const (
	probeSpan       = 3000 // ms of media
	probeMaxPackets = 1024
)

type prober struct {
	pending  []hub.Delivery
	sawAudio bool
	sawVideo bool
	expect   kinds // what onMetaData announces; both until it says otherwise
	haveSpan bool
	first    uint32
}

// kinds says which of audio and video a stream carries.
type kinds struct{ audio, video bool }

func newProber() prober { return prober{expect: kinds{audio: true, video: true}} }

// add holds d and reports whether probing is over.
func (pr *prober) add(d hub.Delivery) bool {
	pr.pending = append(pr.pending, d)
	p := d.Packet
	switch p.Kind {
	case av.KindData:
		if k, ok := announcedKinds(p); ok {
			pr.expect = k
		}
	case av.KindAudio:
		pr.sawAudio = true
	case av.KindVideo:
		pr.sawVideo = true
	}
	if isMedia(p) {
		if !pr.haveSpan {
			pr.haveSpan, pr.first = true, d.Timestamp
		} else if int64(d.Timestamp)-int64(pr.first) >= probeSpan {
			return true
		}
	}
	if len(pr.pending) >= probeMaxPackets {
		return true
	}
	return (pr.sawAudio || !pr.expect.audio) && (pr.sawVideo || !pr.expect.video) && (pr.sawAudio || pr.sawVideo)
}

// seen returns the kinds that showed up.
func (pr *prober) seen() kinds { return kinds{audio: pr.sawAudio, video: pr.sawVideo} }

// announcedKinds reads which streams onMetaData announces: hasAudio and
// hasVideo when present, else whether audiocodecid and videocodecid are.
func announcedKinds(p *av.Packet) (kinds, bool) {
	_, v, err := flv.ParseScriptData(p.Payload)
	if err != nil {
		return kinds{}, false
	}
	var props []amf.Property
	switch m := v.(type) {
	case amf.ECMAArray:
		props = m
	case amf.Object:
		props = m
	default:
		return kinds{}, false
	}
	obj := amf.Object(props)
	has := func(flag, codec string) bool {
		if b, ok := obj.Bool(flag); ok {
			return b
		}
		_, ok := obj.Get(codec)
		return ok
	}
	k := kinds{audio: has("hasAudio", "audiocodecid"), video: has("hasVideo", "videocodecid")}
	if !k.audio && !k.video {
		return kinds{}, false // metadata that says nothing useful
	}
	return k, true
}
