// Package gb28181 is SRS 5's GB28181 stream caster: a SIP server that
// video devices (IPCs, NVRs) register with, and a media port where they
// send the MPEG program stream they were invited to send, in RTP over TCP
// (RFC 4571). Each device's stream is published as RTMP to an output URL
// whose [stream] is the device id, as an RTMP encoder would, so that
// hooks, HLS, DVR and the rest apply to it on the target.
//
// The call flow, with castd as the platform (GB/T 28181-2016 §9.2):
//
//	device                         castd
//	REGISTER (Expires > 0)  ──►
//	                        ◄──    200 OK
//	                        ◄──    INVITE, SDP: TCP/RTP/AVP to candidate:listen, y=SSRC
//	100 Trying, 200 OK+SDP  ──►
//	                        ◄──    ACK
//	connect to the media port, RTP (PS) with that SSRC  ──►  publish rtmp://.../[stream]
//	MESSAGE (keepalive)     ──►
//	                        ◄──    200 OK
//	BYE                     ──►    (or REGISTER with Expires 0)
//	                        ◄──    200 OK, unpublish
//
// A session is re-invited when its media does not arrive within the SIP
// timeout, or stops for the reinvite delay; it ends on BYE, on an
// unregister, after four invitations in a row without media, or when its
// SIP connection closed and the device stayed silent (no new REGISTER, no
// media) for the timeout.
//
// Publish creates a session without SIP, for an external SIP server
// (SRS's /gb/v1/publish/).
package gb28181
