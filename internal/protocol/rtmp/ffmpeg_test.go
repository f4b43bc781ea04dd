package rtmp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestFFmpegInterop publishes with a real encoder (ffmpeg's RTMP client uses
// the complex handshake and verifies our S1 digest and S2 signature) into a
// server built only from this package, then plays the recorded messages back
// to ffmpeg, which must decode the video.
func TestFFmpegInterop(t *testing.T) {
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil || testing.Short() {
		t.Skip("ffmpeg not installed or -short")
	}
	t.Cleanup(checkGoroutines(t))
	var (
		mu        sync.Mutex
		recorded  []MediaMessage
		published = make(chan struct{})
		pubType   ClientType
		pubName   string
		hsMode    HandshakeMode
	)
	addr := startServer(t, "tcp", "127.0.0.1:0", func(t *testing.T, s *ServerConn) error {
		hs, err := s.Handshake()
		if err != nil {
			return err
		}
		if _, err := s.ReadConnect(); err != nil {
			return err
		}
		if err := s.AcceptConnect(); err != nil {
			return err
		}
		sr, err := s.Identify()
		if err != nil {
			return err
		}
		if sr.Type.IsPublish() {
			mu.Lock()
			pubType, pubName, hsMode = sr.Type, sr.Name, hs.Mode
			mu.Unlock()
			defer close(published)
			if err := s.StartPublish(); err != nil {
				return err
			}
			for {
				s.NetConn().SetDeadline(time.Now().Add(10 * time.Second))
				m, err := s.ReadMedia()
				if errors.Is(err, ErrUnpublish) {
					return nil
				}
				if err != nil {
					return nil // ffmpeg may just close the socket
				}
				mu.Lock()
				recorded = append(recorded, MediaMessage{m.Type, m.Timestamp, m.Payload})
				mu.Unlock()
			}
		}
		<-published
		if err := s.StartPlay(); err != nil {
			return err
		}
		mu.Lock()
		msgs := recorded
		mu.Unlock()
		for i := 0; i < len(msgs); i += 16 {
			if err := s.WriteMedia(msgs[i:min(i+16, len(msgs))]); err != nil {
				return nil // the player may leave once it has its frames
			}
		}
		_ = s.SendStreamEOF()
		for { // until ffmpeg closes
			if _, err := s.ReadPlayControl(); err != nil {
				return nil
			}
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	url := "rtmp://" + addr + "/live/cam?token=1"
	pub := exec.CommandContext(ctx, ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin",
		"-f", "lavfi", "-i", "testsrc=size=160x120:rate=25",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
		"-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-c:a", "aac",
		"-f", "flv", url)
	if out, err := pub.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg publish: %v\n%s", err, out)
	}
	select {
	case <-published:
	case <-time.After(10 * time.Second):
		t.Fatal("publish did not end")
	}
	mu.Lock()
	if hsMode != HandshakeComplex || pubType != ClientFMLEPublish || pubName != "cam?token=1" {
		t.Errorf("handshake %v, client %v, stream %q", hsMode, pubType, pubName)
	}
	var video, audio, meta int
	var avcHeader, aacHeader bool
	for _, m := range recorded {
		switch m.Type {
		case TypeVideo:
			video++
			avcHeader = avcHeader || bytes.HasPrefix(m.Payload, []byte{0x17, 0x00})
		case TypeAudio:
			audio++
			aacHeader = aacHeader || bytes.HasPrefix(m.Payload, []byte{0xAF, 0x00})
		case TypeDataAMF0:
			meta++
			if _, name, ok := MetadataBody(&Message{Type: TypeDataAMF0, Payload: m.Payload}); !ok || name != DataOnMetaData {
				t.Errorf("data message %q", name)
			}
		}
	}
	mu.Unlock()
	if video < 40 || audio < 40 || meta != 1 || !avcHeader || !aacHeader {
		t.Fatalf("recorded video %d audio %d meta %d avc header %v aac header %v", video, audio, meta, avcHeader, aacHeader)
	}

	play := exec.CommandContext(ctx, ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin",
		"-i", "rtmp://"+addr+"/live/cam", "-map", "0:v", "-frames:v", "25", "-f", "framemd5", "-")
	var stdout, stderr bytes.Buffer
	play.Stdout, play.Stderr = &stdout, &stderr
	if err := play.Run(); err != nil {
		t.Fatalf("ffmpeg play: %v\n%s", err, stderr.String())
	}
	frames := 0
	for _, line := range strings.Split(stdout.String(), "\n") {
		if strings.HasPrefix(line, "0,") {
			frames++
		}
	}
	if frames != 25 {
		t.Errorf("ffmpeg decoded %d frames, want 25\n%s", frames, fmt.Sprint(stderr.String()))
	}
}
