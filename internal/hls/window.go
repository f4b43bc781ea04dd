package hls

import "time"

// record is a closed segment: its playlist entry, its file and its key.
type record struct {
	Entry
	file string      // the segment's path as configured
	key  *segmentKey // nil when not encrypted
}

// retired is a segment that left the playlist; its file stays until
// deleteAt on the window's media clock (see window.shrink).
type retired struct {
	record
	deleteAt time.Duration
}

// window is the playlist's sliding list of segments and the segments
// waiting to be deleted.
type window struct {
	entries []record
	retired []retired
	// removedDiscontinuities counts discontinuities that left the
	// playlist: its EXT-X-DISCONTINUITY-SEQUENCE.
	removedDiscontinuities int64
	// elapsed is the media clock: the duration of every segment added.
	elapsed time.Duration
}

func (w *window) add(r record) {
	w.entries = append(w.entries, r)
	w.elapsed += r.Duration
}

// span is the playlist's duration.
func (w *window) span() time.Duration {
	var d time.Duration
	for _, r := range w.entries {
		d += r.Duration
	}
	return d
}

// shrink drops the oldest segments as SRS does: counting back from the
// newest, the segment that takes the total past limit is the oldest kept.
// A dropped segment's file is kept while a player may still fetch it (RFC
// 8216 §6.2.2: the segment's duration plus the playlist's after it left);
// with keep false (hls_cleanup off) it is forgotten and never deleted.
func (w *window) shrink(limit time.Duration, keep bool) {
	var total time.Duration
	first := 0
	for i := len(w.entries) - 1; i >= 0; i-- {
		total += w.entries[i].Duration
		if total > limit {
			first = i
			break
		}
	}
	if first == 0 {
		return
	}
	span := w.span()
	for _, r := range w.entries[:first] {
		if r.Discontinuity {
			w.removedDiscontinuities++
		}
		if keep {
			w.retired = append(w.retired, retired{record: r, deleteAt: w.elapsed + r.Duration + span})
		}
	}
	w.entries = append(w.entries[:0], w.entries[first:]...)
}

// due removes and returns the retired segments whose time has come; all
// of them when all is set.
func (w *window) due(all bool) []record {
	var out []record
	kept := w.retired[:0]
	for _, r := range w.retired {
		if all || r.deleteAt <= w.elapsed {
			out = append(out, r.record)
		} else {
			kept = append(kept, r)
		}
	}
	clear(w.retired[len(kept):])
	w.retired = kept
	return out
}

// usesKey reports whether a listed or retired segment is encrypted with k.
func (w *window) usesKey(k *segmentKey) bool {
	for _, r := range w.entries {
		if r.key == k {
			return true
		}
	}
	for _, r := range w.retired {
		if r.key == k {
			return true
		}
	}
	return false
}

// playlist renders the window; floor is fragment×td_ratio, the least
// target duration.
func (w *window) playlist(floor time.Duration) *MediaPlaylist {
	p := &MediaPlaylist{Version: playlistVersion, DiscontinuitySequence: w.removedDiscontinuities}
	p.Segments = make([]Entry, len(w.entries))
	for i, r := range w.entries {
		p.Segments[i] = r.Entry
	}
	if len(p.Segments) > 0 {
		p.MediaSequence = p.Segments[0].Seq
	}
	p.TargetDuration = targetDuration(p.Segments, floor)
	return p
}
