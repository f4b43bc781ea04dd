package caster

import (
	"context"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/format/mpegts"
	"github.com/castd/castd/internal/protocol/rtmp"
	"github.com/castd/castd/internal/remux"
)

const (
	// rtspQueue is how many RTP packets wait for the media goroutine: over
	// TCP the reader then waits (and so does the encoder); UDP packets
	// beyond it are dropped and counted.
	rtspQueue = 512
	// The PIDs under which frames go to remux.TSToFLV: any two will do.
	rtspVideoPID = 0x100
	rtspAudioPID = 0x101
	tsTimeMask   = 1<<33 - 1
)

// rtpInput is one RTP or RTCP packet of a track, owned by the receiver.
type rtpInput struct {
	track int
	rtcp  bool
	data  []byte
}

// rtspMedia turns the RTP of a recording session into FLV packets (by way
// of the MPEG-TS converter, which builds the sequence headers and RTMP
// timestamps) and writes them to the output. One goroutine runs it; the
// receivers (the RTSP connection's reader, or the UDP sockets' readers)
// feed it through in.
type rtspMedia struct {
	log     *slog.Logger
	tracks  []*trackState
	in      chan rtpInput
	out     mediaOutput
	conv    *remux.TSToFLV
	session sessionClock

	packets []*av.Packet
	msgs    []rtmp.MediaMessage
	vframes []videoAU
	aframes []aacFrame

	start      time.Time    // of the recording
	lastInput  atomic.Int64 // unix nanoseconds of the last packet received; 0 before the first
	queueDrops atomic.Uint64
	foreign    atomic.Uint64 // UDP datagrams from another host
}

// trackState is the receiving side of one track.
type trackState struct {
	t          *rtspTrack
	clock      trackClock
	seq        uint16
	seqStarted bool
	video      *naluDepacketizer
	dts        *dtsEstimator
	params     [][]byte // parameter sets that came in a unit of their own
	haveParams bool     // the stream carried parameter sets, or they were put before a keyframe
	aac        *aacDepacketizer

	packets, lost, malformed, otherPT uint64
	reports                           uint64
	lastErr                           string
}

func newRTSPMedia(log *slog.Logger, tracks []*rtspTrack, out mediaOutput) *rtspMedia {
	m := &rtspMedia{log: log, in: make(chan rtpInput, rtspQueue), out: out,
		conv: remux.NewTSToFLV(remux.TSToFLVOptions{Logger: log})}
	for _, t := range tracks {
		st := &trackState{t: t, clock: trackClock{rate: int64(t.media.clockRate)}}
		switch t.codec {
		case av.CodecH264, av.CodecH265:
			st.video = newNALUDepacketizer(t.codec)
		case av.CodecAAC:
			st.aac = &aacDepacketizer{format: t.aac}
		}
		m.tracks = append(m.tracks, st)
	}
	m.start = time.Now()
	return m
}

// received notes that a packet came, for the idle check.
func (m *rtspMedia) received() { m.lastInput.Store(time.Now().UnixNano()) }

// idleFor is how long no packet came, and whether any came since RECORD.
func (m *rtspMedia) idleFor() (time.Duration, bool) {
	last := m.lastInput.Load()
	if last == 0 {
		return time.Since(m.start), false
	}
	return time.Since(time.Unix(0, last)), true
}

// run handles packets until in is closed (and drained), ctx ends or the
// output fails.
func (m *rtspMedia) run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case p, ok := <-m.in:
			if !ok {
				return nil
			}
			if err := m.handle(p); err != nil {
				return err
			}
		}
	}
}

// handle depacketizes one packet and writes the packets it completes.
func (m *rtspMedia) handle(in rtpInput) error {
	st := m.tracks[in.track]
	if st.video == nil && st.aac == nil {
		return nil // a track of a codec the caster drops
	}
	if in.rtcp {
		m.rtcp(st, in.data)
		return nil
	}
	var p rtp.Packet
	if err := p.Unmarshal(in.data); err != nil {
		st.malformed++
		st.lastErr = err.Error()
		return nil
	}
	if int(p.PayloadType) != st.t.media.payloadType {
		st.otherPT++
		return nil
	}
	lost, ok := st.sequence(p.SequenceNumber)
	if !ok {
		return nil // late or duplicate
	}
	st.packets++
	m.packets = m.packets[:0]
	var err error
	if st.video != nil {
		m.vframes, err = st.video.push(m.vframes[:0], p.Payload, p.Timestamp, p.Marker, lost)
		for i := range m.vframes {
			m.video(st, &m.vframes[i])
		}
		clear(m.vframes)
	} else {
		m.aframes, err = st.aac.push(m.aframes[:0], p.Payload, p.Timestamp, p.Marker, lost, st.t.aacConfig.FrameLength)
		for _, f := range m.aframes {
			m.audio(st, f)
		}
		clear(m.aframes)
	}
	if err != nil {
		st.malformed++
		st.lastErr = err.Error()
	}
	return m.write()
}

// sequence checks p's sequence number: lost reports a gap before it, and
// !ok a packet that came late (UDP reorders; nothing waits for it).
func (st *trackState) sequence(seq uint16) (lost, ok bool) {
	if !st.seqStarted {
		st.seq, st.seqStarted = seq+1, true
		return false, true
	}
	d := int16(seq - st.seq)
	if d < 0 {
		return false, false
	}
	if d > 0 {
		st.lost += uint64(d)
		lost = true
	}
	st.seq = seq + 1
	return lost, true
}

// rtcp takes the sender reports of a compound RTCP packet.
func (m *rtspMedia) rtcp(st *trackState, b []byte) {
	pkts, err := rtcp.Unmarshal(b)
	if err != nil {
		return // receiver reports with extensions and the like: nothing needed
	}
	for _, p := range pkts {
		if sr, ok := p.(*rtcp.SenderReport); ok {
			st.reports++
			st.clock.report(senderReport{ntp: sr.NTPTime, rtp: sr.RTPTime})
		}
	}
}

// video hands one access unit to the converter as an Annex-B frame.
// Parameter sets that came alone go with the next unit; the SDP's go
// before the first keyframe when the stream carried none.
func (m *rtspMedia) video(st *trackState, au *videoAU) {
	nalus := au.nalus
	if hasParameterSets(st.t.codec, nalus) {
		st.haveParams = true
	}
	if !slices.ContainsFunc(nalus, func(n []byte) bool { return !av.IsParameterSetNALU(st.t.codec, n) }) {
		st.params = nalus // the latest replace any before
		return
	}
	if st.params != nil {
		nalus = append(st.params, nalus...)
		st.params = nil
	}
	if au.keyframe && !st.haveParams {
		nalus = append(slices.Clone(st.t.paramSets), nalus...)
		st.haveParams = true
	}
	pts := st.clock.at(au.timestamp, &m.session)
	if st.dts == nil {
		st.dts = newDTSEstimator(reorderDepthGuess(st.t.codec, nalus, st.t.paramSets))
	}
	dts := st.dts.next(pts)
	size := 0
	for _, n := range nalus {
		size += 4 + len(n)
	}
	data := make([]byte, 0, size)
	for _, n := range nalus {
		data = append(data, 0, 0, 0, 1)
		data = append(data, n...)
	}
	f := mpegts.Frame{PID: rtspVideoPID, StreamType: st.t.streamType(), PTS: pts & tsTimeMask, DTS: dts & tsTimeMask,
		HasDTS: true, RandomAccess: au.keyframe, Data: data}
	m.packets = m.conv.AppendPackets(m.packets, &f)
}

// audio hands one AAC frame to the converter in an ADTS header.
func (m *rtspMedia) audio(st *trackState, f aacFrame) {
	ts := st.clock.at(f.timestamp, &m.session) & tsTimeMask
	h := st.t.aacConfig.ADTSHeader(len(f.data))
	data := append(h[:], f.data...)
	fr := mpegts.Frame{PID: rtspAudioPID, StreamType: mpegts.StreamTypeAAC, PTS: ts, DTS: ts, Data: data}
	m.packets = m.conv.AppendPackets(m.packets, &fr)
}

// write sends what the last packet completed in one batch.
func (m *rtspMedia) write() error {
	if len(m.packets) == 0 {
		return nil
	}
	m.msgs = m.msgs[:0]
	for _, p := range m.packets {
		m.msgs = append(m.msgs, rtmp.MediaMessage{Type: uint8(p.Kind), Timestamp: p.Timestamp, Payload: p.Payload})
	}
	err := m.out.write(m.msgs)
	clear(m.msgs)
	clear(m.packets)
	return err
}

// hasParameterSets reports whether an access unit carries an SPS.
func hasParameterSets(codec av.Codec, nalus [][]byte) bool {
	for _, n := range nalus {
		if codec == av.CodecH265 && av.H265NALUType(n) == av.H265NALSPS ||
			codec == av.CodecH264 && av.H264NALUType(n) == av.H264NALSPS {
			return true
		}
	}
	return false
}

// reorderDepthGuess guesses how many frames the video reorders before any
// is seen (see dtsEstimator), from the first access unit's SPS or the
// SDP's: H.264 without B-frames (Baseline profile, or picture order count
// type 2, which outputs in decoding order) reorders none; anything else
// two, x264's and x265's default with B-pyramids. The estimator corrects a
// wrong guess within a few seconds.
func reorderDepthGuess(codec av.Codec, sets ...[][]byte) int {
	if codec != av.CodecH264 {
		return 2
	}
	for _, nalus := range sets {
		for _, n := range nalus {
			if av.H264NALUType(n) != av.H264NALSPS {
				continue
			}
			s, err := av.ParseH264SPS(n)
			if err != nil {
				continue
			}
			if s.ProfileIDC == 66 || s.PicOrderCntType == 2 {
				return 0
			}
			return 2
		}
	}
	return 2
}

// rtspMediaStats are the counters logged when a session ends.
type rtspMediaStats struct {
	packets, lost, malformed, otherPT, reports uint64
	queueDrops, foreign                        uint64
	conv                                       remux.TSToFLVStats
	lastErr                                    string
}

// stats sums the tracks' counters; call after run returned.
func (m *rtspMedia) stats() rtspMediaStats {
	s := rtspMediaStats{queueDrops: m.queueDrops.Load(), foreign: m.foreign.Load(), conv: m.conv.Stats()}
	for _, st := range m.tracks {
		s.packets += st.packets
		s.lost += st.lost
		s.malformed += st.malformed
		s.otherPT += st.otherPT
		s.reports += st.reports
		if st.lastErr != "" {
			s.lastErr = st.lastErr
		}
	}
	return s
}
