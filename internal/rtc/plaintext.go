package rtc

import (
	"errors"
	"net/url"
)

// errPlaintext refuses a player that asks for RTP without SRTP
// (?encrypt=false) or without DTLS (?dtls=false). SRS can send plain RTP
// for debugging; pion, on which castd's WebRTC is built, always runs DTLS
// and SRTP and has no switch to turn them off (its SettingEngine only
// offers NULL-cipher SRTP profiles, which are still SRTP: packets carry an
// authentication tag that a client expecting plain RTP cannot parse).
// rtc_server.black_hole gives the same view of the media: plain RTP.
var errPlaintext = errors.New("rtc: plain RTP (encrypt=false or dtls=false) is not supported: castd's WebRTC always uses DTLS and SRTP; use rtc_server.black_hole to see the media in the clear")

// refusePlaintext returns errPlaintext when a player asks for plain RTP in
// any of the queries (the API URL's, the stream URL's). Publishers always
// use SRTP in SRS too, so theirs is ignored, as SRS ignores it.
func (s *Server) refusePlaintext(play bool, queries ...url.Values) error {
	if !play {
		return nil
	}
	for _, q := range queries {
		if q.Get("encrypt") == "false" || q.Get("dtls") == "false" {
			s.warnOnce("plaintext", "rtc: players asking for plain RTP (?encrypt=false, ?dtls=false) are refused: "+
				"castd's WebRTC (pion) always uses DTLS and SRTP")
			return errPlaintext
		}
	}
	return nil
}
