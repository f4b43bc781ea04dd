package mpegts

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func newTestMuxer(t testing.TB, w io.Writer, streams ...Stream) *Muxer {
	t.Helper()
	if streams == nil {
		streams = []Stream{{PID: DefaultVideoPID, Type: StreamTypeH264}, {PID: DefaultAudioPID, Type: StreamTypeAAC}}
	}
	m, err := NewMuxer(w, MuxerConfig{Streams: streams})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// pattern returns n bytes that differ at every offset modulo 251, so a
// misplaced byte shows.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i%251) + seed
	}
	return b
}

// checkPackets checks the framing of a muxed stream and returns its packets.
func checkPackets(t *testing.T, b []byte) [][]byte {
	t.Helper()
	if len(b)%PacketSize != 0 {
		t.Fatalf("%d bytes is not a whole number of packets", len(b))
	}
	var pkts [][]byte
	for p := 0; p < len(b); p += PacketSize {
		pkt := b[p : p+PacketSize]
		if pkt[0] != SyncByte {
			t.Fatalf("packet %d has sync byte %02x", p/PacketSize, pkt[0])
		}
		if afc := pkt[3] >> 4 & 3; afc&afcAdaptation != 0 && int(pkt[4]) > maxPayload-2 {
			t.Fatalf("packet %d: adaptation field of %d bytes leaves no payload", p/PacketSize, pkt[4])
		}
		pkts = append(pkts, pkt)
	}
	return pkts
}

func pidOf(pkt []byte) uint16 { return uint16(pkt[1]&0x1f)<<8 | uint16(pkt[2]) }

func TestMuxerStuffingAtEverySize(t *testing.T) {
	// Sizes around the packet boundaries, where the last packet needs no,
	// one-byte or two-byte adaptation fields.
	for size := 0; size <= 3*maxPayload+3; size++ {
		for _, pcr := range []bool{false, true} {
			m := newTestMuxer(t, nil)
			pid := DefaultAudioPID
			if pcr {
				pid = DefaultVideoPID // the PCR PID
			}
			f := Frame{PID: pid, PTS: 1000, DTS: 900, HasDTS: true, RandomAccess: size%2 == 0, Data: pattern(size, 7)}
			out, err := m.AppendFrame(nil, &f)
			if err != nil {
				t.Fatal(err)
			}
			pkts := checkPackets(t, out)
			hl := pesFixedHeaderSize + 10
			afFirst := 0
			if pcr || f.RandomAccess {
				afFirst = 2
				if pcr {
					afFirst += pcrSize
				}
			}
			want := max(1, (hl+size+afFirst+maxPayload-1)/maxPayload)
			if len(pkts) != want {
				t.Fatalf("size %d pcr %v: %d packets, want %d", size, pcr, len(pkts), want)
			}
			first := pkts[0]
			if first[1]&pusiBit == 0 {
				t.Fatalf("size %d: first packet lacks PUSI", size)
			}
			hasAF := first[3]>>4&afcAdaptation != 0
			if gotPCR := hasAF && first[4] > 0 && first[5]&afPCR != 0; gotPCR != pcr {
				t.Fatalf("size %d: PCR flag %v, want %v", size, gotPCR, pcr)
			} else if pcr && readPCR(first[6:]) != 900 {
				t.Fatalf("size %d: PCR %d, want the DTS 900", size, readPCR(first[6:]))
			}
			if gotRAI := hasAF && first[4] > 0 && first[5]&afRandomAccess != 0; gotRAI != f.RandomAccess {
				t.Fatalf("size %d: random access %v, want %v", size, gotRAI, f.RandomAccess)
			}
			for i, pkt := range pkts {
				if pidOf(pkt) != pid || int(pkt[3]&0x0f) != i%16 || (i > 0 && pkt[1]&pusiBit != 0) {
					t.Fatalf("size %d packet %d: header %x", size, i, pkt[:4])
				}
			}
			frames := demuxAll(t, append(m.AppendTables(nil), out...))
			if len(frames) != 1 || !bytes.Equal(frames[0].Data, f.Data) || frames[0].PTS != 1000 || frames[0].DTS != 900 ||
				!frames[0].HasDTS || frames[0].RandomAccess != f.RandomAccess {
				t.Fatalf("size %d: demuxed %d frames: %+v", size, len(frames), frames)
			}
		}
	}
}

func TestMuxerContinuityAcrossCalls(t *testing.T) {
	var buf bytes.Buffer
	m := newTestMuxer(t, &buf)
	for i := 0; i < 20; i++ {
		if err := m.WriteTables(); err != nil {
			t.Fatal(err)
		}
		f := Frame{PID: DefaultVideoPID, PTS: int64(i) * 3000, Data: pattern(500, byte(i))}
		if err := m.WriteFrame(&f); err != nil {
			t.Fatal(err)
		}
	}
	next := map[uint16]int{}
	for i, pkt := range checkPackets(t, buf.Bytes()) {
		pid := pidOf(pkt)
		if cc := int(pkt[3] & 0x0f); cc != next[pid] {
			t.Fatalf("packet %d PID 0x%x: CC %d, want %d", i, pid, cc, next[pid])
		}
		next[pid] = (next[pid] + 1) % 16
	}
	if next[PIDPAT] != 20%16 || next[DefaultPMTPID] != 20%16 || next[DefaultVideoPID] != 60%16 {
		t.Fatalf("counters %v", next)
	}

	// A new writer continues the counters; ResetContinuity starts over.
	var seg bytes.Buffer
	m.SetWriter(&seg)
	if err := m.WriteTables(); err != nil {
		t.Fatal(err)
	}
	if cc := seg.Bytes()[3] & 0x0f; cc != 20%16 {
		t.Fatalf("PAT CC on the new writer %d, want 4", cc)
	}
	seg.Reset()
	m.ResetContinuity()
	if err := m.WriteTables(); err != nil {
		t.Fatal(err)
	}
	if cc := seg.Bytes()[3] & 0x0f; cc != 0 {
		t.Fatalf("PAT CC after ResetContinuity %d, want 0", cc)
	}
}

func TestMuxerSetStreams(t *testing.T) {
	m := newTestMuxer(t, nil, Stream{PID: DefaultAudioPID, Type: StreamTypeAAC})
	if m.PCRPID() != DefaultAudioPID {
		t.Fatalf("audio-only PCR PID 0x%x", m.PCRPID())
	}
	out, _ := m.AppendFrame(nil, &Frame{PID: DefaultAudioPID, PTS: 0, Data: []byte{1}})
	if err := m.SetStreams(Stream{PID: DefaultVideoPID, Type: StreamTypeH265}, Stream{PID: DefaultAudioPID, Type: StreamTypeMPEG1Audio}); err != nil {
		t.Fatal(err)
	}
	if m.PCRPID() != DefaultVideoPID {
		t.Fatalf("PCR PID 0x%x after adding video", m.PCRPID())
	}
	tables := m.AppendTables(nil)
	s, err := parseSection(tables[PacketSize+5 : PacketSize+5+3+int(tables[PacketSize+7])])
	if err != nil {
		t.Fatal(err)
	}
	pcr, streams, err := parsePMT(s.body)
	if err != nil || s.version != 1 || pcr != DefaultVideoPID || len(streams) != 2 || streams[0].Type != StreamTypeH265 {
		t.Fatalf("PMT version %d pcr %x streams %+v err %v", s.version, pcr, streams, err)
	}
	// The audio PID kept its counter.
	out2, _ := m.AppendFrame(nil, &Frame{PID: DefaultAudioPID, PTS: 0, Data: []byte{1}})
	if out[3]&0x0f != 0 || out2[3]&0x0f != 1 {
		t.Fatalf("audio CC %d then %d", out[3]&0x0f, out2[3]&0x0f)
	}

	for name, streams := range map[string][]Stream{
		"PAT PID":   {{PID: 0, Type: StreamTypeAAC}},
		"PMT PID":   {{PID: DefaultPMTPID, Type: StreamTypeAAC}},
		"null PID":  {{PID: PIDNull, Type: StreamTypeAAC}},
		"duplicate": {{PID: 0x100, Type: StreamTypeAAC}, {PID: 0x100, Type: StreamTypeH264}},
	} {
		if err := m.SetStreams(streams...); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := m.AppendFrame(nil, &Frame{PID: 0x555}); !errors.Is(err, ErrUnknownPID) {
		t.Errorf("unknown PID: %v", err)
	}
	if _, err := NewMuxer(nil, MuxerConfig{PMTPID: 0x2000}); err == nil {
		t.Error("PMT PID 0x2000: no error")
	}
	if err := m.WriteTables(); err == nil {
		t.Error("WriteTables without a writer: no error")
	}
}

func TestMuxerLongPES(t *testing.T) {
	m := newTestMuxer(t, nil)
	video := Frame{PID: DefaultVideoPID, PTS: 0, RandomAccess: true, Data: pattern(200000, 1)}
	audio := Frame{PID: DefaultAudioPID, PTS: 0, Data: pattern(65535-8, 2)} // exactly fits PES_packet_length
	b := m.AppendTables(nil)
	b, _ = m.AppendFrame(b, &video)
	b, _ = m.AppendFrame(b, &audio)
	pkts := checkPackets(t, b)
	if l := int(pkts[2][4+8+4])<<8 | int(pkts[2][4+8+5]); l != 0 {
		t.Fatalf("video PES_packet_length %d, want 0", l)
	}
	frames := demuxAll(t, b)
	// The unbounded video PES ends with the stream, after the audio.
	if len(frames) != 2 || !bytes.Equal(frames[1].Data, video.Data) || !bytes.Equal(frames[0].Data, audio.Data) {
		t.Fatalf("demuxed %d frames", len(frames))
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestMuxerWriteError(t *testing.T) {
	m := newTestMuxer(t, failWriter{})
	if err := m.WriteFrame(&Frame{PID: DefaultVideoPID, Data: []byte{1}}); err == nil || !bytes.Contains([]byte(err.Error()), []byte("disk full")) {
		t.Fatalf("error %v", err)
	}
}
