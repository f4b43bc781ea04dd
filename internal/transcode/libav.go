//go:build cgo && !castd_nolibav

package transcode

/*
#cgo pkg-config: libavcodec libavutil libswresample
#include <errno.h>
#include <string.h>
#include <libavcodec/avcodec.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libavutil/error.h>
#include <libavutil/log.h>
#include <libavutil/samplefmt.h>
#include <libswresample/swresample.h>

enum { castd_eagain = AVERROR(EAGAIN) };
#define CASTD_MIN_RATE 4000
#define CASTD_MAX_RATE 192000

// castd_tc is one decoder → resampler → FIFO → encoder chain. All of it is C
// memory, freed by castd_tc_free; Go keeps only the pointer.
typedef struct {
	AVCodecContext *dec, *enc;
	SwrContext *swr;
	AVAudioFifo *fifo;
	AVPacket *in, *out;
	AVFrame *decoded, *encode;
	uint8_t **conv;   // resampled samples in the encoder's format
	int conv_cap;     // samples conv holds
	int64_t next_pos; // sample position of the next frame sent to the encoder
	// What swr was built for, to rebuild it when the decoder's output changes.
	int swr_rate;
	int swr_fmt;
	AVChannelLayout swr_layout;
} castd_tc;

static void castd_tc_free(castd_tc *t) {
	if (!t) return;
	avcodec_free_context(&t->dec);
	avcodec_free_context(&t->enc);
	swr_free(&t->swr);
	if (t->fifo) av_audio_fifo_free(t->fifo);
	av_packet_free(&t->in);
	av_packet_free(&t->out);
	av_frame_free(&t->decoded);
	av_frame_free(&t->encode);
	if (t->conv) av_freep(&t->conv[0]);
	av_freep(&t->conv);
	av_channel_layout_uninit(&t->swr_layout);
	av_free(t);
}

static castd_tc *castd_tc_alloc(void) {
	// Codec warnings about corrupt input would go to stderr, bypassing
	// castd's logs; the errors they explain are returned instead.
	av_log_set_level(AV_LOG_QUIET);
	castd_tc *t = av_mallocz(sizeof(*t));
	if (!t) return NULL;
	t->in = av_packet_alloc();
	t->out = av_packet_alloc();
	t->decoded = av_frame_alloc();
	t->encode = av_frame_alloc();
	if (!t->in || !t->out || !t->decoded || !t->encode) {
		castd_tc_free(t);
		return NULL;
	}
	return t;
}

// castd_tc_open_decoder opens the AAC decoder with the stream's ASC, or an
// Opus decoder (libopus unless native) with an OpusHead, both as extradata.
static int castd_tc_open_decoder(castd_tc *t, int opus, int native, const uint8_t *extra, int extra_len) {
	const AVCodec *c = NULL;
	if (opus && !native) c = avcodec_find_decoder_by_name("libopus");
	if (!c) c = avcodec_find_decoder(opus ? AV_CODEC_ID_OPUS : AV_CODEC_ID_AAC);
	if (!c) return AVERROR_DECODER_NOT_FOUND;
	t->dec = avcodec_alloc_context3(c);
	if (!t->dec) return AVERROR(ENOMEM);
	t->dec->extradata = av_mallocz(extra_len + AV_INPUT_BUFFER_PADDING_SIZE);
	if (!t->dec->extradata) return AVERROR(ENOMEM);
	memcpy(t->dec->extradata, extra, extra_len);
	t->dec->extradata_size = extra_len;
	t->dec->request_sample_fmt = AV_SAMPLE_FMT_FLT; // libopus would give s16
	t->dec->pkt_timebase = (AVRational){1, 48000}; // unused: timestamps stay in Go
	return avcodec_open2(t->dec, c, NULL);
}

// castd_pick_fmt prefers float, which the decoders give and swr converts
// from fastest; the encoder's first format otherwise.
static enum AVSampleFormat castd_pick_fmt(const AVCodec *c) {
	const enum AVSampleFormat *f = c->sample_fmts;
	if (!f) return AV_SAMPLE_FMT_FLTP;
	for (int i = 0; f[i] != AV_SAMPLE_FMT_NONE; i++)
		if (f[i] == AV_SAMPLE_FMT_FLT || f[i] == AV_SAMPLE_FMT_FLTP) return f[i];
	return f[0];
}

// castd_tc_open_encoder opens the encoder: Opus (libopus unless native or
// missing; FFmpeg's own is experimental) with 20 ms frames, or FFmpeg's
// AAC-LC. It then sizes the FIFO and the frame fed to the encoder.
static int castd_tc_open_encoder(castd_tc *t, int opus, int native, int bitrate, int rate, int channels) {
	const AVCodec *c = NULL;
	if (opus && !native) c = avcodec_find_encoder_by_name("libopus");
	if (!c) c = avcodec_find_encoder_by_name(opus ? "opus" : "aac");
	if (!c) return AVERROR_ENCODER_NOT_FOUND;
	AVCodecContext *e = avcodec_alloc_context3(c);
	if (!e) return AVERROR(ENOMEM);
	t->enc = e;
	e->sample_rate = rate;
	e->time_base = (AVRational){1, rate};
	e->bit_rate = bitrate;
	e->sample_fmt = castd_pick_fmt(c);
	av_channel_layout_default(&e->ch_layout, channels);
	AVDictionary *opts = NULL;
	if (!opus) {
#ifdef AV_PROFILE_AAC_LOW
		e->profile = AV_PROFILE_AAC_LOW; // FFmpeg 6.1 renamed it, 7.0 dropped the old name
#else
		e->profile = FF_PROFILE_AAC_LOW;
#endif
	} else if (strcmp(c->name, "libopus") == 0) {
		av_dict_set(&opts, "frame_duration", "20", 0);
	} else {
		e->strict_std_compliance = FF_COMPLIANCE_EXPERIMENTAL;
		av_dict_set(&opts, "opus_delay", "20", 0); // else 120 ms frames
	}
	int ret = avcodec_open2(e, c, &opts);
	av_dict_free(&opts);
	if (ret < 0) return ret;
	if (e->frame_size <= 0 || e->frame_size > 48000) return AVERROR(EINVAL);
	t->fifo = av_audio_fifo_alloc(e->sample_fmt, e->ch_layout.nb_channels, 2 * e->frame_size);
	if (!t->fifo) return AVERROR(ENOMEM);
	t->encode->format = e->sample_fmt;
	t->encode->sample_rate = e->sample_rate;
	t->encode->nb_samples = e->frame_size;
	if ((ret = av_channel_layout_copy(&t->encode->ch_layout, &e->ch_layout)) < 0) return ret;
	return av_frame_get_buffer(t->encode, 0);
}

// castd_tc_decode hands one encoded frame to the decoder; the packet's own
// buffer, with FFmpeg's padding, is filled from Go's bytes.
static int castd_tc_decode(castd_tc *t, const uint8_t *data, int len) {
	av_packet_unref(t->in);
	int ret = av_new_packet(t->in, len);
	if (ret < 0) return ret;
	memcpy(t->in->data, data, len);
	ret = avcodec_send_packet(t->dec, t->in);
	av_packet_unref(t->in);
	return ret;
}

// castd_tc_next_decoded fills t->decoded, or returns EAGAIN when the input
// is used up.
static int castd_tc_next_decoded(castd_tc *t) {
	av_frame_unref(t->decoded);
	return avcodec_receive_frame(t->dec, t->decoded);
}

static int castd_tc_ensure_conv(castd_tc *t, int samples) {
	if (samples <= t->conv_cap) return 0;
	if (t->conv) av_freep(&t->conv[0]);
	av_freep(&t->conv);
	t->conv_cap = 0;
	int ret = av_samples_alloc_array_and_samples(&t->conv, NULL, t->enc->ch_layout.nb_channels,
		samples, t->enc->sample_fmt, 0);
	if (ret < 0) return ret;
	t->conv_cap = samples;
	return 0;
}

// castd_tc_ensure_swr (re)builds the resampler for the decoded frame's
// format: HE-AAC shows its real rate only once decoded, and AAC may change
// its channels mid-stream.
static int castd_tc_ensure_swr(castd_tc *t, const AVFrame *f) {
	AVChannelLayout in = {0};
	int ret;
	// The bounds keep a hostile stream from sizing the resampler's buffer:
	// at most 16384 samples at 4 kHz become 196608 at 48 kHz.
	if (f->sample_rate < CASTD_MIN_RATE || f->sample_rate > CASTD_MAX_RATE ||
		f->nb_samples > 16384 || f->ch_layout.nb_channels <= 0) return AVERROR_INVALIDDATA;
	if (f->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC) {
		av_channel_layout_default(&in, f->ch_layout.nb_channels);
	} else if ((ret = av_channel_layout_copy(&in, &f->ch_layout)) < 0) {
		return ret;
	}
	if (t->swr && t->swr_rate == f->sample_rate && t->swr_fmt == f->format &&
		av_channel_layout_compare(&t->swr_layout, &in) == 0) {
		av_channel_layout_uninit(&in);
		return 0;
	}
	swr_free(&t->swr);
	ret = swr_alloc_set_opts2(&t->swr, &t->enc->ch_layout, t->enc->sample_fmt, t->enc->sample_rate,
		&in, f->format, f->sample_rate, 0, NULL);
	if (ret >= 0) ret = swr_init(t->swr);
	if (ret < 0) {
		swr_free(&t->swr);
		av_channel_layout_uninit(&in);
		return ret;
	}
	av_channel_layout_uninit(&t->swr_layout);
	t->swr_layout = in;
	t->swr_rate = f->sample_rate;
	t->swr_fmt = f->format;
	return 0;
}

// castd_tc_queue_decoded resamples t->decoded into the FIFO and returns the
// number of samples queued.
static int castd_tc_queue_decoded(castd_tc *t) {
	AVFrame *f = t->decoded;
	int ret = castd_tc_ensure_swr(t, f);
	if (ret < 0) return ret;
	int max = swr_get_out_samples(t->swr, f->nb_samples);
	if (max < 0) return max;
	if ((ret = castd_tc_ensure_conv(t, max)) < 0) return ret;
	int n = swr_convert(t->swr, t->conv, max, (const uint8_t **)f->extended_data, f->nb_samples);
	av_frame_unref(f);
	if (n < 0) return n;
	if (n > 0 && av_audio_fifo_write(t->fifo, (void **)t->conv, n) < n) return AVERROR(ENOMEM);
	return n;
}

// castd_tc_queue_silence queues n samples of silence.
static int castd_tc_queue_silence(castd_tc *t, int n) {
	int ret = castd_tc_ensure_conv(t, n);
	if (ret < 0) return ret;
	av_samples_set_silence(t->conv, 0, n, t->enc->ch_layout.nb_channels, t->enc->sample_fmt);
	if (av_audio_fifo_write(t->fifo, (void **)t->conv, n) < n) return AVERROR(ENOMEM);
	return 0;
}

// castd_tc_next_encoded fills t->out with the next encoded packet, feeding
// the encoder whole frames from the FIFO as it asks for them; EAGAIN means
// fewer than a frame's samples are left.
static int castd_tc_next_encoded(castd_tc *t) {
	av_packet_unref(t->out);
	for (;;) {
		int ret = avcodec_receive_packet(t->enc, t->out);
		if (ret != AVERROR(EAGAIN)) return ret;
		int size = t->enc->frame_size;
		if (av_audio_fifo_size(t->fifo) < size) return ret;
		if ((ret = av_frame_make_writable(t->encode)) < 0) return ret;
		if (av_audio_fifo_read(t->fifo, (void **)t->encode->data, size) < size) return AVERROR_BUG;
		t->encode->pts = t->next_pos;
		t->next_pos += size;
		if ((ret = avcodec_send_frame(t->enc, t->encode)) < 0) return ret;
	}
}
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"time"
	"unsafe"

	"github.com/castd/castd/internal/av"
)

// Available returns nil when this build can transcode, or an error saying why not
// (built without cgo, or without libavcodec). This build links libavcodec.
func Available() error { return nil }

// NewAACToOpus takes the stream's AudioSpecificConfig and makes 48 kHz stereo Opus at bitrate bps, 20 ms frames.
func NewAACToOpus(asc []byte, bitrate int) (Transcoder, error) {
	return newAACToOpus(asc, bitrate, false)
}

// NewOpusToAAC decodes Opus (48 kHz, channels 1 or 2) and makes AAC-LC 48 kHz stereo at bitrate bps.
func NewOpusToAAC(channels, bitrate int) (OpusToAAC, error) {
	return newOpusToAAC(channels, bitrate, false)
}

// newAACToOpus is NewAACToOpus; native forces FFmpeg's own Opus encoder, so
// tests cover the fallback used when libopus is missing.
func newAACToOpus(asc []byte, bitrate int, native bool) (*libav, error) {
	if len(asc) > maxASC {
		return nil, fmt.Errorf("transcode: AAC to Opus: AudioSpecificConfig of %d bytes exceeds %d", len(asc), maxASC)
	}
	cfg, err := av.ParseAudioSpecificConfig(asc)
	if err != nil {
		return nil, fmt.Errorf("transcode: AAC to Opus: %w", err)
	}
	if cfg.SampleRate < C.CASTD_MIN_RATE || cfg.OutputSampleRate > C.CASTD_MAX_RATE {
		return nil, fmt.Errorf("transcode: AAC to Opus: sample rate %d Hz is outside %d..%d",
			cfg.SampleRate, C.CASTD_MIN_RATE, C.CASTD_MAX_RATE)
	}
	if err := checkBitrate(bitrate); err != nil {
		return nil, err
	}
	return openLibav("AAC to Opus", false, asc, native, bitrate)
}

// newOpusToAAC is NewOpusToAAC; native forces FFmpeg's own Opus decoder.
func newOpusToAAC(channels, bitrate int, native bool) (*libav, error) {
	if channels != 1 && channels != 2 {
		return nil, fmt.Errorf("transcode: Opus to AAC: %d channels, want 1 or 2", channels)
	}
	if err := checkBitrate(bitrate); err != nil {
		return nil, err
	}
	t, err := openLibav("Opus to AAC", true, opusHead(channels), native, bitrate)
	if err != nil {
		return nil, err
	}
	if t.asc, err = t.encoderConfig(); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

// libav is both directions of the transcoder over one castd_tc chain.
type libav struct {
	name    string // "AAC to Opus", for errors
	c       *C.castd_tc
	clock   *timeline
	asc     []byte // the encoder's AudioSpecificConfig (AAC output only)
	out     []byte // the encoded bytes the last Write returned
	frames  []Frame
	cleanup runtime.Cleanup
}

func openLibav(name string, opusIn bool, extradata []byte, native bool, bitrate int) (*libav, error) {
	c := C.castd_tc_alloc()
	if c == nil {
		return nil, fmt.Errorf("transcode: %s: out of memory", name)
	}
	t := &libav{name: name, c: c}
	// A transcoder dropped without Close still frees its C memory.
	t.cleanup = runtime.AddCleanup(t, func(c *C.castd_tc) { C.castd_tc_free(c) }, c)
	if ret := C.castd_tc_open_decoder(c, cBool(opusIn), cBool(native), cBytes(extradata), C.int(len(extradata))); ret < 0 {
		t.Close()
		return nil, fmt.Errorf("transcode: %s: open decoder: %w", name, avError(ret))
	}
	if ret := C.castd_tc_open_encoder(c, cBool(!opusIn), cBool(native), C.int(bitrate), outputRate, outputChannels); ret < 0 {
		t.Close()
		return nil, fmt.Errorf("transcode: %s: open encoder: %w", name, avError(ret))
	}
	t.clock = newTimeline(int(c.enc.sample_rate), int(c.enc.frame_size))
	return t, nil
}

// encoderConfig copies the AAC encoder's AudioSpecificConfig.
func (t *libav) encoderConfig() ([]byte, error) {
	e := t.c.enc
	if e.extradata == nil || e.extradata_size < 2 || e.extradata_size > maxASC {
		return nil, fmt.Errorf("transcode: %s: the AAC encoder gave no AudioSpecificConfig", t.name)
	}
	return C.GoBytes(unsafe.Pointer(e.extradata), e.extradata_size), nil
}

// AudioSpecificConfig returns the ASC of the AAC output.
func (t *libav) AudioSpecificConfig() []byte { return t.asc }

// codecNames are the FFmpeg decoder and encoder in use, e.g. "aac" and "libopus".
func (t *libav) codecNames() (decoder, encoder string) {
	if t.c == nil {
		return "", ""
	}
	return C.GoString(t.c.dec.codec.name), C.GoString(t.c.enc.codec.name)
}

// Write implements Transcoder.
func (t *libav) Write(frame []byte, pts time.Duration) ([]Frame, error) {
	if t.c == nil {
		return nil, errClosed
	}
	t.out, t.frames = t.out[:0], t.frames[:0]
	if err := checkInputFrame(frame); err != nil {
		return nil, fmt.Errorf("transcode: %s: %w", t.name, err)
	}
	if ret := C.castd_tc_decode(t.c, (*C.uint8_t)(unsafe.Pointer(&frame[0])), C.int(len(frame))); ret < 0 {
		return nil, fmt.Errorf("transcode: %s: decode %d-byte frame at %v: %w", t.name, len(frame), pts, avError(ret))
	}
	if err := t.queueDecoded(pts); err != nil {
		return nil, err
	}
	if err := t.collectEncoded(); err != nil {
		return nil, err
	}
	return t.frames, nil
}

// queueDecoded moves every frame the decoder has into the FIFO, placing
// each on the output clock first.
func (t *libav) queueDecoded(pts time.Duration) error {
	for {
		ret := C.castd_tc_next_decoded(t.c)
		if ret == C.castd_eagain {
			return nil
		}
		if ret < 0 {
			return fmt.Errorf("transcode: %s: decode frame at %v: %w", t.name, pts, avError(ret))
		}
		d := t.c.decoded
		samples, rate := int64(d.nb_samples), int(d.sample_rate)
		if silence, _ := t.clock.place(pts); silence > 0 {
			if ret := C.castd_tc_queue_silence(t.c, C.int(silence)); ret < 0 {
				return fmt.Errorf("transcode: %s: queue %d samples of silence: %w", t.name, silence, avError(ret))
			}
		}
		n := C.castd_tc_queue_decoded(t.c)
		if n < 0 {
			return fmt.Errorf("transcode: %s: resample frame at %v: %w", t.name, pts, avError(n))
		}
		t.clock.queue(int(n))
		if rate > 0 {
			pts += samplesToDuration(samples, rate) // a second frame from the same packet follows this one
		}
	}
}

// collectEncoded copies out every packet the encoder can make now.
func (t *libav) collectEncoded() error {
	for {
		ret := C.castd_tc_next_encoded(t.c)
		if ret == C.castd_eagain {
			return nil
		}
		if ret < 0 {
			return fmt.Errorf("transcode: %s: encode: %w", t.name, avError(ret))
		}
		p := t.c.out
		pts, ok := t.clock.at(int64(p.pts))
		if !ok || p.size <= 0 {
			continue // encoder priming from before the first input sample
		}
		duration := int64(p.duration)
		if duration <= 0 {
			duration = int64(t.clock.frameSize)
		}
		start := len(t.out)
		t.out = append(t.out, unsafe.Slice((*byte)(unsafe.Pointer(p.data)), int(p.size))...)
		t.frames = append(t.frames, Frame{
			Data:     t.out[start:len(t.out):len(t.out)],
			PTS:      pts,
			Duration: samplesToDuration(duration, t.clock.rate),
		})
	}
}

// Close frees the codecs.
func (t *libav) Close() error {
	if t.c == nil {
		return nil
	}
	t.cleanup.Stop()
	C.castd_tc_free(t.c)
	t.c = nil
	return nil
}

// avError turns an FFmpeg error code into a Go error with FFmpeg's text.
func avError(code C.int) error {
	var buf [C.AV_ERROR_MAX_STRING_SIZE]C.char
	if C.av_strerror(code, &buf[0], C.size_t(len(buf))) < 0 {
		return fmt.Errorf("FFmpeg error %d", int(code))
	}
	return errors.New(C.GoString(&buf[0]))
}

func cBool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// cBytes points C at b for the duration of one call; C copies what it keeps.
func cBytes(b []byte) *C.uint8_t {
	if len(b) == 0 {
		return nil
	}
	return (*C.uint8_t)(unsafe.Pointer(&b[0]))
}
