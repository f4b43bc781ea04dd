package transcode

import "time"

// How the output clock follows the input's timestamps.
const (
	// maxDrift is how far an input timestamp may stray from the output
	// clock before the clock is re-anchored on it: a jump in the input (a
	// publisher's restart, a long loss) rather than jitter.
	maxDrift = 100 * time.Millisecond
	// minGap is the smallest lead of the input over the clock that is filled
	// with silence: a lost packet (WebRTC sends 10-20 ms ones), not the
	// millisecond rounding of RTMP timestamps. Filling keeps audio in step
	// with video; smaller leads and any lag accumulate until maxDrift.
	minGap = 10 * time.Millisecond
	// maxAnchors bounds the anchors kept for samples still inside the
	// encoder; a Write drains the encoder, so a handful are ever live.
	maxAnchors = 16
)

// timeline is the output clock. Sample positions count the samples handed to
// the encoder (silence included); the encoder reports each packet's position,
// shifted back by its priming delay, and the timeline turns it into a
// presentation time through the anchor that covers it.
type timeline struct {
	rate      int   // output samples per second
	frameSize int   // samples per encoded frame
	queued    int64 // samples handed to the encoder so far
	anchors   []anchor
}

// anchor ties a sample position to the input timestamp it came from.
type anchor struct {
	pos int64
	pts time.Duration
}

func newTimeline(rate, frameSize int) *timeline {
	return &timeline{rate: rate, frameSize: frameSize, anchors: make([]anchor, 0, maxAnchors)}
}

// place is called before decoded samples stamped pts are queued. It returns
// how many samples of silence to queue first: a gap to fill, or, when it
// re-anchors the clock, the padding that completes the last frame of the old
// stretch so no sample of it is encoded under the new anchor.
func (t *timeline) place(pts time.Duration) (silence int64, reanchored bool) {
	if len(t.anchors) == 0 {
		t.addAnchor(pts)
		return 0, false
	}
	d := pts - t.clock()
	switch {
	case d > maxDrift || d < -maxDrift:
		silence = int64(t.frameSize) - t.queued%int64(t.frameSize)
		if silence == int64(t.frameSize) {
			silence = 0
		}
		t.queued += silence
		t.addAnchor(pts)
		return silence, true
	case d >= minGap:
		silence = durationToSamples(d, t.rate)
		t.queued += silence
		return silence, false
	}
	return 0, false
}

// queue records n samples handed to the encoder.
func (t *timeline) queue(n int) { t.queued += int64(n) }

// clock is the presentation time of the next sample to queue.
func (t *timeline) clock() time.Duration {
	a := t.anchors[len(t.anchors)-1]
	return a.pts + samplesToDuration(t.queued-a.pos, t.rate)
}

func (t *timeline) addAnchor(pts time.Duration) {
	if len(t.anchors) == maxAnchors {
		n := copy(t.anchors, t.anchors[1:])
		t.anchors = t.anchors[:n]
	}
	t.anchors = append(t.anchors, anchor{pos: t.queued, pts: pts})
}

// at returns the presentation time of sample position pos, and false for
// positions before the first anchor: the encoder's priming, which carries
// no input and would be stamped before the first input frame. Positions must
// be asked in increasing order: older anchors are forgotten.
func (t *timeline) at(pos int64) (time.Duration, bool) {
	i := len(t.anchors) - 1
	for i >= 0 && t.anchors[i].pos > pos {
		i--
	}
	if i < 0 {
		return 0, false
	}
	if i > 0 {
		n := copy(t.anchors, t.anchors[i:])
		t.anchors = t.anchors[:n]
	}
	a := t.anchors[0]
	return a.pts + samplesToDuration(pos-a.pos, t.rate), true
}

// samplesToDuration converts without overflow for any stream length (n *
// time.Second alone overflows after 53 hours at 48 kHz).
func samplesToDuration(n int64, rate int) time.Duration {
	r := int64(rate)
	return time.Duration(n/r)*time.Second + time.Duration(n%r*int64(time.Second)/r)
}

func durationToSamples(d time.Duration, rate int) int64 {
	r := int64(rate)
	return int64(d/time.Second)*r + int64(d%time.Second)*r/int64(time.Second)
}
