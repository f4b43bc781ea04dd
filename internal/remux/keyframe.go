package remux

import "github.com/castd/castd/internal/av"

// IsKeyframe reports whether p is a video keyframe with a picture: a place
// where an HLS segment may start. Unlike p.Keyframe it is false for
// sequence headers, end-of-sequence tags and command frames, which carry
// the keyframe type too.
func IsKeyframe(p *av.Packet) bool {
	if !p.IsVideo() || !p.Keyframe || p.SequenceHeader {
		return false
	}
	return isCodedFrame(p)
}

// isCodedFrame reports whether p holds media (a coded audio or video
// frame) rather than a header, a command or an end of sequence.
func isCodedFrame(p *av.Packet) bool {
	switch p.Kind {
	case av.KindVideo:
		tag, err := av.ParseFLVVideoTag(p.Payload)
		if err != nil || tag.IsCommand() {
			return false
		}
		return tag.PacketType == av.VideoPacketCodedFrames || tag.PacketType == av.VideoPacketCodedFramesX
	case av.KindAudio:
		tag, err := av.ParseFLVAudioTag(p.Payload)
		return err == nil && tag.PacketType == av.AudioPacketCodedFrames
	}
	return false
}
