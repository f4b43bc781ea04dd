package conf

import "strings"

func (b *builder) transcode(d *Directive) *Transcode {
	const p = "vhost.transcode."
	t := &Transcode{Directive: d, Scope: d.Arg0()}
	t.Enabled = b.flag(d, p+"enabled", false)
	t.FFmpeg = b.str(d, p+"ffmpeg", "")
	t.Engines = b.engines(d, p+"engine")
	if t.Enabled && t.FFmpeg == "" {
		b.fail(errorAt(d, "transcode %s: ffmpeg is required", t.Scope))
	}
	return t
}

func (b *builder) ingest(d *Directive) *Ingest {
	const p = "vhost.ingest."
	in := &Ingest{Directive: d, ID: d.Arg0()}
	in.Enabled = b.flag(d, p+"enabled", false)
	input := d.Get("input")
	in.InputType = b.enum(input, p+"input.type", "file", "file", "stream")
	in.InputURL = b.str(input, p+"input.url", "")
	in.FFmpeg = b.str(d, p+"ffmpeg", "")
	in.Engines = b.engines(d, p+"engine")
	if in.Enabled && in.InputURL == "" {
		b.fail(errorAt(d, "ingest %s: input url is required", in.ID))
	}
	return in
}

func (b *builder) engines(parent *Directive, path string) []*Engine {
	var out []*Engine
	for _, d := range parent.GetAll("engine") {
		out = append(out, b.engine(d, path+"."))
	}
	if len(out) == 0 {
		b.engine(nil, path+".") // record coverage of the engine fields
	}
	return out
}

func (b *builder) engine(d *Directive, p string) *Engine {
	e := &Engine{Name: d.Arg0()}
	e.Enabled = b.flag(d, p+"enabled", false)
	e.Perfile = b.ffmpegOptions(d, p+"perfile")
	e.IFormat = b.str(d, p+"iformat", "flv")
	e.VFilter = b.ffmpegOptions(d, p+"vfilter")
	e.VCodec = b.str(d, p+"vcodec", "")
	e.VBitrate = b.int(d, p+"vbitrate", 0)
	e.VFPS = b.float(d, p+"vfps", 0)
	e.VWidth = b.int(d, p+"vwidth", 0)
	e.VHeight = b.int(d, p+"vheight", 0)
	e.VThreads = b.int(d, p+"vthreads", 1)
	e.VProfile = b.str(d, p+"vprofile", "")
	e.VPreset = b.str(d, p+"vpreset", "")
	e.VParams = b.ffmpegOptions(d, p+"vparams")
	e.ACodec = b.str(d, p+"acodec", "")
	e.ABitrate = b.int(d, p+"abitrate", 0)
	e.ASampleRate = b.int(d, p+"asample_rate", 0)
	e.AChannels = b.int(d, p+"achannels", 0)
	e.AParams = b.ffmpegOptions(d, p+"aparams")
	e.OFormat = b.str(d, p+"oformat", "flv")
	e.Output = b.str(d, p+"output", "")
	return e
}

// ffmpegOptions turns a free-form block such as `vparams { preset fast; }`
// into FFmpeg arguments "-preset", "fast" (cfg get_engine_vparams).
func (b *builder) ffmpegOptions(parent *Directive, path string) []string {
	if b.read != nil {
		b.read[path] = true
	}
	block := parent.Get(leafName(path))
	if block == nil {
		return nil
	}
	var args []string
	for _, o := range block.Children {
		name := o.Name
		if !strings.HasPrefix(name, "-") {
			name = "-" + name
		}
		args = append(args, name)
		if a := o.Arg0(); a != "" {
			args = append(args, a)
		}
	}
	return args
}
