package mp4

import (
	"math"
)

// Sample is one access unit: a video frame (length-prefixed NAL units or AV1
// OBUs) or an audio frame, with times in its track's timescale.
//
// Durations are not given per sample: a sample lasts until the next
// sample's DTS. Only where there is no next sample (the last sample of a
// media segment, or of a file at Close) is Duration read; when it is 0 the
// previous sample's duration is repeated, and a lone sample gets its track's
// DefaultDuration. A DASH packager that cuts a segment when the next
// segment's first sample arrives should set the last Duration to that gap,
// so the timeline has no holes.
type Sample struct {
	// DTS and PTS are the decode and presentation times. Set PTS = DTS
	// for video without B-frames: a PTS left at 0 is a composition offset
	// of -DTS. Audio has no reordering, so audio writers ignore PTS.
	DTS, PTS int64
	Duration uint32
	// Keyframe marks a sync sample (IDR, IRAP, AV1 key frame). Audio
	// samples are always sync samples whatever this says.
	Keyframe bool
	Data     []byte
}

// Sample flags (ISO/IEC 14496-12 8.8.3.1): a sync sample depends on no
// other (sample_depends_on 2); other samples depend on others (1) and set
// sample_is_non_sync_sample.
const (
	sampleFlagsSync    = 0x02000000
	sampleFlagsNonSync = 0x01010000
)

func sampleFlags(k Kind, s *Sample) uint32 {
	if k == KindAudio || s.Keyframe {
		return sampleFlagsSync
	}
	return sampleFlagsNonSync
}

// timeline turns caller DTS values into valid sample tables: decode times
// must strictly increase and each step must fit stts' 32 bits, so a DTS
// that goes backwards (or stands still) is moved to just after the previous
// one, and a step past 2^32 ticks is clamped. The timeline catches up with
// the caller's DTS as soon as it moves forward again. Composition offsets
// are taken against the adjusted DTS, so presentation times are kept.
type timeline struct {
	started bool
	dts     int64  // adjusted DTS of the last sample
	prevDur uint32 // the last completed duration
}

// next returns the adjusted DTS for a sample and, when it is not the first,
// the duration of the sample before it.
func (t *timeline) next(dts int64) (adjusted int64, prevDuration uint32, hasPrev bool) {
	if !t.started {
		t.started, t.dts = true, dts
		return dts, 0, false
	}
	delta := dts - t.dts
	switch {
	case dts <= t.dts:
		delta = 1
	case delta < 0 || delta > math.MaxUint32: // delta < 0: the subtraction overflowed
		delta = math.MaxUint32
	}
	t.dts += delta
	t.prevDur = uint32(delta)
	return t.dts, t.prevDur, true
}

// lastDuration applies the last-sample rule.
func (t *timeline) lastDuration(explicit, def uint32) uint32 {
	switch {
	case explicit > 0:
		return explicit
	case t.prevDur > 0:
		return t.prevDur
	}
	return def
}

// compositionOffset is PTS - DTS clamped to 32 bits.
func compositionOffset(pts, dts int64) int32 {
	// The int64 difference wraps, but as a uint64 it is exact for the true
	// difference of either sign's magnitude.
	if pts >= dts {
		if uint64(pts-dts) > math.MaxInt32 {
			return math.MaxInt32
		}
		return int32(pts - dts)
	}
	if uint64(dts-pts) > -math.MinInt32 {
		return math.MinInt32
	}
	return int32(pts - dts)
}

// runTiming is the timing of one sample within a run.
type runTiming struct {
	duration uint32
	cto      int32
}

// walkRun calls fn for each sample of a run with its duration and
// composition offset, applying the timeline rules. Audio samples get no
// composition offset.
func walkRun(samples []Sample, def uint32, k Kind, fn func(i int, t runTiming)) {
	var tl timeline
	var prevCTO int32
	for i := range samples {
		adj, dur, ok := tl.next(samples[i].DTS)
		if ok {
			fn(i-1, runTiming{duration: dur, cto: prevCTO})
		}
		if k != KindAudio {
			prevCTO = compositionOffset(samples[i].PTS, adj)
		}
	}
	if n := len(samples); n > 0 {
		fn(n-1, runTiming{duration: tl.lastDuration(samples[n-1].Duration, def), cto: prevCTO})
	}
}
