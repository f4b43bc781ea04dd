package bench

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/castd/castd/internal/bench/failure"
	"github.com/castd/castd/internal/bench/player"
	"github.com/castd/castd/internal/bench/rtcpub"
	"github.com/castd/castd/internal/bench/source"
)

// rtcShared is what a run's WebRTC publishers share: the media, prepared
// (and its AAC transcoded to Opus) once, one pion API and one HTTP client.
type rtcShared struct {
	media  *rtcpub.Media
	api    *webrtc.API
	client *http.Client
}

// newRTCShared prepares the WebRTC publishers of a run.
func newRTCShared(cfg PublishConfig) (*rtcShared, error) {
	media, err := rtcpub.Prepare(cfg.Source, nil)
	if err != nil {
		return nil, err
	}
	api, err := rtcpub.NewAPI()
	if err != nil {
		return nil, err
	}
	client := player.NewHTTPClient(player.Options{ConnectTimeout: cfg.ConnectTimeout}, cfg.Streams)
	return &rtcShared{media: media, api: api, client: client}, nil
}

func (s *rtcShared) close() { s.client.CloseIdleConnections() }

// publishRTC sends the source over WebRTC, as a browser does: H.264 in
// Annex B through pion's packetizer, each frame stamped as over RTMP, and
// the audio as Opus packets, paced in real time. It needs no goroutine of
// its own: pion's tell it (through the connection's context) when the
// connection fails. It returns the error that ended the publisher, nil
// when ctx did.
func (p *publisher) publishRTC(ctx context.Context, up func()) error {
	sh := p.owner.rtc
	ep, err := rtcpub.ParseURL(p.url)
	if err != nil {
		return failure.Mark(failure.Other, err)
	}
	cctx, cancel := context.WithTimeout(ctx, p.owner.cfg.ConnectTimeout)
	c, err := rtcpub.Dial(ctx, cctx, sh.api, sh.client, ep, sh.media.HasAudio, strconv.Itoa(p.index))
	cancel()
	if err != nil {
		return endedErr(ctx, err)
	}
	defer c.Close()
	p.owner.up.Add(1)
	p.owner.everUp.Add(1)
	defer p.owner.up.Add(-1)
	up()

	var audio rtcpub.RTPWriter
	if c.Audio != nil {
		audio = c.Audio
	}
	sender := rtcpub.NewSender(c.Video, audio, sh.media.Source.NALULengthSize)
	pacer := &source.Pacer{Src: sh.media.Source, Clock: &source.WallClock{}}
	err = pacer.Run(c.Context(), func(now time.Time, batch []source.Timed) error {
		payloads, stamped, err := p.stampBatch(now, batch)
		if err != nil {
			return err
		}
		frames, bytes, err := sender.Send(batch, payloads)
		p.sent(frames, bytes, stamped)
		return err
	})
	if failure.Ended(ctx) {
		return nil
	}
	if failed := c.Failed(); failed != nil {
		err = failed // a write that failed after it says less
	}
	if err != nil {
		p.owner.dropped.Add(1)
	}
	return err
}
