package gb28181

import (
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/format/mpegps"
	"github.com/castd/castd/internal/format/mpegts"
	"github.com/castd/castd/internal/protocol/rtmp"
	"github.com/castd/castd/internal/remux"
)

// redialDelay is how long a session drops its media after a publish to
// the output failed, before it tries again (SRS's forwarder waits 3 s).
const redialDelay = 3 * time.Second

// pipeline turns a session's frames into RTMP and publishes them. The
// conversion is the one SRT and MPEG-TS ingest use (remux.TSToFLV): the
// program stream's frames are the PES payloads a transport stream would
// carry. It lives as long as the session, across media reconnections, so
// the output keeps one timeline and one publish. Guarded by pipeMu.
type pipeline struct {
	se      *session
	conv    *remux.TSToFLV
	pub     *publisher
	headers [2]*av.Packet // the latest video and audio sequence headers
	retryAt time.Time
	// base is added to the converter's timestamps, and last is the latest
	// timestamp sent: a new media connection starts a new converter whose
	// timeline goes on from there (devices restart their clocks).
	base, last uint32
	earlier    remux.TSToFLVStats         // what the converters before this one did
	dropped    map[mpegps.StreamType]bool // codecs already reported dropped
	pkts       []*av.Packet
	msgs       []rtmp.MediaMessage
}

func newPipeline(se *session) *pipeline {
	return &pipeline{se: se, conv: remux.NewTSToFLV(remux.TSToFLVOptions{Logger: se.log}),
		dropped: map[mpegps.StreamType]bool{}}
}

// push converts frames and writes them to the output, connecting first
// when needed.
func (p *pipeline) push(frames []mpegps.Frame) {
	pkts := p.pkts[:0]
	for i := range frames {
		f := &frames[i]
		if !carried(f.StreamType) {
			if !p.dropped[f.StreamType] {
				p.dropped[f.StreamType] = true
				p.se.log.Warn("gb28181: dropping a stream RTMP cannot carry as is; castd publishes H.264, H.265, AAC and MP3",
					"codec", f.StreamType.String(), "stream_id", f.StreamID)
			}
			continue
		}
		pkts = p.conv.AppendPackets(pkts, &mpegts.Frame{PID: uint16(f.StreamID), StreamType: mpegts.StreamType(f.StreamType),
			PTS: f.PTS, DTS: f.DTS, HasDTS: f.HasDTS, Data: f.Data})
	}
	p.pkts = pkts
	defer clear(p.pkts)
	if len(pkts) == 0 {
		return
	}
	var fresh bool
	if p.pub == nil {
		if time.Now().Before(p.retryAt) {
			p.noteHeaders(pkts)
			return
		}
		if !p.connect() {
			p.noteHeaders(pkts)
			return
		}
		fresh = true
	}
	msgs := p.msgs[:0]
	if fresh {
		// A new publish starts with the stream's sequence headers, which
		// came once, maybe to an earlier publish.
		for _, h := range p.headers {
			if h != nil {
				msgs = append(msgs, p.message(h))
			}
		}
	}
	p.noteHeaders(pkts)
	for _, pkt := range pkts {
		msgs = append(msgs, p.message(pkt))
	}
	p.msgs = msgs
	defer clear(p.msgs)
	if err := p.pub.write(msgs); err != nil {
		if p.se.ctx.Err() == nil {
			p.se.log.Warn("gb28181: publish failed; publishing again", "url", p.se.url, "err", err)
		}
		p.pub.close()
		p.pub = nil
		p.retryAt = time.Now().Add(time.Second)
	}
}

func (p *pipeline) message(pkt *av.Packet) rtmp.MediaMessage {
	ts := (p.base + pkt.Timestamp) & av.TimestampMask
	p.last = max(p.last, ts)
	return rtmp.MediaMessage{Type: uint8(pkt.Kind), Timestamp: ts, Payload: pkt.Payload}
}

// restart starts a new timeline for a new media connection, just after
// the last timestamp sent.
func (p *pipeline) restart() {
	st := p.conv.Stats()
	if st.VideoFrames+st.AudioFrames+st.SequenceHeaders == 0 {
		return
	}
	p.base = p.last + 1
	p.earlier.VideoFrames += st.VideoFrames
	p.earlier.AudioFrames += st.AudioFrames
	p.earlier.Dropped += st.Dropped
	p.conv = remux.NewTSToFLV(remux.TSToFLVOptions{Logger: p.se.log})
}

// noteHeaders keeps the latest sequence headers for the next publish.
func (p *pipeline) noteHeaders(pkts []*av.Packet) {
	for _, pkt := range pkts {
		if !pkt.SequenceHeader {
			continue
		}
		if pkt.IsVideo() {
			p.headers[0] = pkt
		} else {
			p.headers[1] = pkt
		}
	}
}

func (p *pipeline) connect() bool {
	pub, err := dialPublisher(p.se.ctx, p.se.url, p.se.cid, p.se.srv.cfg)
	if err != nil {
		if p.se.ctx.Err() == nil {
			p.se.log.Warn("gb28181: cannot publish to the output; dropping media", "url", p.se.url, "retry_in", redialDelay, "err", err)
		}
		p.retryAt = time.Now().Add(redialDelay)
		return false
	}
	p.se.log.Info("gb28181: publishing", "url", p.se.url)
	p.pub = pub
	return true
}

// close ends the publish and returns what was converted.
func (p *pipeline) close() remux.TSToFLVStats {
	if p.pub != nil {
		p.pub.close()
		p.pub = nil
	}
	st := p.conv.Stats()
	st.VideoFrames += p.earlier.VideoFrames
	st.AudioFrames += p.earlier.AudioFrames
	st.Dropped += p.earlier.Dropped
	return st
}

// carried reports whether RTMP carries a codec as castd ingests it.
func carried(t mpegps.StreamType) bool {
	switch t {
	case mpegps.StreamTypeH264, mpegps.StreamTypeH265, mpegps.StreamTypeAAC, mpegps.StreamTypeMPEG1Audio, mpegps.StreamTypeMPEG2Audio:
		return true
	}
	return false
}
