package remux

import (
	"bytes"
	"testing"

	"github.com/castd/castd/internal/av"
)

func TestADTSWriter(t *testing.T) {
	var out bytes.Buffer
	a := NewADTSWriter(&out, nil)
	raw := filler(200, 5)
	for _, p := range []*av.Packet{
		mustPacket(t, av.KindVideo, 0, avcSequenceHeader(testSPS, testPPS)), // not audio: ignored
		mustPacket(t, av.KindAudio, 0, aacFrame(raw)),                       // before the ASC: dropped
		mustPacket(t, av.KindAudio, 0, aacSequenceHeader(testASC)),
		mustPacket(t, av.KindAudio, 0, aacFrame(raw)),
		mustPacket(t, av.KindAudio, 23, mp3Frame(10)), // not AAC: dropped
		mustPacket(t, av.KindAudio, 46, aacFrame(raw[:10])),
	} {
		if err := a.WritePacket(p); err != nil {
			t.Fatal(err)
		}
	}
	want := append([]byte{0xff, 0xf1, 0x50, 0x80, 0x19, 0xff, 0xfc}, raw...)
	want = append(want, 0xff, 0xf1, 0x50, 0x80, 0x02, 0x3f, 0xfc)
	want = append(want, raw[:10]...)
	if !bytes.Equal(out.Bytes(), want) {
		t.Fatalf("ADTS stream\n got %x\nwant %x", out.Bytes(), want)
	}
	if st := a.Stats(); st.Frames != 2 || st.Dropped != 2 {
		t.Fatalf("stats %+v", st)
	}
	// Each frame parses back with the stream's configuration.
	f, err := av.ParseADTSHeader(out.Bytes())
	if err != nil || f.FrameLength != 207 || f.Config.SampleRate != 44100 || f.Config.Channels != 2 {
		t.Fatalf("ADTS header %+v %v", f, err)
	}
}

func TestMP3Writer(t *testing.T) {
	var out bytes.Buffer
	m := NewMP3Writer(&out, nil)
	f1, f2 := mp3Frame(20), mp3Frame(30)
	for _, p := range []*av.Packet{
		mustPacket(t, av.KindAudio, 0, aacSequenceHeader(testASC)), // dropped, and no header yet
		mustPacket(t, av.KindAudio, 0, f1),
		mustPacket(t, av.KindAudio, 26, f2),
	} {
		if err := m.WritePacket(p); err != nil {
			t.Fatal(err)
		}
	}
	want := append(append(MP3StreamHeader(), f1[1:]...), f2[1:]...)
	if !bytes.Equal(out.Bytes(), want) {
		t.Fatalf("MP3 stream\n got %x\nwant %x", out.Bytes(), want)
	}
	if got := m.AppendPacket(nil, mustPacket(t, av.KindAudio, 52, f1)); !bytes.Equal(got, f1[1:]) {
		t.Fatalf("AppendPacket %x", got)
	}
	if st := m.Stats(); st.Frames != 3 || st.Dropped != 1 {
		t.Fatalf("stats %+v", st)
	}
	// ID3v2: "ID3", version 3.0, no flags, syncsafe size 10.
	h := MP3StreamHeader()
	if string(h[:3]) != "ID3" || h[3] != 3 || h[9] != 10 || len(h) != 20 {
		t.Fatalf("header %x", h)
	}
}
