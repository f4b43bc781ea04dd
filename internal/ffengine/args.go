// Package ffengine runs SRS's FFmpeg engines (vhost transcode{} and
// ingest{}): it builds ffmpeg's argument list from an engine in the order
// SRS uses (src/app/srs_app_ffmpeg.cpp), fills in the output URL's
// variables, and keeps the process running: restarted 3 s after it exits,
// stopped with SIGTERM, then SIGKILL.
package ffengine

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/castd/castd/internal/conf"
)

// Codec values with a meaning of their own.
const (
	codecCopy    = "copy"
	noVideo      = "vn"
	noAudio      = "an"
	bsfADTSToASC = "aac_adtstoasc"
)

// Job is one ffmpeg process to build.
type Job struct {
	FFmpeg string // the binary
	// InputParams come first, before the engine's perfile options: the
	// -loglevel and, for ingest, -re.
	InputParams []string
	Input       string
	Output      string // variables already substituted
	// Engine gives the codec options; nil (or Copy) copies both tracks.
	Engine *conf.Engine
	Copy   bool
	// OFormat overrides the engine's oformat when not empty (ingest
	// always writes flv, as SRS does).
	OFormat string
}

// Args returns ffmpeg's argv (argv[0] is Job.FFmpeg):
//
//	ffmpeg <input params> <perfile> [-f iformat] -i <input> <vfilter>
//	  -vcodec X|-vn [-b:v] [-r] [-s] [-aspect] [-threads] [-profile:v] [-preset] <vparams>
//	  -acodec X|-an [-b:a] [-ar] [-ac] <aparams> [-f oformat] -y <output>
//
// With copy, the codec options are left out; audio copy keeps only an
// "-bsf:a aac_adtstoasc" from aparams. The input format is given only for
// rtmp:// inputs (SRS #290: "-f flv" before a UDP input breaks it).
func Args(j Job) ([]string, error) {
	if j.FFmpeg == "" {
		return nil, errors.New("ffengine: no ffmpeg binary")
	}
	if j.Output == "" {
		return nil, errors.New("ffengine: empty output")
	}
	e := conf.Engine{VCodec: codecCopy, ACodec: codecCopy}
	if j.Engine != nil && !j.Copy {
		e = *j.Engine
		if err := check(&e); err != nil {
			return nil, err
		}
	} else if j.Engine != nil {
		e.Perfile, e.IFormat, e.OFormat = j.Engine.Perfile, j.Engine.IFormat, j.Engine.OFormat
	}
	if j.OFormat != "" {
		e.OFormat = j.OFormat
	}
	if !strings.HasPrefix(j.Input, "rtmp://") {
		e.IFormat = ""
	}
	a := []string{j.FFmpeg}
	a = appendNonEmpty(a, j.InputParams...)
	a = appendNonEmpty(a, e.Perfile...)
	if e.IFormat != "" && e.IFormat != "off" {
		a = append(a, "-f", e.IFormat)
	}
	a = append(a, "-i", j.Input)
	a = appendNonEmpty(a, e.VFilter...)
	a = videoArgs(a, &e)
	a = audioArgs(a, &e)
	if e.OFormat != "" && e.OFormat != "off" {
		a = append(a, "-f", e.OFormat)
	}
	return append(a, "-y", j.Output), nil
}

func videoArgs(a []string, e *conf.Engine) []string {
	if e.VCodec == noVideo {
		return append(a, "-vn")
	}
	a = append(a, "-vcodec", e.VCodec)
	if e.VCodec == codecCopy {
		return a
	}
	if e.VBitrate > 0 {
		a = append(a, "-b:v", strconv.Itoa(e.VBitrate*1000))
	}
	if e.VFPS > 0 {
		a = append(a, "-r", strconv.FormatFloat(e.VFPS, 'f', 2, 64))
	}
	// The size must be even for yuv420p encoders.
	w, h := e.VWidth-e.VWidth%2, e.VHeight-e.VHeight%2
	if w > 0 && h > 0 {
		a = append(a, "-s", fmt.Sprintf("%dx%d", w, h), "-aspect", fmt.Sprintf("%d:%d", w, h))
	}
	if e.VThreads > 0 {
		a = append(a, "-threads", strconv.Itoa(e.VThreads))
	}
	if e.VProfile != "" {
		a = append(a, "-profile:v", e.VProfile)
	}
	if e.VPreset != "" {
		a = append(a, "-preset", e.VPreset)
	}
	return appendNonEmpty(a, e.VParams...)
}

func audioArgs(a []string, e *conf.Engine) []string {
	if e.ACodec == noAudio {
		return append(a, "-an")
	}
	a = append(a, "-acodec", e.ACodec)
	if e.ACodec == codecCopy {
		for i := 0; i+1 < len(e.AParams); i++ {
			if e.AParams[i] == "-bsf:a" && e.AParams[i+1] == bsfADTSToASC {
				a = append(a, "-bsf:a", bsfADTSToASC)
				i++
			}
		}
		return a
	}
	if e.ABitrate > 0 {
		a = append(a, "-b:a", strconv.Itoa(e.ABitrate*1000))
	}
	if e.ASampleRate > 0 {
		a = append(a, "-ar", strconv.Itoa(e.ASampleRate))
	}
	if e.AChannels > 0 {
		a = append(a, "-ac", strconv.Itoa(e.AChannels))
	}
	return appendNonEmpty(a, e.AParams...)
}

// check rejects the engines SRS refuses to start. Unlike SRS, any video
// encoder is accepted (SRS wants libx264), and profile and preset may be
// left out.
func check(e *conf.Engine) error {
	if e.VCodec == "" {
		e.VCodec = codecCopy
	}
	if e.ACodec == "" {
		e.ACodec = codecCopy
	}
	if e.VCodec == noVideo && e.ACodec == noAudio {
		return errors.New("ffengine: engine disables both video (vn) and audio (an)")
	}
	switch {
	case e.VBitrate < 0, e.VFPS < 0, e.VWidth < 0, e.VHeight < 0, e.VThreads < 0:
		return fmt.Errorf("ffengine: negative video option (vbitrate %d vfps %v vwidth %d vheight %d vthreads %d)",
			e.VBitrate, e.VFPS, e.VWidth, e.VHeight, e.VThreads)
	case e.ABitrate < 0, e.ASampleRate < 0:
		return fmt.Errorf("ffengine: negative audio option (abitrate %d asample_rate %d)", e.ABitrate, e.ASampleRate)
	case e.ACodec != codecCopy && e.ACodec != noAudio && e.AChannels != 0 && e.AChannels != 1 && e.AChannels != 2:
		return fmt.Errorf("ffengine: achannels %d: must be 1 or 2", e.AChannels)
	}
	return nil
}

func appendNonEmpty(a []string, args ...string) []string {
	for _, s := range args {
		if s != "" {
			a = append(a, s)
		}
	}
	return a
}
