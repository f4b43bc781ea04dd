package dvr

import (
	"fmt"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/hub"
)

// Plan is dvr_plan: when a recording is cut into files.
type Plan uint8

const (
	// PlanSession writes one file per publish, closed at unpublish.
	PlanSession Plan = iota
	// PlanSegment starts a new file every dvr_duration.
	PlanSegment
)

// ParsePlan reads dvr_plan.
func ParsePlan(s string) (Plan, error) {
	switch s {
	case "session", "":
		return PlanSession, nil
	case "segment":
		return PlanSegment, nil
	}
	return 0, fmt.Errorf("dvr: dvr_plan %q: want session or segment", s)
}

func (p Plan) String() string {
	if p == PlanSegment {
		return "segment"
	}
	return "session"
}

// Settings are a vhost's dvr{} block as one recording uses it.
type Settings struct {
	Plan         Plan
	Path         string        // dvr_path, a template (see FilePath)
	Duration     time.Duration // dvr_duration, segment plan only
	WaitKeyframe bool          // dvr_wait_keyframe
	// Jitter is dvr.time_jitter. The viewer applies it; the recorder only
	// needs to know whether files are rebased to start at 0 (not with off).
	Jitter hub.JitterMode
	// FragmentedMP4 records MP4 as fragments (moof+mdat every ~2 s) rather
	// than with the index at the end, so a file survives the process being
	// killed (see Recover). castd-only; no directive sets it yet.
	FragmentedMP4 bool
	// UTC expands the time variables of dvr_path in UTC (utc_time) rather
	// than local time.
	UTC bool
}

// shouldCut decides, for the segment plan, whether a media packet starts a
// new file: once the file spans dvr_duration, at the next packet, or with
// dvr_wait_keyframe at the next video keyframe (so every file starts with
// one). A file without video cuts at any packet: waiting for a keyframe
// that never comes would make it one endless file (SRS's behaviour).
func shouldCut(s *Settings, fileMs int64, hasVideo bool, p *av.Packet) bool {
	if s.Plan != PlanSegment || s.Duration <= 0 || fileMs < s.Duration.Milliseconds() {
		return false
	}
	if !s.WaitKeyframe || !hasVideo {
		return true
	}
	return isKeyframe(p)
}

// isKeyframe reports a video frame a decoder can start at.
func isKeyframe(p *av.Packet) bool {
	return p.Kind == av.KindVideo && p.Keyframe && !p.SequenceHeader
}

// isMedia reports an audio or video frame, as opposed to metadata and
// sequence headers.
func isMedia(p *av.Packet) bool {
	return (p.Kind == av.KindAudio || p.Kind == av.KindVideo) && !p.SequenceHeader
}
